// mac_e2m1xe4m3: the fp4xfp8 PE (w4a8-mx): an E2M1 weight code x an E4M3 activation code as the
// exact element-integer product in units of 2^-10 (spec §5: u = 10; mul_e2m1xe4m3) + accumulator.
// A block's 32 products summed from acc_in = 0 give the block's exact integer I (|I| < 2^28:
// no wrap at ACC_W = 32); the block scales are applied at the edge (mx_fp32_acc / mx_fixed_acc).
// An E4M3 NaN code contributes 0 (the datapath counts it as invalid when it is loaded, so this
// PE has no invalid port).
//
// Ports (ACC_W: accumulator width, default 32)
//   clk, rst, en, use_acc_in, acc_in   see acc_stage.v
//   w           4-bit E2M1 weight code
//   x           8-bit E4M3 activation code
//   sum, ovf    combinational (latency 0): sum = (src + elem_int(w) * elem_int(x)) mod 2^ACC_W,
//               ovf = overflow event, src = use_acc_in ? acc_in : acc
//   acc, acc_ovf  registered (latency 1 cycle): sum and ovf latched when en
//
// Model: quasar::units::MacE2m1E4m3::step (models/units/mac.hpp).
module mac_e2m1xe4m3 #(
    parameter integer ACC_W = 32
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire                    use_acc_in,
    input  wire        [      3:0] w,
    input  wire        [      7:0] x,
    input  wire signed [ACC_W-1:0] acc_in,
    output wire signed [ACC_W-1:0] sum,
    output wire                    ovf,
    output wire signed [ACC_W-1:0] acc,
    output wire                    acc_ovf
);
  wire signed [22:0] p;
  /* verilator lint_off PINCONNECTEMPTY */
  mul_e2m1xe4m3 mul (
      .w      (w),
      .x      (x),
      .p      (p),
      .invalid()
  );
  /* verilator lint_on PINCONNECTEMPTY */
  acc_stage #(
      .ACC_W (ACC_W),
      .TERM_W(23)
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
