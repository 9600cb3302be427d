// mac_int8: int8 weight x int8 activation + accumulator (W8A8, and DGQ after dequantization).
//
// Ports (ACC_W: accumulator width, default 32)
//   clk, rst, en, use_acc_in, acc_in   see acc_stage.v
//   w, x        int8 weight and activation (two's complement)
//   sum, ovf    combinational (latency 0): sum = (src + w * x) mod 2^ACC_W, ovf = overflow event,
//               src = use_acc_in ? acc_in : acc
//   acc, acc_ovf  registered (latency 1 cycle): sum and ovf latched when en
//
// Model: quasar::units::MacInt8::step (models/units/mac.hpp): acc_in -> sum/ovf.
module mac_int8 #(
    parameter integer ACC_W = 32
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire                    use_acc_in,
    input  wire signed [      7:0] w,
    input  wire signed [      7:0] x,
    input  wire signed [ACC_W-1:0] acc_in,
    output wire signed [ACC_W-1:0] sum,
    output wire                    ovf,
    output wire signed [ACC_W-1:0] acc,
    output wire                    acc_ovf
);
  wire signed [15:0] p;
  mul_i8xi8 mul (
      .w(w),
      .x(x),
      .p(p)
  );
  acc_stage #(
      .ACC_W (ACC_W),
      .TERM_W(16)
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
