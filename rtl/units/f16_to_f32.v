// f16_to_f32: IEEE binary16 -> binary32, exact (every binary16 value is a binary32 value).
// Subnormal inputs become normal binary32; infinities stay infinite; a NaN keeps its sign and
// payload (shifted into the top fraction bits), not quieted.
//
// Ports: h (binary16 bits) -> f (binary32 bits, combinational, latency 0)
// Model: quasar::f16_to_f32 (models/numerics/float_formats.hpp), bit for bit on all 65536
// inputs (tests/tile).
module f16_to_f32 (
    input  wire [15:0] h,
    output wire [31:0] f
);
  wire       sign = h[15];
  wire [4:0] exp = h[14:10];
  wire [9:0] mant = h[9:0];
  // Subnormal: value mant * 2^-24 with its leading one at bit p = 9 - lz: binary32 exponent
  // p - 24 + 127 = 112 - lz, fraction the bits below the leading one.
  reg  [3:0] lz;
  integer    b;
  always @* begin
    lz = 4'd0;
    for (b = 0; b < 10; b = b + 1) if (mant[b]) lz = 4'(9 - b);
  end
  wire [9:0] sub_frac = mant << (lz + 4'd1);
  wire [7:0] sub_exp = 8'd112 - {4'd0, lz};
  assign f = exp == 5'd0 ? (mant == 10'd0 ? {sign, 31'd0} : {sign, sub_exp, sub_frac, 13'd0})
           : exp == 5'd31 ? {sign, 8'hff, mant, 13'd0}
           : {sign, {3'd0, exp} + 8'd112, mant, 13'd0};
endmodule
