// mul_e2m1xe2m1: one lane of the MXFP4 / NVFP4 block dot product: E2M1 x E2M1 as the exact
// integer product in units of 2^-2 (spec §5: u = 2), combinational: a 2-bit x 2-bit significand
// product (at most 9) shifted left by the sum of the exponent shifts (at most 4), then a
// conditional negation. |p| <= 12 * 12 = 144 < 2^8: 9 bits. Every E2M1 code is valid.
// Model: elem_int(e2m1, w) * elem_int(e2m1, x) (units::block_dot).
module mul_e2m1xe2m1 (
    input  wire        [3:0] w,
    input  wire        [3:0] x,
    output wire signed [8:0] p
);
  wire w_neg, x_neg;
  wire [1:0] w_sig, w_sh, x_sig, x_sh;
  e2m1_decode dw (
      .code(w),
      .neg (w_neg),
      .sig (w_sig),
      .sh  (w_sh)
  );
  e2m1_decode dx (
      .code(x),
      .neg (x_neg),
      .sig (x_sig),
      .sh  (x_sh)
  );
  wire [3:0] sig = (w_sig[0] ? {2'd0, x_sig} : 4'd0) + (w_sig[1] ? {1'd0, x_sig, 1'b0} : 4'd0);
  wire [2:0] sh = {1'd0, w_sh} + {1'd0, x_sh};
  wire [7:0] mag = {4'd0, sig} << sh;
  assign p = (w_neg ^ x_neg) ? -{1'b0, mag} : {1'b0, mag};
endmodule
