// mx_fp32_acc: one block step of the `block_acc: fp32` accumulator (spec §5, the default):
//   term = F32(I * 2^(sx + sw - 254 - UNIT))   one RNE of the exact value (mx_term_fp32)
//   sum  = F32(src + term)                     one RNE add (fp32_add), src = use_acc_in ? acc_in
//                                              : acc
// IEEE binary32 with subnormals, infinities and NaNs; NaN results are the canonical quiet NaN
// 0x7fc00000 (fp32_add's rule). A scale code of 255 (E8M0 NaN) makes the block contribute
// nothing: sum = src bit for bit (no add, so even -0 and NaN payloads pass unchanged), and
// `invalid_scale` is raised.
//
// Parameters: UNIT (u of the element pair: 10, 2 or 12)
// Ports
//   clk, rst, en, use_acc_in   as floatscale_acc.v (synchronous reset: acc <= +0)
//   i              the block sum I (two's complement; a dot unit's `sum`)
//   sx, sw         the activation and weight E8M0 scale codes
//   acc_in         binary32 accumulator input
//   term           combinational: F32(I * 2^s), whatever the scale codes
//   sum            combinational (latency 0) result, binary32 bits
//   invalid_scale  sx = 255 or sw = 255 (an invalid event)
//   acc, acc_invalid  sum and invalid_scale registered when en (latency 1 cycle)
//
// Model: quasar::units::MxFp32Acc::step (models/units/block_units.hpp): block_term_fp32 and a
// C++ float add.
module mx_fp32_acc #(
    parameter integer UNIT = 10
) (
    input  wire               clk,
    input  wire               rst,
    input  wire               en,
    input  wire               use_acc_in,
    input  wire signed [31:0] i,
    input  wire        [ 7:0] sx,
    input  wire        [ 7:0] sw,
    input  wire        [31:0] acc_in,
    output wire        [31:0] term,
    output wire        [31:0] sum,
    output wire               invalid_scale,
    output reg         [31:0] acc,
    output reg                acc_invalid
);
  mx_term_fp32 #(
      .UNIT(UNIT)
  ) conv (
      .i (i),
      .sx(sx),
      .sw(sw),
      .f (term)
  );
  wire [31:0] src = use_acc_in ? acc_in : acc;
  wire [31:0] added;
  fp32_add add (
      .a(src),
      .b(term),
      .s(added)
  );
  assign invalid_scale = (sx == 8'hff) | (sw == 8'hff);
  assign sum = invalid_scale ? src : added;

  always @(posedge clk) begin
    if (rst) begin
      acc         <= 32'd0;
      acc_invalid <= 1'b0;
    end else if (en) begin
      acc         <= sum;
      acc_invalid <= invalid_scale;
    end
  end
endmodule
