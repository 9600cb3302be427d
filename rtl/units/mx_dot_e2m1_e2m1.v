// mx_dot_e2m1_e2m1: the block dot product of schemes w4a4-mxfp4 (N = 32) and w4a4-nvfp4
// (N = 16) (spec §5): N E2M1 weight codes times N E2M1 activation codes, summed exactly as the
// integer I with value I * 2^-2 (the scales are applied by the accumulator). Combinational.
//
// Parameters: N (block size: 32 for MXFP4, 16 for NVFP4; any N >= 1)
// Ports
//   w, x   N E2M1 codes each, lane k at [4k +: 4]
//   sum    I, two's complement, 32 bits. |I| <= N * 144 (4608 for N = 32): the adder tree is
//          9 + clog2(N) bits wide, sum its sign extension
// Every E2M1 code is valid: there is no invalid output.
// Structure: N lane multipliers (mul_e2m1xe2m1, 9 bits each) and a balanced adder tree.
//
// Model: quasar::units::MxDotE2m1E2m1::step (models/units/block_units.hpp).
module mx_dot_e2m1_e2m1 #(
    parameter integer N = 32
) (
    input  wire        [4*N-1:0] w,
    input  wire        [4*N-1:0] x,
    output wire signed [   31:0] sum
);
  localparam integer PW = 9;
  localparam integer SW = PW + $clog2(N);

  wire [N*PW-1:0] prods;
  genvar k;
  generate
    for (k = 0; k < N; k = k + 1) begin : g_lane
      mul_e2m1xe2m1 mul (
          .w(w[4*k+:4]),
          .x(x[4*k+:4]),
          .p(prods[PW*k+:PW])
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
endmodule
