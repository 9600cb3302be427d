// pe_mul: a PE's product, weight x 8-bit activation code -> PW-bit signed (combinational), for
// the PE kinds the arrays (systolic_array, systolic_os) can be built of:
//   PE = 0  int8 weights (arch pe int8): w is an int8 code, p = w * x;
//   PE = 1  dint4 weights, value set A (arch pe dint4, trace dint_set A): w is the 4-bit code
//           (WW = 4), p = w2 * x through mul_dint4xi8 (w2 = 2 * value: the accumulator sums
//           acc2 in half-LSB units, spec w4a8-dint), an unused code contributing 0;
//   PE = 2  dint4, value set B;
//   PE = 3  E2M1 weights x E4M3 activations (arch pe fp4xfp8, scheme w4a8-mx): w the 4-bit E2M1
//           code, x the E4M3 code, p their exact product in units of 2^-10 through
//           mul_e2m1xe4m3 (23 bits; an E4M3 NaN contributes 0), so the partial sums are a
//           block's exact integer sum I (spec §5);
//   PE = 4  E2M1 weights x E2M1 activations (arch pe fp4, w4a4-mxfp4 and -nvfp4): w and x[3:0]
//           the two E2M1 codes, p their exact product in units of 2^-2 through mul_e2m1xe2m1
//           (9 bits; x[7:4] unread).
// PW: 16 bits for PE 0-2 and 4, 23 for PE 3 (the arrays sign-extend it to their accumulators).
// The dINT PE keeps 4-bit weight registers and a 3 x 8 shift-add product in place of the 8 x 8
// multiplier: the area the scheme is about (tile_ws's dint points price it against the cost
// model's mac_dint4_a).
//
// Model: the array's PE step in quasar::units::SystolicWsArray / SystolicOsArray for int8, and
// MacDint4 (models/units/mac.hpp) for dint4; the E2M1 products: the block references
// (tests/tile, every output of every case).
module pe_mul #(
    parameter integer PE = 0,
    parameter integer WW = PE == 0 ? 8 : 4,
    parameter integer PW = PE == 3 ? 23 : 16
) (
    input  wire        [WW-1:0] w,
    input  wire signed [   7:0] x,
    output wire signed [PW-1:0] p
);
  generate
    if (PE == 0) begin : g_int8
      assign p = $signed(w) * x;
    end else if (PE == 4) begin : g_fp4
      wire signed [8:0] p9;
      /* verilator lint_off UNUSEDSIGNAL */  // (x[7:4]: the byte lane above the E2M1 code)
      wire [3:0] x_hi = x[7:4];
      /* verilator lint_on UNUSEDSIGNAL */
      mul_e2m1xe2m1 mul (
          .w(w[3:0]),
          .x(x[3:0]),
          .p(p9)
      );
      assign p = {{(PW - 9) {p9[8]}}, p9};
    end else if (PE == 3) begin : g_fp4xfp8
      /* verilator lint_off UNUSEDSIGNAL */  // (NaN codes contribute 0; counted offline)
      wire invalid;
      /* verilator lint_on UNUSEDSIGNAL */
      mul_e2m1xe4m3 mul (
          .w      (w[3:0]),
          .x      (x),
          .p      (p),
          .invalid(invalid)
      );
    end else begin : g_dint
      wire signed [11:0] p12;
      /* verilator lint_off UNUSEDSIGNAL */  // (invalid codes contribute 0; counted offline)
      wire invalid;
      /* verilator lint_on UNUSEDSIGNAL */
      mul_dint4xi8 #(
          .SET_B(PE == 2 ? 1 : 0)
      ) mul (
          .code   (w[3:0]),
          .x      (x),
          .p      (p12),
          .invalid(invalid)
      );
      assign p = {{4{p12[11]}}, p12};
    end
  endgenerate
endmodule
