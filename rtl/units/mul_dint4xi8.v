// mul_dint4xi8: dint4 code x int8 activation -> w2 * x, 12 bits (combinational), built as the
// spec describes: decode to {sign, is_denormal, 3-bit magnitude}; a denormal contributes the
// activation itself (w2 = +-1); otherwise a 3-bit x 8-bit product shifted left by one
// (w2 = 2 * mag); then a conditional negation. |w2 * x| <= 14 * 128 = 1792 fits 12 bits.
module mul_dint4xi8 #(
    parameter integer SET_B = 0
) (
    input  wire        [ 3:0] code,
    input  wire signed [ 7:0] x,
    output wire signed [11:0] p,
    output wire               invalid
);
  wire       neg;
  wire       denorm;
  wire [2:0] mag;
  wire       valid;
  dint4_decode #(
      .SET_B(SET_B)
  ) dec (
      .code  (code),
      .neg   (neg),
      .denorm(denorm),
      .mag   (mag),
      .valid (valid)
  );

  // 3-bit unsigned x 8-bit signed as two shift-adds: |mag * x| <= 7 * 128 fits 11 bits.
  wire signed [10:0] x_x = {{3{x[7]}}, x};
  wire signed [10:0] pp0 = mag[0] ? x_x : 11'sd0;
  wire signed [10:0] pp1 = mag[1] ? (x_x <<< 1) : 11'sd0;
  wire signed [10:0] pp2 = mag[2] ? (x_x <<< 2) : 11'sd0;
  wire signed [10:0] mx = pp0 + pp1 + pp2;

  wire signed [11:0] mag_p = denorm ? {{4{x[7]}}, x} : {mx, 1'b0};
  assign p = neg ? -mag_p : mag_p;
  assign invalid = ~valid;
endmodule
