// mx_term_fp32: the block term of `block_acc: fp32` (spec §5): F32(I * 2^s) with
// s = sx + sw - 254 - UNIT, one round to nearest even of the exact value, IEEE subnormals, overflow
// to infinity. Combinational.
//
// Parameters: UNIT (u of the element pair: 10, 2 or 12)
// Ports
//   i        the block sum I (two's complement, any int32)
//   sx, sw   the two E8M0 scale codes (255 is not special here: mx_fp32_acc discards the term)
//   f        binary32 bits; I = 0 gives +0, a negative I that rounds to zero gives -0
// Structure: i32_to_fp32 with an exponent offset. |I| is normalized (fp_norm), so the exact
// value is |I| / 2^31 * 2^(31 - lz + s); its leading bit's biased exponent is
// 127 + 31 - lz + s = sx + sw - lz - 96 - UNIT, and fp32_round rounds once from the 26 kept bits
// plus a sticky bit, shifting right with the sticky bit when the result is subnormal.
//
// Model: quasar::block_term_fp32(I, mx_block_shift(sx, sw, UNIT)) (block_formats.hpp), through
// units::MxFp32Acc (models/units/block_units.hpp).
module mx_term_fp32 #(
    parameter integer UNIT = 10
) (
    input  wire signed [31:0] i,
    input  wire        [ 7:0] sx,
    input  wire        [ 7:0] sw,
    output wire        [31:0] f
);
  localparam signed [11:0] OFF = 12'(-96 - UNIT);

  wire neg = i[31];
  wire [31:0] mag = neg ? (~i + 32'd1) : i;  // 2^31 for INT32_MIN: fits unsigned
  wire [31:0] mn;
  wire [4:0] lz;
  fp_norm #(
      .W (32),
      .CW(5)
  ) norm (
      .x (mag),
      .y (mn),
      .lz(lz)
  );
  wire signed [11:0] e = {4'd0, sx} + {4'd0, sw} - {7'd0, lz} + OFF;
  wire [31:0] rounded;
  fp32_round rnd (
      .sign(neg),
      .exp (e),
      .sig ({mn[31:6], |mn[5:0]}),
      .f   (rounded)
  );
  assign f = (i == 32'sd0) ? 32'd0 : rounded;
endmodule
