// mul_mxint8: one lane of the MXINT8 block dot product: int8 x int8 as the exact integer product
// in units of 2^-12 (spec §5: each element is k * 2^-6, u = 12), combinational. The code -128 is
// invalid [spec choice]: it is replaced by 0 before the multiply, so it contributes 0, and it
// raises `invalid` (one per invalid operand: n_invalid counts codes, not lanes). With -128
// excluded, |p| <= 127 * 127 = 16129 < 2^14: 15 bits, one fewer than mul_i8xi8's.
// Model: elem_int(mxint8, w) * elem_int(mxint8, x) (units::block_dot).
module mul_mxint8 (
    input  wire signed [ 7:0] w,
    input  wire signed [ 7:0] x,
    output wire signed [14:0] p,
    output wire        [ 1:0] invalid
);
  wire w_bad = w == 8'sh80;
  wire x_bad = x == 8'sh80;
  wire signed [14:0] w_x = w_bad ? 15'sd0 : {{7{w[7]}}, w};
  wire signed [14:0] x_x = x_bad ? 15'sd0 : {{7{x[7]}}, x};
  // The low 15 bits of the product of the sign-extended operands are the exact product.
  assign p = w_x * x_x;
  assign invalid = {w_bad, x_bad};
endmodule
