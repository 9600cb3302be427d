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
//
// Ports: acc (int32 accumulator, or binary32 with acc_f32), acc_f32, sx (binary32), s2
// (binary32) -> y (binary16)
// Model: the output loops of quasar::gemm_w8a8 (models/numerics/gemm_int8.cpp) and
// quasar::gemm_w4a8_is and gemm_w4a8_fs (gemm_group_scale.cpp), and gemm_w4a8_dint, through the
// units i32_to_fp32, fp32_mul (x2, x3 with HALF) and f32_to_f16 (tests/tile: every output of
// every case).
module epilogue_lane #(
    parameter integer HALF = 0
) (
    input  wire [31:0] acc,
    input  wire        acc_f32,
    input  wire [31:0] sx,
    input  wire [31:0] s2,
    output wire [15:0] y
);
  wire [31:0] scale, acci, accf, prod, sxs2;
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
  i32_to_fp32 to_f (
      .i(acc),
      .f(acci)
  );
  assign accf = acc_f32 ? acc : acci;
  fp32_mul out_mul (
      .a(accf),
      .b(scale),
      .p(prod)
  );
  f32_to_f16 narrow (
      .f(prod),
      .h(y)
  );
endmodule
