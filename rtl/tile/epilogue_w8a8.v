// epilogue_w8a8: one lane of the w8a8 epilogue, y = F16(F32(acc) * (s_x * s_w)) (arithmetic
// spec, w8a8: the scale product first), combinational. s_x is the token's fp32 scale; s_w the
// output channel's scale, stored as binary16 (its value is exact there) and widened exactly.
//
// Ports: acc (int32 accumulator), sx (binary32), sw (binary16) -> y (binary16)
// Model: quasar::gemm_w8a8's output loop (models/numerics/gemm_int8.cpp), through the units
// i32_to_fp32, fp32_mul (x2), f16_to_f32 and f32_to_f16 (tests/tile: every output of every case).
module epilogue_w8a8 (
    input  wire [31:0] acc,
    input  wire [31:0] sx,
    input  wire [15:0] sw,
    output wire [15:0] y
);
  wire [31:0] sw32, scale, accf, prod;
  f16_to_f32 widen (
      .h(sw),
      .f(sw32)
  );
  fp32_mul scale_mul (
      .a(sx),
      .b(sw32),
      .p(scale)
  );
  i32_to_fp32 to_f (
      .i(acc),
      .f(accf)
  );
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
