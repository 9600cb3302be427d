// intscale_acc: the Integer Scale group accumulator of spec w4a8-is:
// acc = (acc + P * S) mod 2^ACC_W, the product exact, with an overflow flag.
//
// Parameters: P_W (partial-sum port, default 32), S_W (integer-scale port, default 32: numerics
//             stores S as int32; a narrower S_W is a synthesis option valid when every S fits),
//             ACC_W (accumulator width: 32, 40, 48 or 64)
// Ports
//   clk, rst, en, use_acc_in, acc_in   see acc_stage.v
//   p           group partial sum P (two's complement)
//   s           integer group scale S (two's complement; valid traces have S >= 1)
//   sum, ovf    combinational (latency 0): sum = (src + P * S) mod 2^ACC_W, ovf = the exact
//               src + P * S leaves ACC_W bits (an `intscale_acc` overflow event)
//   acc, acc_ovf  registered (latency 1 cycle)
//
// Model: quasar::units::IntScaleAcc::step (models/units/intscale_acc.hpp).
module intscale_acc #(
    parameter integer P_W   = 32,
    parameter integer S_W   = 32,
    parameter integer ACC_W = 32
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire                    use_acc_in,
    input  wire signed [  P_W-1:0] p,
    input  wire signed [  S_W-1:0] s,
    input  wire signed [ACC_W-1:0] acc_in,
    output wire signed [ACC_W-1:0] sum,
    output wire                    ovf,
    output wire signed [ACC_W-1:0] acc,
    output wire                    acc_ovf
);
  localparam integer PROD_W = P_W + S_W;  // exact for any pair of signed operands

  wire signed [PROD_W-1:0] p_x = {{S_W{p[P_W-1]}}, p};
  wire signed [PROD_W-1:0] s_x = {{P_W{s[S_W-1]}}, s};
  wire signed [PROD_W-1:0] prod = p_x * s_x;

  acc_stage #(
      .ACC_W (ACC_W),
      .TERM_W(PROD_W)
  ) stage (
      .clk       (clk),
      .rst       (rst),
      .en        (en),
      .use_acc_in(use_acc_in),
      .acc_in    (acc_in),
      .term      (prod),
      .sum       (sum),
      .ovf       (ovf),
      .acc       (acc),
      .acc_ovf   (acc_ovf)
  );
endmodule
