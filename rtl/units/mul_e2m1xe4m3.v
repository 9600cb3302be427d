// mul_e2m1xe4m3: one lane of the MXFP4 x MXFP8 block dot product: an E2M1 weight code times an
// E4M3 activation code as the exact integer product in units of 2^-10 (spec §5: u = 10),
// combinational. Built from the decodes: a 2-bit x 4-bit significand product (two shift-adds,
// at most 3 * 15 = 45, 6 bits) shifted left by the sum of the two exponent shifts (at most
// 2 + 14 = 16), then a conditional negation. |p| <= 12 * 229376 = 2752512 < 2^22: 23 bits.
// An E4M3 NaN code contributes 0 and raises `invalid`.
// Model: elem_int(e2m1, w) * elem_int(e4m3, x) (units::block_dot, models/units/block_units.hpp).
module mul_e2m1xe4m3 (
    input  wire        [ 3:0] w,
    input  wire        [ 7:0] x,
    output wire signed [22:0] p,
    output wire               invalid
);
  wire w_neg, x_neg, x_valid;
  wire [1:0] w_sig, w_sh;
  wire [3:0] x_sig, x_sh;
  e2m1_decode dw (
      .code(w),
      .neg (w_neg),
      .sig (w_sig),
      .sh  (w_sh)
  );
  e4m3_decode dx (
      .code (x),
      .neg  (x_neg),
      .sig  (x_sig),
      .sh   (x_sh),
      .valid(x_valid)
  );
  wire [5:0] sig = (w_sig[0] ? {2'd0, x_sig} : 6'd0) + (w_sig[1] ? {1'd0, x_sig, 1'b0} : 6'd0);
  wire [4:0] sh = {3'd0, w_sh} + {1'd0, x_sh};
  wire [21:0] mag = {16'd0, sig} << sh;
  assign p = (w_neg ^ x_neg) ? -{1'b0, mag} : {1'b0, mag};
  assign invalid = ~x_valid;
endmodule
