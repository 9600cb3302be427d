// mul_i8xi8: exact signed 8 x 8 -> 16-bit product (combinational). The multiplier of mac_int8;
// a module of its own so rtl/synth can report the multiplier's area apart from the accumulator.
module mul_i8xi8 (
    input  wire signed [ 7:0] w,
    input  wire signed [ 7:0] x,
    output wire signed [15:0] p
);
  // Operands sign-extended to the product width: the low 16 bits of the 16 x 16 product are
  // the exact signed product.
  wire signed [15:0] w_x = {{8{w[7]}}, w};
  wire signed [15:0] x_x = {{8{x[7]}}, x};
  assign p = w_x * x_x;
endmodule
