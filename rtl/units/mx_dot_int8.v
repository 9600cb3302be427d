// mx_dot_int8: the block dot product of scheme w8a8-mxint8 (spec §5): 32 MXINT8 weight codes
// times 32 MXINT8 activation codes, summed exactly as the integer I with value I * 2^-12 (the
// scales are applied by the accumulator). Combinational.
//
// Ports
//   w, x       32 int8 codes each (two's complement), lane k at [8k +: 8]
//   sum        I, two's complement, 32 bits. |I| <= 32 * 127 * 127 = 516128 < 2^19: the adder
//              tree is 20 bits wide, sum its sign extension
//   n_invalid  the number of -128 codes in w and x together (0..64) [spec choice: -128 is
//              invalid]; each contributes 0 (its lane's product is 0)
//   invalid    n_invalid != 0
// Structure: 32 lane multipliers (mul_mxint8, 15 bits each), a balanced adder tree, a popcount.
//
// Model: quasar::units::MxDotInt8::step (models/units/block_units.hpp).
module mx_dot_int8 (
    input  wire        [255:0] w,
    input  wire        [255:0] x,
    output wire signed [ 31:0] sum,
    output wire        [  6:0] n_invalid,
    output wire                invalid
);
  localparam integer N = 32;
  localparam integer PW = 15;
  localparam integer SW = PW + 5;  // PW + clog2(N)

  wire [N*PW-1:0] prods;
  wire [ 2*N-1:0] bad;
  genvar k;
  generate
    for (k = 0; k < N; k = k + 1) begin : g_lane
      mul_mxint8 mul (
          .w      (w[8*k+:8]),
          .x      (x[8*k+:8]),
          .p      (prods[PW*k+:PW]),
          .invalid(bad[2*k+:2])
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
      .N(2 * N)
  ) count (
      .x(bad),
      .n(n_invalid)
  );
  assign invalid = |bad;
endmodule
