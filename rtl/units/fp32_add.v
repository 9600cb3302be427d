// fp32_add: IEEE binary32 add, round to nearest even, subnormals, overflow to infinity,
// x + (-x) = +0, (-0) + (-0) = -0. NaN results are the canonical quiet NaN 0x7fc00000.
//
// Ports: a, b (binary32 bits) -> s = a + b (combinational, latency 0)
// Structure: order the operands by magnitude, align the smaller one with a guard, a round and
// a sticky bit (enough for correct RNE of a sum or difference), add or subtract, normalize
// (fp_norm), round (fp32_round).
module fp32_add (
    input  wire [31:0] a,
    input  wire [31:0] b,
    output wire [31:0] s
);
  wire a_inf = a[30:23] == 8'hff && a[22:0] == 23'd0;
  wire b_inf = b[30:23] == 8'hff && b[22:0] == 23'd0;
  wire a_nan = a[30:23] == 8'hff && a[22:0] != 23'd0;
  wire b_nan = b[30:23] == 8'hff && b[22:0] != 23'd0;

  // x: the operand of larger magnitude, y: the other.
  wire swap = b[30:0] > a[30:0];
  wire [31:0] x = swap ? b : a;
  wire [31:0] y = swap ? a : b;
  wire [7:0] ex = x[30:23];
  wire [7:0] ey = y[30:23];
  wire [7:0] ex_eff = (ex == 8'd0) ? 8'd1 : ex;
  wire [7:0] ey_eff = (ey == 8'd0) ? 8'd1 : ey;
  wire [23:0] mx = {ex != 8'd0, x[22:0]};
  wire [23:0] my = {ey != 8'd0, y[22:0]};

  // Align y: shift right by the exponent difference, shifted-out bits into the sticky bit.
  wire [7:0] d = ex_eff - ey_eff;
  wire [4:0] dsh = (d > 8'd27) ? 5'd27 : d[4:0];
  wire [53:0] yext = {my, 30'd0} >> dsh;
  wire [26:0] ya = {yext[53:28], yext[27] | (|yext[26:0])};
  wire [26:0] xa = {mx, 3'd0};
  wire sub = x[31] ^ y[31];
  wire [27:0] r = sub ? ({1'b0, xa} - {1'b0, ya}) : ({1'b0, xa} + {1'b0, ya});

  // Normalize so the leading one sits at r's bit 27, then keep 27 bits (bit 0 sticky):
  // value = r / 2^26 * 2^(ex_eff - 127), so the leading bit's exponent is ex_eff + 1 - lz.
  wire [27:0] rn;
  wire [4:0] lz;
  fp_norm #(
      .W (28),
      .CW(5)
  ) norm (
      .x (r),
      .y (rn),
      .lz(lz)
  );
  wire [11:0] e = {4'd0, ex_eff} + 12'd1 - {7'd0, lz};
  wire [31:0] rounded;
  fp32_round rnd (
      .sign(x[31]),
      .exp (e),
      .sig ({rn[27:2], rn[1] | rn[0]}),
      .f   (rounded)
  );

  wire nan = a_nan | b_nan | (a_inf & b_inf & (a[31] ^ b[31]));
  // An exact zero sum is +0 under RNE unless both operands are -0 (then sub = 0, x = -0).
  wire zero = r == 28'd0;
  assign s = nan ? 32'h7fc00000 :
             (a_inf | b_inf) ? {x[31], 8'hff, 23'd0} :
             zero ? {x[31] & ~sub, 31'd0} : rounded;
endmodule
