#include "scheme.hpp"

#include "counters.hpp"

namespace quasar {

namespace {

constexpr std::uint8_t kInt8Pe = pe_bit(PeKind::int8), kW4a8Pe = pe_bit(PeKind::w4a8),
                       kDint4Pe = pe_bit(PeKind::dint4), kFp16Pe = pe_bit(PeKind::fp16);
namespace k = trace_key;

}  // namespace

// Stored bytes: 4-bit codes are packed two per byte. Group metadata per (group, channel):
// fp16 scale 2 (w4a8-fs); 16-bit integer scale 2 (w4a8-is: S < 2^16 at alpha = 2^10); fp16
// scale + uint4 zero 2.5 (w4a16); int8 S2 + uint4 zero 1.5 (DGQ, QServe). Per channel: an fp16
// scale. Scale-RF words: those bytes rounded up to 16-bit words (tests/unit checks the two).
const std::array<SchemeInfo, 8>& all_schemes() {
  static const std::array<SchemeInfo, 8> kSchemes{{
      {Scheme::fp16, "fp16", "W16A16 baseline, fp32 accumulation",
       false, 2.0, 2.0, 0.0, false, 0.0, 0.0, 0,
       kFp16Pe, std::nullopt, Dequant::none, Accumulation::fp32,
       act::kMulFp16xFp16, nullptr, nullptr,
       k::k_tile, TensorRoles::fp16, false},
      {Scheme::w8a8, "w8a8", "int8 per-channel weights, int8 activations (SmoothQuant-style)",
       true, 1.0, 1.0, 0.0, false, 0.0, 2.0, 0,
       kInt8Pe, std::nullopt, Dequant::none, Accumulation::int_k,
       act::kMulInt8xInt8, nullptr, nullptr,
       k::act | k::acc_bits, TensorRoles::single, true},
      {Scheme::w4a16, "w4a16", "uint4 group weights dequantized to fp16 (AWQ/GPTQ-style)",
       false, 2.0, 0.5, 0.0, true, 2.5, 0.0, 2,
       kFp16Pe, ScaleUnit::dequant, Dequant::fused, Accumulation::fp32,
       act::kMulFp16xFp16, act::kDequantW4ToFp16, nullptr,
       k::group_size | k::k_tile, TensorRoles::w4a16, true},
      {Scheme::w4a8_fs, "w4a8-fs", "int4 group weights, fp32 group-scale accumulation (FPTQ)",
       true, 1.0, 0.5, 0.0, true, 2.0, 0.0, 1,
       kInt8Pe | kW4a8Pe, ScaleUnit::floatscale, Dequant::none, Accumulation::int_group_fp32,
       act::kMulInt4xInt8, nullptr, nullptr,
       k::group_size | k::act | k::acc_bits | k::psum_bits, TensorRoles::single, true},
      {Scheme::w4a8_is, "w4a8-is", "int4 group weights, integer group scales (Integer Scale)",
       true, 1.0, 0.5, 0.0, true, 2.0, 0.0, 1,
       kInt8Pe | kW4a8Pe, ScaleUnit::intscale, Dequant::none, Accumulation::int_group_int,
       act::kMulInt4xInt8, nullptr, nullptr,
       k::group_size | k::act | k::acc_bits | k::psum_bits | k::int_scale | k::alpha_bits,
       TensorRoles::single_int_scales, true},
      {Scheme::w4a8_dgq, "w4a8-dgq", "uint4 with int8 group scales dequantized to int8 (DGQ)",
       true, 1.0, 0.5, 1.0, true, 1.5, 2.0, 1,
       kInt8Pe, ScaleUnit::dequant, Dequant::selectable, Accumulation::int_k,
       act::kMulInt8xInt8, act::kDequantTwoLevel, nullptr,
       k::group_size | k::act | k::acc_bits | k::dequant, TensorRoles::two_level, false},
      {Scheme::w4a8_dint, "w4a8-dint", "dint4 per-channel weights, AQAS smoothing (dINT)",
       true, 1.0, 0.5, 0.0, false, 0.0, 2.0, 0,
       kDint4Pe, std::nullopt, Dequant::none, Accumulation::int_k,
       act::kMulDint4xInt8, nullptr, act::kDecodeDint4,
       k::act | k::acc_bits | k::dint_set, TensorRoles::single, false},
      {Scheme::w4a8_qserve, "w4a8-qserve", "progressive group quantization (QServe)",
       true, 1.0, 0.5, 0.0, true, 1.5, 2.0, 1,
       kInt8Pe, ScaleUnit::dequant, Dequant::fused, Accumulation::int_k,
       act::kMulInt8xInt8, act::kDequantTwoLevel, nullptr,
       k::group_size | k::act | k::acc_bits, TensorRoles::two_level, false},
  }};
  return kSchemes;
}

const SchemeInfo& traits(Scheme s) { return all_schemes()[static_cast<std::size_t>(s)]; }

std::string_view scheme_name(Scheme s) {
  for (const SchemeInfo& i : all_schemes()) {
    if (i.id == s) return i.name;
  }
  return "?";
}

std::optional<Scheme> scheme_from_name(std::string_view name) {
  for (const SchemeInfo& i : all_schemes()) {
    if (i.name == name) return i.id;
  }
  return std::nullopt;
}

std::string scheme_names_joined(std::string_view separator) {
  std::string out;
  for (const SchemeInfo& i : all_schemes()) {
    if (!out.empty()) out += separator;
    out += i.name;
  }
  return out;
}

const std::array<PeKindInfo, 4>& all_pe_kinds() {
  static const std::array<PeKindInfo, 4> kKinds{{
      {PeKind::int8, "int8", "mac_int8"},
      {PeKind::w4a8, "w4a8", "mac_w4a8"},
      {PeKind::dint4, "dint4", "mac_dint4_a"},
      {PeKind::fp16, "fp16", "mac_fp16"},
  }};
  return kKinds;
}

// The names are string literals, so their data() is NUL-terminated.
const char* pe_kind_name(PeKind p) {
  return all_pe_kinds()[static_cast<std::size_t>(p)].name.data();
}

std::string pe_kind_names_joined(std::string_view separator) {
  std::string out;
  for (const PeKindInfo& i : all_pe_kinds()) {
    if (!out.empty()) out += separator;
    out += i.name;
  }
  return out;
}

const std::array<ScaleUnitInfo, 3>& all_scale_units() {
  static const std::array<ScaleUnitInfo, 3> kUnits{{
      {ScaleUnit::intscale, "intscale", "intscale_units", "integer-scale accumulators"},
      {ScaleUnit::floatscale, "floatscale", "floatscale_units", "float-scale units"},
      {ScaleUnit::dequant, "dequant", "dequant_units", "weight dequantizers"},
  }};
  return kUnits;
}

const char* scale_unit_name(ScaleUnit u) {
  return all_scale_units()[static_cast<std::size_t>(u)].name.data();
}

}  // namespace quasar
