// mac_w4a8: int4 weight x int8 activation + accumulator (W4A8 symmetric group schemes).
//
// Ports (ACC_W: accumulator width, default 32)
//   clk, rst, en, use_acc_in, acc_in   see acc_stage.v
//   w           int4 weight code (two's complement, -8..7)
//   x           int8 activation
//   sum, ovf    combinational (latency 0): sum = (src + w * x) mod 2^ACC_W, ovf = overflow event
//   acc, acc_ovf  registered (latency 1 cycle)
//
// Model: quasar::units::MacW4A8::step (models/units/mac.hpp).
module mac_w4a8 #(
    parameter integer ACC_W = 32
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire                    use_acc_in,
    input  wire signed [      3:0] w,
    input  wire signed [      7:0] x,
    input  wire signed [ACC_W-1:0] acc_in,
    output wire signed [ACC_W-1:0] sum,
    output wire                    ovf,
    output wire signed [ACC_W-1:0] acc,
    output wire                    acc_ovf
);
  wire signed [11:0] p;
  mul_i4xi8 mul (
      .w(w),
      .x(x),
      .p(p)
  );
  acc_stage #(
      .ACC_W (ACC_W),
      .TERM_W(12)
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
