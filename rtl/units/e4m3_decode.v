// e4m3_decode: an E4M3 (fp8) element code s.eeee.mmm (bias 7, subnormals, S.1111.111 = NaN, no
// inf) -> sign, a 4-bit significand and a left shift, with |value| * 2^9 = sig << sh
// (spec §5: E4M3 = m * 2^(e - 10), e = max(field, 1), m = 8 + mant for a normal, mant for a
// subnormal). A NaN code is invalid: valid = 0 and sig = 0, so it contributes 0 downstream.
// Model: quasar::elem_int / elem_valid(BlockElem::e4m3, code).
module e4m3_decode (
    input  wire [7:0] code,
    output wire       neg,
    output wire [3:0] sig,
    output wire [3:0] sh,
    output wire       valid
);
  wire [3:0] field = code[6:3];
  wire normal = field != 4'd0;
  assign valid = code[6:0] != 7'h7f;
  assign neg = code[7];
  assign sig = valid ? {normal, code[2:0]} : 4'd0;
  // max(field, 1) - 1: a subnormal shares the smallest normal's exponent.
  assign sh = normal ? field - 4'd1 : 4'd0;
endmodule
