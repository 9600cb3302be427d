#include "kv_cache.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "error.hpp"
#include "float_formats.hpp"

namespace quasar {
namespace {

constexpr std::uint16_t kF16One = 0x3C00u;
constexpr std::uint16_t kF16SmallestSubnormal = 0x0001u;  // 2^-24

void require_finite_f16(const std::uint16_t* v, std::size_t d) {
  for (std::size_t i = 0; i < d; ++i) {
    if ((v[i] & 0x7c00u) == 0x7c00u) {
      throw Error("kv_append: element " + std::to_string(i) + " is " +
                  (f16_is_nan(v[i]) ? "NaN" : "infinite") +
                  "; only finite fp16 values can be written to the KV cache");
    }
  }
}

}  // namespace

std::string_view kv_format_name(KvFormat f) {
  switch (f) {
    case KvFormat::fp16:
      return "fp16";
    case KvFormat::int8:
      return "int8";
    case KvFormat::int4:
      return "int4";
  }
  return "?";
}

KvFormat parse_kv_format(std::string_view name) {
  for (KvFormat f : {KvFormat::fp16, KvFormat::int8, KvFormat::int4}) {
    if (name == kv_format_name(f)) return f;
  }
  throw Error("kv: unknown format '" + std::string(name) + "'; accepted: fp16, int8, int4");
}

std::uint64_t kv_bytes_per_token_head(KvFormat f, std::size_t d) {
  const auto n = static_cast<std::uint64_t>(d);
  switch (f) {
    case KvFormat::fp16:
      return 2 * n;
    case KvFormat::int8:
      return n + 2;  // codes, s16
    case KvFormat::int4:
      return (n + 1) / 2 + 3;  // two codes a byte, s16, z
  }
  return 0;
}

const char* kv_act::dequant(KvFormat f) {
  switch (f) {
    case KvFormat::int8:
      return kDequantInt8;
    case KvFormat::int4:
      return kDequantInt4;
    case KvFormat::fp16:
      break;
  }
  return nullptr;
}

std::uint16_t kv_scale_f16(float s) {
  const std::uint16_t h = f32_to_f16(s);
  return (h & 0x7fffu) == 0 ? kF16SmallestSubnormal : h;
}

KvVector kv_quantize(KvFormat f, const std::uint16_t* v, std::size_t d, GemmCounters* counters) {
  require_finite_f16(v, d);
  KvVector q;
  q.format = f;
  if (f == KvFormat::fp16) {
    q.f16.assign(v, v + d);
    return q;
  }
  std::vector<float> x(d);
  for (std::size_t i = 0; i < d; ++i) x[i] = f16_to_f32(v[i]);
  q.codes.resize(d);
  if (f == KvFormat::int8) {
    float amax = 0.0f;
    for (float xi : x) amax = std::max(amax, std::fabs(xi));
    q.s16 = amax > 0.0f ? kv_scale_f16(amax / 127.0f) : kF16One;
    const float s = f16_to_f32(q.s16);
    for (std::size_t i = 0; i < d; ++i) {
      const float r = std::nearbyint(x[i] / s);  // F32(v / F32(s16)), then RNE
      if (r > 127.0f || r < -127.0f) ++q.code_clamps;
      q.codes[i] = static_cast<std::int8_t>(std::clamp(r, -127.0f, 127.0f));
    }
  } else {
    float lo = x.empty() ? 0.0f : x[0], hi = lo;
    for (float xi : x) {
      lo = std::min(lo, xi);
      hi = std::max(hi, xi);
    }
    q.s16 = hi == lo ? kF16One : kv_scale_f16((hi - lo) / 15.0f);
    const float s = f16_to_f32(q.s16);
    // RNE(F32(v / s)) is an integer held in float; adding z in double keeps it exact even when
    // a range that excludes 0 (z clamped) or a subnormal s16 makes the quotient large.
    const double zr = std::nearbyint(-lo / s);
    if (zr < 0.0 || zr > 15.0) q.zero_clamps = 1;
    q.z = static_cast<std::uint8_t>(std::clamp(zr, 0.0, 15.0));
    for (std::size_t i = 0; i < d; ++i) {
      const double r = static_cast<double>(std::nearbyint(x[i] / s)) + q.z;
      if (r < 0.0 || r > 15.0) ++q.code_clamps;
      q.codes[i] = static_cast<std::int8_t>(std::clamp(r, 0.0, 15.0));
    }
  }
  if (counters) {
    counters->add_action(f == KvFormat::int8 ? kv_act::kQuantInt8 : kv_act::kQuantInt4, d);
    counters->add_overflow(kv_stage::kCodeClamp, q.code_clamps);
    counters->add_overflow(kv_stage::kZeroClamp, q.zero_clamps);
  }
  return q;
}

void kv_dequantize(const KvVector& q, float* out) {
  switch (q.format) {
    case KvFormat::fp16:
      for (std::size_t i = 0; i < q.f16.size(); ++i) out[i] = f16_to_f32(q.f16[i]);
      return;
    case KvFormat::int8: {
      const float s = f16_to_f32(q.s16);
      for (std::size_t i = 0; i < q.codes.size(); ++i) out[i] = static_cast<float>(q.codes[i]) * s;
      return;
    }
    case KvFormat::int4: {
      const float s = f16_to_f32(q.s16);
      for (std::size_t i = 0; i < q.codes.size(); ++i) {
        out[i] = static_cast<float>(q.codes[i] - static_cast<int>(q.z)) * s;
      }
      return;
    }
  }
}

std::vector<float> kv_dequantize(const KvVector& q) {
  std::vector<float> out(q.size());
  kv_dequantize(q, out.data());
  return out;
}

KvCache::KvCache(KvFormat format, std::size_t d) : format_(format), d_(d) {
  if (d == 0) throw Error("kv cache: head dimension d must be >= 1");
}

void KvCache::append(const std::uint16_t* v, GemmCounters* counters) {
  stored_.push_back(kv_quantize(format_, v, d_, counters));
  values_.resize(values_.size() + d_);
  kv_dequantize(stored_.back(), values_.data() + (stored_.size() - 1) * d_);
}

std::vector<KvCache> make_kv_caches(KvFormat f, const MatrixH& x, std::size_t kv_heads,
                                    GemmCounters* counters) {
  if (kv_heads == 0 || x.cols() == 0 || x.cols() % kv_heads != 0) {
    throw Error("kv cache: " + std::to_string(x.cols()) + " columns do not split into " +
                std::to_string(kv_heads) + " kv-heads of equal width >= 1");
  }
  const std::size_t d = x.cols() / kv_heads;
  std::vector<KvCache> caches(kv_heads, KvCache(f, d));
  for (std::size_t t = 0; t < x.rows(); ++t) {
    for (std::size_t j = 0; j < kv_heads; ++j) caches[j].append(x.row(t) + j * d, counters);
  }
  return caches;
}

}  // namespace quasar
