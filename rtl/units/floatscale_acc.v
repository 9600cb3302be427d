// floatscale_acc: one group step of w4a8-fs's rescale (the float path Integer Scale removes):
//   sum = F32( F32( F32(P) * s ) + src ),  src = use_acc_in ? acc_in : acc
// three separate RNE roundings in exactly the spec's order (convert, multiply, add; no fused
// multiply-add), IEEE binary32 with subnormals, infinities and NaNs.
//
// Ports
//   clk, rst      rising-edge clock; synchronous active-high reset (acc <= +0)
//   en            when 1 at a rising edge, acc <= sum
//   use_acc_in    1: add acc_in (a preload or a neighbour's partial result); 0: add acc
//   p             int32 group partial sum P (two's complement)
//   s             fp32 group scale s[n,g] (binary32 bits)
//   acc_in        fp32 accumulator input (binary32 bits)
//   sum           combinational (latency 0) result, binary32 bits
//   acc           registered sum (latency 1 cycle)
// NaN results are the canonical quiet NaN 0x7fc00000 (the model canonicalizes the same way).
//
// Model: quasar::units::FloatScaleAcc::step (models/units/float_units.hpp), which computes
// `acc + static_cast<float>(p) * s` in C++ floats (-ffp-contract=off) as gemm_w4a8_fs does.
module floatscale_acc (
    input  wire               clk,
    input  wire               rst,
    input  wire               en,
    input  wire               use_acc_in,
    input  wire signed [31:0] p,
    input  wire        [31:0] s,
    input  wire        [31:0] acc_in,
    output wire        [31:0] sum,
    output reg         [31:0] acc
);
  wire [31:0] pf;
  wire [31:0] term;
  i32_to_fp32 conv (
      .i(p),
      .f(pf)
  );
  fp32_mul mul (
      .a(pf),
      .b(s),
      .p(term)
  );
  fp32_add add (
      .a(use_acc_in ? acc_in : acc),
      .b(term),
      .s(sum)
  );

  always @(posedge clk) begin
    if (rst) acc <= 32'd0;
    else if (en) acc <= sum;
  end
endmodule
