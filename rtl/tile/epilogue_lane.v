// epilogue_lane: one lane of the tile's epilogue, y = F16(F32(acc) * (s_x * s_2)) (arithmetic
// spec: the scale product first), combinational. s_x is the token's fp32 scale; s_2 the second
// scale, fp32:
//   w8a8     the output channel's scale, stored as binary16 (its value is exact there) and
//            widened exactly by f16_to_f32 in front of the lane;
//   w4a8-is  2^-alpha, the integer scales' amplifier undone (acc is then the integer-scale
//            accumulator's sum of P * S);
//   w4a8-fs  1.0, with acc_f32 = 1: acc is then the float-scale accumulator's binary32 sum of
//            F32(P) s, taken as it is (y = F16(acc * s_x): s_x * 1.0 is s_x exactly);
//   w4a8-dint the channel's scale as for w8a8, in a lane with HALF = 1 (a tile of dint4 PEs):
//            the scale product times 0.5 before the output multiply, y = F16(F32(acc2) *
//            ((s_x * s_w) * 0.5)), acc2 in half-LSB units (spec w4a8-dint). A third fp32_mul,
//            not an exponent decrement: the product may be subnormal, where halving rounds.
//   w4a4-nvfp4 the activations' and the weights' per-tensor fp32 scales s_tx, s_tw, with
//            acc_f32 = 1 and nv = 1 in a lane with UNIT = u (> 0): acc, the block lanes'
//            binary32 sum, is first scaled by 2^-u in its own RNE multiply (spec §5: y =
//            F16(F32(F32(acc 2^-u) F32(s_tx s_tw)))), a fourth fp32_mul: the scaled sum may be
//            subnormal, or the two products' order change the rounding.
//
//   w4a8-mx etc. with fixed block accumulators: acc is the ACC_W-bit accumulator (a lane with
//            ACC_W > 32 where the design's block_acc_bits are), s2 = 2^-frac_bits and sx = 1.0:
//            y = F16(F32(F32(acc) 2^-frac)) (spec §5; the power of two is exact in s_x s_2).
//
// Ports: acc (ACC_W-bit integer accumulator, or binary32 in its low 32 bits with acc_f32),
// acc_f32, nv (UNIT > 0 only), sx (binary32), s2 (binary32) -> y (binary16)
// Model: the output loops of quasar::gemm_w8a8 (models/numerics/gemm_int8.cpp) and
// quasar::gemm_w4a8_is and gemm_w4a8_fs (gemm_group_scale.cpp), and gemm_w4a8_dint, through the
// units i32_to_fp32, fp32_mul (x2, x3 with HALF or UNIT) and f32_to_f16 (tests/tile: every
// output of every case); w4a4-nvfp4: nvfp4_result (block_formats.hpp) and f32_to_f16.
module epilogue_lane #(
    parameter integer HALF = 0,
    // NVFP4's 2^-u before the tensor scales (0: no such multiply built, `nv` unread).
    parameter integer UNIT = 0,
    // The integer accumulator's bits (32; more for a tile whose fixed block accumulators are
    // wider): F32 of all of them, RNE.
    parameter integer ACC_W = 32
) (
    input  wire [ACC_W-1:0] acc,
    input  wire        acc_f32,
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire        nv,
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire [31:0] sx,
    input  wire [31:0] s2,
    output wire [15:0] y
);
  wire [31:0] scale, acci, accf, accs, prod, sxs2;
  fp32_mul scale_mul (
      .a(sx),
      .b(s2),
      .p(sxs2)
  );
  generate
    if (HALF != 0) begin : g_half
      fp32_mul half_mul (
          .a(sxs2),
          .b(32'h3f000000),  // 0.5
          .p(scale)
      );
    end else begin : g_whole
      assign scale = sxs2;
    end
  endgenerate
  i32_to_fp32 #(
      .W(ACC_W)
  ) to_f (
      .i(acc),
      .f(acci)
  );
  assign accf = acc_f32 ? acc[31:0] : acci;
  generate
    if (UNIT != 0) begin : g_unit
      wire [31:0] accu;
      wire [ 7:0] ue = 8'd127 - UNIT[7:0];
      fp32_mul unit_mul (
          .a(accf),
          .b({1'b0, ue, 23'd0}),  // 2^-u
          .p(accu)
      );
      assign accs = nv ? accu : accf;
    end else begin : g_nounit
      assign accs = accf;
    end
  endgenerate
  fp32_mul out_mul (
      .a(accs),
      .b(scale),
      .p(prod)
  );
  f32_to_f16 narrow (
      .f(prod),
      .h(y)
  );
endmodule
