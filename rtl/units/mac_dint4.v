// mac_dint4: dint4 weight code x int8 activation + accumulator, in half-LSB units (acc2 of spec
// w4a8-dint: the term is w2 * x, w2 = 2 * value).
//
// Parameters: SET_B (0: value set A, the default; 1: set B), ACC_W (default 32)
// Ports
//   clk, rst, en, use_acc_in, acc_in   see acc_stage.v
//   code        4-bit dint4 weight code
//   x           int8 activation
//   sum, ovf    combinational (latency 0): sum = (src + w2 * x) mod 2^ACC_W, ovf = overflow event
//   invalid     combinational: code is invalid in the set (set A 1000); it contributed 0
//   acc, acc_ovf  registered (latency 1 cycle)
//
// Model: quasar::units::MacDint4::step (models/units/mac.hpp), decode table from
// models/numerics/dint4.cpp.
module mac_dint4 #(
    parameter integer SET_B = 0,
    parameter integer ACC_W = 32
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire                    use_acc_in,
    input  wire        [      3:0] code,
    input  wire signed [      7:0] x,
    input  wire signed [ACC_W-1:0] acc_in,
    output wire signed [ACC_W-1:0] sum,
    output wire                    ovf,
    output wire                    invalid,
    output wire signed [ACC_W-1:0] acc,
    output wire                    acc_ovf
);
  wire signed [11:0] p;
  mul_dint4xi8 #(
      .SET_B(SET_B)
  ) mul (
      .code   (code),
      .x      (x),
      .p      (p),
      .invalid(invalid)
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
