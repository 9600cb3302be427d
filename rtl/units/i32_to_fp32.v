// i32_to_fp32: int32 -> IEEE binary32, round to nearest even (the F32(P) of spec w4a8-fs).
// Every int32 is finite in binary32; |i| > 2^24 rounds. INT32_MIN is exact (-2^31).
//
// Ports: i (two's complement) -> f (binary32 bits, combinational, latency 0); 0 -> +0.
// Model: static_cast<float>(std::int32_t) (quasar::units::FloatScaleAcc, models/units).
module i32_to_fp32 (
    input  wire signed [31:0] i,
    output wire        [31:0] f
);
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
  wire [31:0] rounded;
  fp32_round rnd (
      .sign(neg),
      .exp (12'd158 - {7'd0, lz}),  // 127 + 31 - lz
      .sig ({mn[31:6], |mn[5:0]}),
      .f   (rounded)
  );
  assign f = (i == 32'sd0) ? 32'd0 : rounded;
endmodule
