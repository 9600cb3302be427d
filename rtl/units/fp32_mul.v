// fp32_mul: IEEE binary32 multiply, round to nearest even, subnormal inputs and outputs,
// overflow to infinity. NaN results are the canonical quiet NaN 0x7fc00000 (payloads are not
// propagated: see docs/validation.md, "NaN canonicalization").
//
// Ports: a, b (binary32 bits) -> p = a * b (combinational, latency 0)
// Model: the product of two floats in C++ (quasar::units::FloatScaleAcc, models/units).
module fp32_mul (
    input  wire [31:0] a,
    input  wire [31:0] b,
    output wire [31:0] p
);
  wire [7:0] ea = a[30:23];
  wire [7:0] eb = b[30:23];
  wire a_zero = ea == 8'd0 && a[22:0] == 23'd0;
  wire b_zero = eb == 8'd0 && b[22:0] == 23'd0;
  wire a_inf = ea == 8'hff && a[22:0] == 23'd0;
  wire b_inf = eb == 8'hff && b[22:0] == 23'd0;
  wire a_nan = ea == 8'hff && a[22:0] != 23'd0;
  wire b_nan = eb == 8'hff && b[22:0] != 23'd0;
  wire sign = a[31] ^ b[31];

  // Significands with the hidden bit; a subnormal has exponent 1 and hidden bit 0.
  wire [23:0] ma = {ea != 8'd0, a[22:0]};
  wire [23:0] mb = {eb != 8'd0, b[22:0]};
  wire [7:0] ea_eff = (ea == 8'd0) ? 8'd1 : ea;
  wire [7:0] eb_eff = (eb == 8'd0) ? 8'd1 : eb;
  wire [47:0] prod = ma * mb;  // exact

  wire [47:0] pn;
  wire [5:0] lz;
  fp_norm #(
      .W (48),
      .CW(6)
  ) norm (
      .x (prod),
      .y (pn),
      .lz(lz)
  );
  // value = pn / 2^47 * 2^(ea + eb - 253 - lz) = 1.f * 2^(e - 127)
  wire [11:0] e = {4'd0, ea_eff} + {4'd0, eb_eff} - 12'd126 - {6'd0, lz};
  wire [31:0] rounded;
  fp32_round rnd (
      .sign(sign),
      .exp (e),
      .sig ({pn[47:22], |pn[21:0]}),
      .f   (rounded)
  );

  wire nan = a_nan | b_nan | (a_inf & b_zero) | (a_zero & b_inf);
  assign p = nan ? 32'h7fc00000 :
             (a_inf | b_inf) ? {sign, 8'hff, 23'd0} :
             (a_zero | b_zero) ? {sign, 31'd0} : rounded;
endmodule
