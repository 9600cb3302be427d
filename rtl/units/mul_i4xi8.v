// mul_i4xi8: exact signed int4 x int8 -> 12-bit product (combinational), mac_w4a8's multiplier.
module mul_i4xi8 (
    input  wire signed [ 3:0] w,
    input  wire signed [ 7:0] x,
    output wire signed [11:0] p
);
  wire signed [11:0] w_x = {{8{w[3]}}, w};
  wire signed [11:0] x_x = {{4{x[7]}}, x};
  assign p = w_x * x_x;
endmodule
