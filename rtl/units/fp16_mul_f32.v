// fp16_mul_f32: the exact product of two IEEE binary16 values as a binary32. An 11 x 11-bit
// significand product has at most 22 bits and binary16 exponents (2^-24 .. 2^15) give products
// in 2^-48 .. 2^32, inside binary32's normal range: no rounding ever happens, and every
// finite nonzero product is a normal binary32. inf * 0 and NaN inputs give the canonical
// quiet NaN 0x7fc00000.
//
// Ports: a, b (binary16 bits) -> p (binary32 bits, combinational, latency 0)
// Model: f16_to_f32(a) * f16_to_f32(b) in C++ floats (quasar::units::MacFp16).
module fp16_mul_f32 (
    input  wire [15:0] a,
    input  wire [15:0] b,
    output wire [31:0] p
);
  wire [4:0] ea = a[14:10];
  wire [4:0] eb = b[14:10];
  wire a_zero = ea == 5'd0 && a[9:0] == 10'd0;
  wire b_zero = eb == 5'd0 && b[9:0] == 10'd0;
  wire a_inf = ea == 5'h1f && a[9:0] == 10'd0;
  wire b_inf = eb == 5'h1f && b[9:0] == 10'd0;
  wire a_nan = ea == 5'h1f && a[9:0] != 10'd0;
  wire b_nan = eb == 5'h1f && b[9:0] != 10'd0;
  wire sign = a[15] ^ b[15];

  wire [10:0] ma = {ea != 5'd0, a[9:0]};
  wire [10:0] mb = {eb != 5'd0, b[9:0]};
  wire [4:0] ea_eff = (ea == 5'd0) ? 5'd1 : ea;
  wire [4:0] eb_eff = (eb == 5'd0) ? 5'd1 : eb;
  wire [21:0] prod = ma * mb;

  wire [21:0] pn;
  wire [4:0] lz;
  fp_norm #(
      .W (22),
      .CW(5)
  ) norm (
      .x (prod),
      .y (pn),
      .lz(lz)
  );
  // value = pn / 2^21 * 2^(ea + eb - 29 - lz): binary32 biased exponent ea + eb + 98 - lz
  // (79 .. 158). pn[21] = 1 is the hidden bit: adding pn on top of exponent field - 1 puts it
  // in place.
  wire [7:0] e = {3'd0, ea_eff} + {3'd0, eb_eff} + 8'd98 - {3'd0, lz};
  wire [30:0] mag = {e - 8'd1, 23'd0} + {7'd0, pn, 2'd0};

  wire nan = a_nan | b_nan | (a_inf & b_zero) | (a_zero & b_inf);
  assign p = nan ? 32'h7fc00000 :
             (a_inf | b_inf) ? {sign, 8'hff, 23'd0} :
             (a_zero | b_zero) ? {sign, 31'd0} : {sign, mag};
endmodule
