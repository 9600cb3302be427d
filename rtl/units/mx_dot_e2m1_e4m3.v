// mx_dot_e2m1_e4m3: the block dot product of scheme w4a8-mx (spec §5): 32 E2M1 weight codes times
// 32 E4M3 activation codes, summed exactly as the integer I with value I * 2^-10 (the block's
// two E8M0 scales are applied by the accumulator, mx_fixed_acc or mx_fp32_acc). Combinational.
//
// Ports
//   w          32 E2M1 codes, lane k at w[4k +: 4]
//   x          32 E4M3 codes, lane k at x[8k +: 8]
//   sum        I, two's complement, 32 bits (the accumulators' port width). |I| <= 32 * 12 *
//              229376 = 88080384 < 2^27: the adder tree is 28 bits wide, sum its sign extension
//   n_invalid  the number of E4M3 NaN codes in x (0..32); each contributes 0 to I
//   invalid    n_invalid != 0
// Structure: 32 lane multipliers (mul_e2m1xe4m3: decode, 2x4-bit significand product, shift,
// negate; 23 bits each), a balanced adder tree (add_tree), a popcount of the NaN flags.
//
// Model: quasar::units::MxDotE2m1E4m3::step (models/units/block_units.hpp): the sum of
// elem_int(e4m3, x_k) * elem_int(e2m1, w_k).
module mx_dot_e2m1_e4m3 (
    input  wire        [127:0] w,
    input  wire        [255:0] x,
    output wire signed [ 31:0] sum,
    output wire        [  5:0] n_invalid,
    output wire                invalid
);
  localparam integer N = 32;
  localparam integer PW = 23;  // lane product width
  localparam integer SW = PW + 5;  // PW + clog2(N)

  wire [N*PW-1:0] prods;
  wire [   N-1:0] bad;
  genvar k;
  generate
    for (k = 0; k < N; k = k + 1) begin : g_lane
      mul_e2m1xe4m3 mul (
          .w      (w[4*k+:4]),
          .x      (x[8*k+:8]),
          .p      (prods[PW*k+:PW]),
          .invalid(bad[k])
      );
    end
  endgenerate

  wire signed [SW-1:0] s;
  add_tree #(
      .N(N),
      .W(PW)
  ) tree (
      .x(prods),
      .s(s)
  );
  assign sum = {{(32 - SW) {s[SW-1]}}, s};

  popcount #(
      .N(N)
  ) count (
      .x(bad),
      .n(n_invalid)
  );
  assign invalid = |bad;
endmodule
