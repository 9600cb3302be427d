// mx_fixed_acc: one block step of the `block_acc: fixed` accumulator (spec §5), the
// power-of-two analogue of intscale_acc: the block's exact integer I is aligned to the
// accumulator's fixed point by a shift (no multiplier) and added with wrap-around.
//   s     = sx + sw - 254 - UNIT + FRAC
//   c     = I * 2^s as ACC_W-bit two's complement: a left shift when s >= 0 (wraps; `ovf` when
//           it does not fit), an arithmetic right shift rounded to nearest, ties to even, when
//           s < 0 (`align_round` when a non-zero remainder was discarded)
//   sum   = (src + c) mod 2^ACC_W, src = use_acc_in ? acc_in : acc
// A scale code of 255 (E8M0 NaN) makes the block contribute 0: sum = src, `invalid_scale`.
//
// Parameters: UNIT (u of the element pair: 10 for E2M1 x E4M3, 2 for E2M1 x E2M1, 12 for
//             MXINT8), ACC_W (accumulator bits, 2..64, default 48), FRAC (fraction bits of the
//             accumulator, default 24)
// Ports
//   clk, rst, en, use_acc_in, acc_in   as acc_stage.v (synchronous reset clears acc and flags)
//   i              the block sum I (two's complement; a dot unit's `sum`)
//   sx, sw         the activation and weight E8M0 scale codes
//   sum            combinational (latency 0) result
//   ovf            c did not fit ACC_W bits, or src + c left ACC_W bits (an overflow event)
//   ovf_term, ovf_add  the two apart (the spec counts each: a step can raise both; rtl/tile
//                  counts them)
//   align_round    the right shift discarded a non-zero remainder (an align_round event)
//   invalid_scale  sx = 255 or sw = 255 (an invalid event); then c = 0 and no other flag
//   acc, acc_ovf, acc_round, acc_invalid   sum and the three flags registered when en
//                  (latency 1 cycle)
// Structure: one left shifter does both directions. I, sign-extended, sits 32 bits above the
// bottom of an ACC_W + 64-bit field and is shifted left by clamp(s, -32, ACC_W) + 32: the bits
// above bit 32 are floor(I * 2^s), the 32 below the discarded fraction (guard bit, then
// sticky). Shifts past either clamp change nothing: s >= ACC_W leaves only zeros in the
// ACC_W kept bits (overflow iff I != 0), and s <= -32 rounds every int32 to 0 (|I| <= 2^31,
// and -2^31 * 2^-32 = -1/2 is a tie to the even 0).
//
// Model: quasar::units::MxFixedAcc::step (models/units/block_units.hpp): mx_block_shift,
// block_term_fixed and units::accumulate.
module mx_fixed_acc #(
    parameter integer UNIT  = 10,
    parameter integer ACC_W = 48,
    parameter integer FRAC  = 24
) (
    input  wire                    clk,
    input  wire                    rst,
    input  wire                    en,
    input  wire                    use_acc_in,
    input  wire signed [     31:0] i,
    input  wire        [      7:0] sx,
    input  wire        [      7:0] sw,
    input  wire signed [ACC_W-1:0] acc_in,
    output wire signed [ACC_W-1:0] sum,
    output wire                    ovf,
    output wire                    ovf_term,
    output wire                    ovf_add,
    output wire                    align_round,
    output wire                    invalid_scale,
    output reg  signed [ACC_W-1:0] acc,
    output reg                     acc_ovf,
    output reg                     acc_round,
    output reg                     acc_invalid
);
  localparam integer XW = ACC_W + 64;  // I (32 bits) shifted left by up to ACC_W + 32
  localparam integer TW = ACC_W + 32;  // the integer part: exact for every shift
  // s + 32 = sx + sw + (32 - 254 - UNIT + FRAC): the shifter's amount before clamping.
  localparam signed [11:0] OFF = 12'(32 - 254 - UNIT + FRAC);
  localparam signed [11:0] KMAX = 12'(ACC_W + 32);

  assign invalid_scale = (sx == 8'hff) | (sw == 8'hff);

  wire signed [11:0] sp = {4'd0, sx} + {4'd0, sw} + OFF;
  wire [7:0] k = (sp < 12'sd0) ? 8'd0 : (sp > KMAX) ? KMAX[7:0] : sp[7:0];

  wire [XW-1:0] aligned = {{(XW - 32) {i[31]}}, i} << k;
  wire [TW-1:0] ip = aligned[XW-1:32];  // floor(I * 2^s)
  wire [31:0] frac = aligned[31:0];
  wire up = frac[31] & ((|frac[30:0]) | ip[0]);  // RNE: above half, or a tie to odd
  wire [TW-1:0] term = ip + {{(TW - 1) {1'b0}}, up};
  // The term fits ACC_W bits iff every bit from ACC_W - 1 up is a copy of one sign.
  wire [TW-ACC_W:0] term_top = term[TW-1:ACC_W-1];
  wire term_ovf = ~((&term_top) | ~(|term_top));

  wire signed [ACC_W-1:0] c = invalid_scale ? {ACC_W{1'b0}} : term[ACC_W-1:0];
  wire signed [ACC_W-1:0] src = use_acc_in ? acc_in : acc;
  wire signed [ACC_W:0] exact = {src[ACC_W-1], src} + {c[ACC_W-1], c};
  wire add_ovf = exact[ACC_W] ^ exact[ACC_W-1];

  assign sum = exact[ACC_W-1:0];
  assign ovf_term = ~invalid_scale & term_ovf;
  assign ovf_add = ~invalid_scale & add_ovf;
  assign ovf = ovf_term | ovf_add;
  assign align_round = ~invalid_scale & (|frac);

  always @(posedge clk) begin
    if (rst) begin
      acc         <= {ACC_W{1'b0}};
      acc_ovf     <= 1'b0;
      acc_round   <= 1'b0;
      acc_invalid <= 1'b0;
    end else if (en) begin
      acc         <= sum;
      acc_ovf     <= ovf;
      acc_round   <= align_round;
      acc_invalid <= invalid_scale;
    end
  end
endmodule
