// i32_to_fp32: a W-bit two's-complement integer (W = 32 by default: int32) -> IEEE binary32,
// round to nearest even (the F32(P) of spec w4a8-fs; with W = 48, F32(acc) of a 48-bit fixed
// block accumulator, spec §5). Every such integer is finite in binary32 (W <= 128); |i| > 2^24
// rounds. The most negative value is exact (-2^(W-1)).
//
// Parameters: W (bits of i, 27..64)
// Ports: i (two's complement) -> f (binary32 bits, combinational, latency 0); 0 -> +0.
// Model: static_cast<float>(std::int32_t) (quasar::units::FloatScaleAcc, models/units), and
// static_cast<float>(std::int64_t) of the accumulator (fixed_acc_to_f32, block_formats.hpp).
module i32_to_fp32 #(
    parameter integer W = 32
) (
    input  wire signed [W-1:0] i,
    output wire        [ 31:0] f
);
  localparam integer CW = $clog2(W);
  wire neg = i[W-1];
  wire [W-1:0] mag = neg ? (~i + 1'b1) : i;  // 2^(W-1) for the most negative: fits unsigned
  wire [W-1:0] mn;
  wire [CW-1:0] lz;
  fp_norm #(
      .W (W),
      .CW(CW)
  ) norm (
      .x (mag),
      .y (mn),
      .lz(lz)
  );
  wire [31:0] rounded;
  // fp32_round's sig: the top 26 bits (24 significand bits, guard, round), then the sticky OR
  // of the rest.
  fp32_round rnd (
      .sign(neg),
      .exp (12'(126 + W) - 12'(lz)),  // 127 + (W - 1) - lz
      .sig ({mn[W-1-:26], |mn[W-27:0]}),
      .f   (rounded)
  );
  assign f = (i == 0) ? 32'd0 : rounded;
endmodule
