// mac_fp16: fp16 x fp16 with fp32 accumulation, one k step of the fp16 / w4a16 baselines:
//   sum = F32( src + F32(w) * F32(x) ),  src = use_acc_in ? acc_in : acc
// The product is exact in binary32 (fp16_mul_f32); the add rounds RNE (fp32_add). This is
// gemm_fp16's per-step `sum[n] + xv * wrow[n]` (no FMA).
//
// Ports
//   clk, rst, en, use_acc_in   as in floatscale_acc.v (reset value +0)
//   w, x          binary16 weight and activation bits
//   acc_in        binary32 accumulator input bits
//   sum           combinational (latency 0), binary32 bits
//   acc           registered sum (latency 1 cycle)
// NaN results are the canonical quiet NaN 0x7fc00000.
//
// Model: quasar::units::MacFp16::step (models/units/float_units.hpp).
module mac_fp16 (
    input  wire        clk,
    input  wire        rst,
    input  wire        en,
    input  wire        use_acc_in,
    input  wire [15:0] w,
    input  wire [15:0] x,
    input  wire [31:0] acc_in,
    output wire [31:0] sum,
    output reg  [31:0] acc
);
  wire [31:0] prod;
  fp16_mul_f32 mul (
      .a(w),
      .b(x),
      .p(prod)
  );
  fp32_add add (
      .a(use_acc_in ? acc_in : acc),
      .b(prod),
      .s(sum)
  );

  always @(posedge clk) begin
    if (rst) acc <= 32'd0;
    else if (en) acc <= sum;
  end
endmodule
