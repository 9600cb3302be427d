// dequant_dgq: DGQ level-2 dequantization of one weight, w8 = (q - z) * S2 (spec w4a8-dgq),
// saturated to [LO, HI] with an out-of-range flag. Combinational (latency 0): the PE front
// that consumes w8 registers it.
//
// Parameters: LO, HI: the saturation range, default [-127, 127] = numerics' kDgqDequantRange
//             (tests/rtl fails if the two disagree: its exhaustive sweep hits both edges).
//             S_SIGNED: 1 (default, DGQ) the scale is int8; 0 it is uint8 (QServe's level-1 s1,
//             1..255 in a valid trace, with LO, HI = kQserveDequantRange [-128, 127]: the tile
//             of rtl/tile instantiates both).
// Ports
//   q, z   uint4 code and group zero point
//   s2     int8 integer group scale (valid traces: 1..127; any value gets the defined clamp),
//          or uint8 with S_SIGNED = 0
//   w8     int8 result
//   oor    the exact (q - z) * S2 was outside [LO, HI] (an overflow event: counted, clamped)
//
// Model: quasar::units::dequant_dgq (models/units/dequant_dgq.hpp).
module dequant_dgq #(
    parameter integer LO = -127,
    parameter integer HI = 127,
    parameter integer S_SIGNED = 1
) (
    input  wire        [3:0] q,
    input  wire        [3:0] z,
    input  wire signed [7:0] s2,
    output wire signed [7:0] w8,
    output wire              oor
);
  // q - z in -15..15 needs 5 bits; times -128..255 stays within +-3825: 13 bits.
  wire signed [12:0] d = {9'd0, q} - {9'd0, z};
  wire signed [12:0] s_x = {{5{S_SIGNED != 0 && s2[7]}}, s2};
  wire signed [12:0] v = d * s_x;
  wire signed [12:0] lo = LO[12:0];
  wire signed [12:0] hi = HI[12:0];
  wire below = v < lo;
  wire above = v > hi;

  assign oor = below | above;
  assign w8 = below ? lo[7:0] : (above ? hi[7:0] : v[7:0]);
endmodule
