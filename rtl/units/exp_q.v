// exp_q: the project's one fp32 exponential (arithmetic spec §7), bit for bit:
//   t = F32(x * L), L = F32(log2 e) = 0x3FB8AA3B
//   t NaN -> 0x7fc00000;  t >= 128 -> +inf;  t < -126 -> +0 [the spec's flush]
//   n = floor(t) in [-126, 127];  f = F32(t - n) in [0, 1] (rounds, possibly to 1.0, only for
//   t in (-1, 0))
//   p = (((c4 f + c3) f + c2) f + c1) f + c0, every multiply and add rounded RNE on its own
//   (fp32_mul, fp32_add: no fused multiply-add)
//   y = p * 2^n, built exactly by adding n to p's exponent field (p in [1, 2)).
// All float steps are the shared IEEE binary32 units (fp32_mul, fp32_add, i32_to_fp32: RNE,
// subnormals, canonical NaN); only floor(t) and the final exponent add are written here.
// t - n is computed as t + (-F32(n)) with -F32(n) the sign-flipped conversion of n, the same
// IEEE result as the subtraction, zero signs included (t = -0: n = 0, f = -0 + -0 = -0).
//
// Ports: x (binary32 bits) -> y = exp_q(x) (binary32 bits); combinational, latency 0.
// Model: quasar::exp_q (models/numerics/exp_q.hpp) through quasar::units::ExpQ::step
// (models/units/float_units.hpp).
module exp_q (
    input  wire [31:0] x,
    output wire [31:0] y
);
  localparam [31:0] LOG2E = 32'h3FB8AA3B;
  localparam [31:0] C0 = 32'h3F800000;
  localparam [31:0] C1 = 32'h3F3168B1;
  localparam [31:0] C2 = 32'h3E773CD3;
  localparam [31:0] C3 = 32'h3D5509F0;
  localparam [31:0] C4 = 32'h3C5DBDF8;

  wire [31:0] t;
  fp32_mul scale (
      .a(x),
      .b(LOG2E),
      .p(t)
  );

  // Classes of t. Magnitudes compare as integers: 128 = 0x43000000, 126 = 0x42FC0000.
  wire t_nan = t[30:23] == 8'hff && t[22:0] != 23'd0;
  wire t_big = ~t[31] & (t[30:0] >= 31'h43000000);  // t >= 128, +inf included
  wire t_small = t[31] & (t[30:0] > 31'h42FC0000);  // t < -126, -inf included

  // floor(t) for |t| < 128 (other t are never used): the integer part of |t| is the
  // significand shifted right by 150 - e (e = 127 .. 133), zero for e < 127; a negative t with
  // a nonzero fraction rounds down one more.
  wire [7:0] te = t[30:23];
  wire [23:0] tm = {te != 8'd0, t[22:0]};
  wire t_ge1 = te >= 8'd127;
  wire [7:0] sh = 8'd150 - te;  // 17 .. 23 for e = 127 .. 133
  wire [6:0] ip = t_ge1 ? (tm[23:17] >> (sh - 8'd17)) : 7'd0;
  wire [23:0] frac_mask = ~(24'hffffff << sh);
  wire frac_nz = t_ge1 ? ((tm & frac_mask) != 24'd0) : (t[30:0] != 31'd0);
  // n = ip (t >= 0), -ip - frac_nz (t < 0): 9-bit two's complement, -126 .. 127.
  wire [8:0] ip9 = {2'b00, ip};
  wire [8:0] n = t[31] ? (~ip9 + 9'd1 - {8'd0, frac_nz}) : ip9;

  wire [31:0] nf;
  i32_to_fp32 conv (
      .i({{23{n[8]}}, n}),
      .f(nf)
  );
  wire [31:0] f;
  fp32_add frac (
      .a(t),
      .b({~nf[31], nf[30:0]}),
      .s(f)
  );

  // Horner: p_k = F32(F32(p_{k+1} * f) + c_k), p_4 = c4.
  wire [31:0] m3, m2, m1, m0, p3, p2, p1, p0;
  fp32_mul mul3 (
      .a(C4),
      .b(f),
      .p(m3)
  );
  fp32_add add3 (
      .a(m3),
      .b(C3),
      .s(p3)
  );
  fp32_mul mul2 (
      .a(p3),
      .b(f),
      .p(m2)
  );
  fp32_add add2 (
      .a(m2),
      .b(C2),
      .s(p2)
  );
  fp32_mul mul1 (
      .a(p2),
      .b(f),
      .p(m1)
  );
  fp32_add add1 (
      .a(m1),
      .b(C1),
      .s(p1)
  );
  fp32_mul mul0 (
      .a(p1),
      .b(f),
      .p(m0)
  );
  fp32_add add0 (
      .a(m0),
      .b(C0),
      .s(p0)
  );

  // p0 in [1, 2) and n in [-126, 127]: adding n to the exponent field is exact (mod 2^32, as
  // the C++ adds static_cast<uint32_t>(n) << 23).
  wire [31:0] scaled = p0 + {n, 23'd0};
  assign y = t_nan ? 32'h7fc00000 : t_big ? 32'h7f800000 : t_small ? 32'h00000000 : scaled;
endmodule
