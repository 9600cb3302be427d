// nvfp4_fp32_acc: one block step of NVFP4's fp32 accumulator (spec §5, w4a4-nvfp4):
//   p    = S_x * S_w                          exact in binary32 (two E4M3 values: 8-bit product)
//   term = F32( F32(I) * p )                  i32_to_fp32 (RNE), then one RNE multiply (fp32_mul)
//   sum  = F32( src + term )                  one RNE add (fp32_add), src = use_acc_in ? acc_in
//                                             : acc
// IEEE binary32 with subnormals, infinities and NaNs; NaN results are the canonical quiet NaN
// 0x7fc00000 (fp32_add's rule; the term itself is never NaN: both factors are finite).
//
// Scale codes: the unit computes the model's arithmetic for every code pair. The reference
// rejects an NVFP4 block scale that is the E4M3 NaN (0x7f, 0xff) or has its sign bit set before
// the GEMM runs (block_scaled.cpp, check_scales via detail::validate_block_gemm: an
// OperandError, not a counted event), so such a code never reaches this unit in a run and the
// unit has no invalid_scale event. Given one anyway it does what the model does: a NaN code is
// worth 0 (e4m3_decode's sig = 0, as elem_int), a set sign bit makes the scale negative, and a
// zero scale (0x00, 0x80) is +0 (the model's F32 of the integer 0), so p's sign is the XOR of
// the non-zero scales' signs.
// For a valid scale pair p is 2^-18 .. 448^2: F32(I) * p never underflows or overflows, and it
// is exact whenever |I| < 2^16 (NVFP4's block sums: |I| <= 2304).
//
// Ports
//   clk, rst, en, use_acc_in   as floatscale_acc.v (synchronous reset: acc <= +0)
//   i              the block sum I (two's complement; the dot unit's `sum`)
//   sx, sw         the activation and weight E4M3 block-scale codes
//   acc_in         binary32 accumulator input
//   scale          combinational: p = S_x * S_w, binary32 bits
//   term           combinational: F32(F32(I) * p)
//   sum            combinational (latency 0) result, binary32 bits
//   acc            sum registered when en (latency 1 cycle)
//
// Model: quasar::units::Nvfp4Fp32Acc::step (models/units/block_units.hpp): nvfp4_block_term
// (block_formats.hpp, the reference's own step) and a C++ float add.
module nvfp4_fp32_acc (
    input  wire               clk,
    input  wire               rst,
    input  wire               en,
    input  wire               use_acc_in,
    input  wire signed [31:0] i,
    input  wire        [ 7:0] sx,
    input  wire        [ 7:0] sw,
    input  wire        [31:0] acc_in,
    output wire        [31:0] scale,
    output wire        [31:0] term,
    output wire        [31:0] sum,
    output reg         [31:0] acc
);
  // The scale product: |S| * 2^9 = sig << sh for each code, so |p| * 2^18 = (sig_x sig_w) <<
  // (sh_x + sh_w), an 8-bit integer times a power of two: exact in binary32.
  // (`valid` is left open: validity is the reference's check, before the GEMM; see above.)
  wire nx, nw;
  wire [3:0] gx, gw, hx, hw;
  /* verilator lint_off PINCONNECTEMPTY */
  e4m3_decode dx (
      .code (sx),
      .neg  (nx),
      .sig  (gx),
      .sh   (hx),
      .valid()
  );
  e4m3_decode dw (
      .code (sw),
      .neg  (nw),
      .sig  (gw),
      .sh   (hw),
      .valid()
  );
  /* verilator lint_on PINCONNECTEMPTY */
  wire [7:0] prod = {4'd0, gx} * {4'd0, gw};
  // A zero scale is +0 whatever its sign bit (the model's elem_int gives the integer 0).
  wire ps = (nx & (gx != 4'd0)) ^ (nw & (gw != 4'd0));
  wire [7:0] pn;
  wire [2:0] plz;
  fp_norm #(
      .W (8),
      .CW(3)
  ) pnorm (
      .x (prod),
      .y (pn),
      .lz(plz)
  );
  // Leading bit at 2^(7 - plz + sh_x + sh_w - 18): biased exponent 116 - plz + sh_x + sh_w,
  // 109 .. 144 (never subnormal, never infinite).
  wire [7:0] pe = 8'd116 - {5'd0, plz} + {4'd0, hx} + {4'd0, hw};
  // pn[7], the leading bit, is 1 unless the product is 0.
  assign scale = pn[7] ? {ps, pe, pn[6:0], 16'd0} : {ps, 31'd0};

  wire [31:0] fi;
  i32_to_fp32 conv (
      .i(i),
      .f(fi)
  );
  fp32_mul mul (
      .a(fi),
      .b(scale),
      .p(term)
  );
  fp32_add add (
      .a(use_acc_in ? acc_in : acc),
      .b(term),
      .s(sum)
  );

  always @(posedge clk) begin
    if (rst) acc <= 32'd0;
    else if (en) acc <= sum;
  end
endmodule
