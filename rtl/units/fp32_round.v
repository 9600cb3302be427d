// fp32_round: round a normalized significand to IEEE binary32, round to nearest, ties to even,
// with gradual underflow (subnormals) and overflow to infinity. The shared back end of
// fp32_add, fp32_mul and i32_to_fp32.
//
// Ports
//   sign   sign of the result
//   exp    biased exponent (two's complement, 12 bits) of sig's leading bit: the value is
//          sig / 2^26 * 2^(exp - 127)
//   sig    sig[26] = 1 (the hidden bit), sig[25:3] fraction, sig[2] guard, sig[1] round,
//          sig[0] sticky (the OR of every lower bit of the exact value). sig = 0 is not
//          accepted: zero results are the caller's special case.
//   f      the rounded binary32 (combinational)
// exp <= 0: the value is below the normal range; sig is shifted right by 1 - exp (at most 27,
// beyond which every bit is sticky) with the shifted-out bits ORed into the sticky bit, and
// rounded as a subnormal (a carry out of the fraction correctly yields the smallest normal).
// exp >= 255, or a carry out of the largest finite: infinity.
module fp32_round (
    input  wire               sign,
    input  wire signed [11:0] exp,
    input  wire        [26:0] sig,
    output wire        [31:0] f
);
  wire tiny = exp < 12'sd1;
  wire huge = exp > 12'sd254;
  wire signed [11:0] sh_full = 12'sd1 - exp;
  wire [4:0] sh = (sh_full > 12'sd27) ? 5'd27 : sh_full[4:0];
  wire [53:0] ext = {sig, 27'd0} >> sh;
  // t: the significand as it will be rounded; t[26] = 1 for a normal, 0 for a subnormal
  // (sh >= 1), so adding it on top of exponent field - 1 gives the right exponent field.
  wire [26:0] t = tiny ? {ext[53:28], ext[27] | (|ext[26:0])} : sig;
  wire [7:0] base = tiny ? 8'd0 : (exp[7:0] - 8'd1);
  wire inc = t[2] & (t[3] | t[1] | t[0]);
  wire [30:0] mag = {base, 23'd0} + {7'd0, t[26:3]} + {30'd0, inc};
  assign f = huge ? {sign, 8'hff, 23'd0} : {sign, mag};
endmodule
