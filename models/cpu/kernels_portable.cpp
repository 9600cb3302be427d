// The portable kernel set: the plain bodies, compiled for the build's baseline target.
#include "kernel_body.hpp"

namespace quasar::cpu::detail {
namespace {

void tile(const std::uint8_t* a, const std::int8_t* b, std::size_t quads, const std::int32_t* init,
          std::int32_t* c) {
  body::tile(a, b, quads, init, c);
}
void fs_step(const std::int32_t* p, const float* s, float* acc, std::size_t n) {
  body::fs_step(p, s, acc, n);
}
void is_step(const std::int32_t* p, const std::int32_t* S, std::int64_t* acc, std::size_t n) {
  body::is_step(p, S, acc, n);
}

std::uint64_t int_out32(const std::int32_t* acc, float row, const float* col, float post,
                        const float* bias, std::uint16_t* y, std::size_t n) {
  return body::int_out(acc, row, col, post, bias, y, n);
}
std::uint64_t int_out64(const std::int64_t* acc, float row, const float* col, float post,
                        const float* bias, std::uint16_t* y, std::size_t n) {
  return body::int_out(acc, row, col, post, bias, y, n);
}
std::uint64_t float_out(const float* acc, float row, std::uint16_t* y, std::size_t n) {
  return body::float_out(acc, row, y, n);
}

int max_abs(const std::int8_t* v, std::size_t n) { return body::max_abs(v, n); }

std::uint64_t dequant(const std::uint8_t* q, int z, int S, int lo, int hi, std::int8_t* out,
                      std::size_t n) {
  return body::dequant(q, z, S, lo, hi, out, n);
}
std::uint64_t decode16(const std::int8_t* code, const std::int8_t* value,
                       const std::uint8_t* invalid, std::int8_t* out, std::size_t n) {
  return body::decode16(code, value, invalid, out, n);
}

void is_step32(const std::int32_t* p, const std::int32_t* S, std::int32_t* acc, std::size_t n) {
  body::is_step32(p, S, acc, n);  // vectorized by the compiler for this set's target
}

}  // namespace

const KernelSet& portable_kernels() {
  static const KernelSet k{KernelIsa::portable, tile,      fs_step, is_step, is_step32, int_out32,
                           int_out64,           float_out, max_abs, dequant, decode16};
  return k;
}

}  // namespace quasar::cpu::detail
