// mac_e2m1xe2m1: the fp4 PE (w4a4-mxfp4, w4a4-nvfp4): E2M1 x E2M1 as the exact element-integer
// product in units of 2^-2 (spec §5: u = 2; mul_e2m1xe2m1) + accumulator. A block's 32 (MXFP4)
// or 16 (NVFP4) products summed from acc_in = 0 give the block's exact integer I; the block
// scales are applied at the edge. Every E2M1 code is valid.
//
// Ports (ACC_W: accumulator width, default 32)
//   clk, rst, en, use_acc_in, acc_in   see acc_stage.v
//   w, x        4-bit E2M1 weight and activation codes
//   sum, ovf    combinational (latency 0): sum = (src + elem_int(w) * elem_int(x)) mod 2^ACC_W,
//               ovf = overflow event, src = use_acc_in ? acc_in : acc
//   acc, acc_ovf  registered (latency 1 cycle): sum and ovf latched when en
//
// Model: quasar::units::MacE2m1E2m1::step (models/units/mac.hpp).
module mac_e2m1xe2m1 #(
    parameter integer ACC_W = 32
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire                    use_acc_in,
    input  wire        [      3:0] w,
    input  wire        [      3:0] x,
    input  wire signed [ACC_W-1:0] acc_in,
    output wire signed [ACC_W-1:0] sum,
    output wire                    ovf,
    output wire signed [ACC_W-1:0] acc,
    output wire                    acc_ovf
);
  wire signed [8:0] p;
  mul_e2m1xe2m1 mul (
      .w(w),
      .x(x),
      .p(p)
  );
  acc_stage #(
      .ACC_W (ACC_W),
      .TERM_W(9)
  ) stage (
      .clk       (clk),
      .rst       (rst),
      .en        (en),
      .use_acc_in(use_acc_in),
      .acc_in    (acc_in),
      .term      (p),
      .sum       (sum),
      .ovf       (ovf),
      .acc       (acc),
      .acc_ovf   (acc_ovf)
  );
endmodule
