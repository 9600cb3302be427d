// KV cache formats (arithmetic spec §6). K and V are written once per (token, kv-head)
// (`kv_append`) and read by every later query. The input of a write is the d fp16 values of one
// (token, kv-head) vector, passed as their 16-bit codes (the K/V projections' fp16 outputs); every
// reader sees the fp32 values v̂ the spec defines:
//   fp16: stored as is, v̂ = F32(v).
//   int8: s = F32(amax / 127) (1 when amax = 0), s16 = F16(s);
//         code = clamp(RNE(F32(v / F32(s16))), -127, 127); v̂ = F32(F32(code) * F32(s16)).
//   int4: lo/hi = min/max, s = F32(F32(hi - lo) / 15) (1 when hi = lo), s16 = F16(s),
//         z = clamp(RNE(F32(-lo / F32(s16))), 0, 15), code = clamp(RNE(F32(v / F32(s16))) + z, 0,
//         15), v̂ = F32(F32(code - z) * F32(s16)).
// Every clamp is counted (kv_stage names). [choice] A scale that F16 rounds to zero (amax below
// 127 * 2^-25, or hi - lo below 15 * 2^-25) is stored as the smallest positive fp16, 2^-24, so
// no stored scale is zero (as weight scales, docs/numerics.md row 4): `kv_scale_f16`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "counters.hpp"
#include "matrix.hpp"

namespace quasar {

enum class KvFormat { fp16, int8, int4 };
std::string_view kv_format_name(KvFormat f);
// "fp16", "int8", "int4"; anything else throws quasar::Error naming what is accepted.
KvFormat parse_kv_format(std::string_view name);

// Bytes one (token, kv-head) vector of d values occupies: fp16 2d; int8 d + 2 (s16);
// int4 ceil(d / 2) + 3 (two codes a byte, then s16 and a z byte). The one formula the timing
// model uses for KV traffic and capacity.
std::uint64_t kv_bytes_per_token_head(KvFormat f, std::size_t d);

// Overflow stages (GemmCounters::overflow) of a KV write: every clamp, counted once per value
// (code) or per vector (zero point).
namespace kv_stage {
inline constexpr const char* kCodeClamp = "kv_code_clamp";  // int8 / int4 code clamped
inline constexpr const char* kZeroClamp = "kv_zero_clamp";  // int4 zero point clamped
}  // namespace kv_stage

// Actions: one quantization per value written, one dequantization per value a query head reads.
namespace kv_act {
inline constexpr const char* kQuantInt8 = "quant.fp16->kv_int8";
inline constexpr const char* kQuantInt4 = "quant.fp16->kv_int4";
inline constexpr const char* kDequantInt8 = "dequant.kv_int8->fp32";
inline constexpr const char* kDequantInt4 = "dequant.kv_int4->fp32";
// The dequantization action of a format; nullptr for fp16 (widening fp16 to fp32 is exact).
const char* dequant(KvFormat f);
}  // namespace kv_act

// The scale's storage: F16(s), or 2^-24 (0x0001) where that would be zero [choice].
std::uint16_t kv_scale_f16(float s);

// One stored (token, kv-head) vector.
struct KvVector {
  KvFormat format = KvFormat::fp16;
  std::vector<std::uint16_t> f16;  // fp16: the d values as stored; else empty
  std::vector<std::int8_t> codes;  // int8: -127..127; int4: 0..15 (one per value); fp16: empty
  std::uint16_t s16 = 0;           // fp16 bits of the scale (int8, int4)
  std::uint8_t z = 0;              // int4 zero point, 0..15
  std::uint32_t code_clamps = 0;   // codes clamped while quantizing this vector
  std::uint32_t zero_clamps = 0;   // 1 when z was clamped
  std::size_t size() const { return format == KvFormat::fp16 ? f16.size() : codes.size(); }
};

// Quantizes d fp16 values (their bit patterns) into `f`. NaN or infinite values throw
// quasar::Error. Counts one kv_act quantization per value (int8/int4) and the clamps.
KvVector kv_quantize(KvFormat f, const std::uint16_t* v, std::size_t d,
                     GemmCounters* counters = nullptr);
// v̂: the fp32 values every reader uses (out has size() entries).
void kv_dequantize(const KvVector& q, float* out);
std::vector<float> kv_dequantize(const KvVector& q);

// One kv-head's K or V cache: tokens appended in order (token t = absolute position t).
// Keeps each token's stored form and its v̂, computed once at the write.
class KvCache {
 public:
  KvCache(KvFormat format, std::size_t d);
  void append(const std::uint16_t* v, GemmCounters* counters = nullptr);  // kv_append
  KvFormat format() const { return format_; }
  std::size_t dim() const { return d_; }
  std::size_t tokens() const { return stored_.size(); }
  const KvVector& stored(std::size_t t) const { return stored_[t]; }
  const float* values(std::size_t t) const { return values_.data() + t * d_; }  // v̂ of token t

 private:
  KvFormat format_;
  std::size_t d_;
  std::vector<KvVector> stored_;
  std::vector<float> values_;
};

// Caches for every kv-head from x: T x (kv_heads * d) fp16 codes, kv-head j in columns
// [j*d, (j+1)*d), row t = token t. Throws quasar::Error for a column count kv_heads does not
// divide.
std::vector<KvCache> make_kv_caches(KvFormat f, const MatrixH& x, std::size_t kv_heads,
                                    GemmCounters* counters = nullptr);

}  // namespace quasar
