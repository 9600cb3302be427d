// f32_to_f16: IEEE binary32 -> binary16, round to nearest, ties to even, with gradual underflow
// (subnormals) and overflow to infinity; a NaN stays a NaN, quiet, with the top 10 bits of its
// payload.
//
// Ports: f (binary32 bits) -> h (binary16 bits, combinational, latency 0)
// Model: quasar::f32_to_f16 (models/numerics/float_formats.hpp), the reference GEMMs' output
// conversion; equal bit for bit on every class boundary and 2^22 random inputs (tests/tile).
module f32_to_f16 (
    input  wire [31:0] f,
    output wire [15:0] h
);
  wire [15:0] sign = {f[31], 15'd0};
  wire [30:0] a = f[30:0];
  // Normal results: rebias (127 -> 15) and round off 13 fraction bits; a carry out of the
  // fraction bumps the exponent, up to infinity.
  // In the normal range (2^-14 <= |f| < 65520) a - (112 << 23) is below 2^28, so its low 28
  // bits are a[27:0] - 2^27 (112 << 23 = 0x38000000 is 2^27 modulo 2^28), and the rounded
  // result (at most 0x7c00, infinity) fits 15 bits.
  wire [27:0] rebias = a[27:0] - 28'h8000000;
  wire [14:0] n_kept = rebias[27:13];
  wire [12:0] n_rem = rebias[12:0];
  wire n_up = n_rem > 13'h1000 || (n_rem == 13'h1000 && n_kept[0]);
  wire [14:0] n_val = n_kept + {14'd0, n_up};
  // Subnormal results (2^-25 < |f| < 2^-14): the significand 1.m shifted right by
  // 126 - exp (14 .. 24) bits, rounded.
  wire [7:0] e = a[30:23];
  wire [23:0] sig = {1'b1, a[22:0]};
  wire [4:0] sh = 5'(8'd126 - e);
  // (sh >= 14: the kept bits are at most 2^10, and with the rounding 0x400, the smallest normal.)
  /* verilator lint_off UNUSEDSIGNAL */
  wire [23:0] s_kept = sig >> sh;
  /* verilator lint_on UNUSEDSIGNAL */
  wire [23:0] s_mask = (24'd1 << sh) - 24'd1;
  wire [23:0] s_rem = sig & s_mask;
  wire [23:0] s_half = 24'd1 << (sh - 5'd1);
  wire s_up = s_rem > s_half || (s_rem == s_half && s_kept[0]);
  wire [10:0] s_val = s_kept[10:0] + {10'd0, s_up};
  assign h = a > 31'h7f800000 ? (sign | 16'h7e00 | {6'd0, a[22:13]})  // NaN: quiet
           : a >= 31'h477ff000 ? (sign | 16'h7c00)  // rounds to 2^16 or beyond: infinity
           : a <= 31'h33000000 ? sign  // at or below 2^-25: zero (the tie goes to even 0)
           : a < 31'h38800000 ? (sign | {5'd0, s_val})
           : (sign | {1'b0, n_val});
endmodule
