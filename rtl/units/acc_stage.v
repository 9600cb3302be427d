// acc_stage: the accumulate-and-register back end shared by every MAC-shaped unit.
//
// Ports
//   clk, rst      rising-edge clock; synchronous active-high reset (acc <= 0, acc_ovf <= 0)
//   en            when 1 at a rising edge, acc <= sum and acc_ovf <= ovf
//   use_acc_in    selects the addend: 1 = acc_in (a partial sum arriving from a neighbour,
//                 or a preload), 0 = this stage's own register acc (output-stationary use)
//   acc_in        ACC_W-bit two's complement addend
//   term          TERM_W-bit two's complement term (the unit's exact product)
//   sum, ovf      combinational: sum = (src + term) mod 2^ACC_W; ovf = the exact src + term
//                 does not fit in ACC_W bits (an overflow event, spec preamble)
//   acc, acc_ovf  registered sum and ovf: latency 1 cycle from the operands
//
// Model: quasar::units::accumulate (models/units/acc_step.hpp).
module acc_stage #(
    parameter integer ACC_W  = 32,
    parameter integer TERM_W = 16
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire                    use_acc_in,
    input  wire signed [ ACC_W-1:0] acc_in,
    input  wire signed [TERM_W-1:0] term,
    output wire signed [ ACC_W-1:0] sum,
    output wire                    ovf,
    output reg  signed [ ACC_W-1:0] acc,
    output reg                     acc_ovf
);
  // One bit wider than both operands: the exact sum always fits.
  localparam integer SUM_W = (ACC_W > TERM_W ? ACC_W : TERM_W) + 1;

  wire signed [ACC_W-1:0] src = use_acc_in ? acc_in : acc;
  wire signed [SUM_W-1:0] src_x = {{(SUM_W - ACC_W) {src[ACC_W-1]}}, src};
  wire signed [SUM_W-1:0] term_x = {{(SUM_W - TERM_W) {term[TERM_W-1]}}, term};
  wire signed [SUM_W-1:0] exact = src_x + term_x;
  // The exact sum fits in ACC_W bits iff all bits from ACC_W-1 up are copies of one sign.
  wire [SUM_W-ACC_W:0] top = exact[SUM_W-1:ACC_W-1];

  assign sum = exact[ACC_W-1:0];
  assign ovf = ~((&top) | ~(|top));

  always @(posedge clk) begin
    if (rst) begin
      acc     <= {ACC_W{1'b0}};
      acc_ovf <= 1'b0;
    end else if (en) begin
      acc     <= sum;
      acc_ovf <= ovf;
    end
  end
endmodule
