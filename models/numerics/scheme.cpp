#include "scheme.hpp"

#include "counters.hpp"

namespace quasar {

namespace {

constexpr std::uint8_t kInt8Pe = pe_bit(PeKind::int8), kW4a8Pe = pe_bit(PeKind::w4a8),
                       kDint4Pe = pe_bit(PeKind::dint4), kFp16Pe = pe_bit(PeKind::fp16),
                       kFp4xFp8Pe = pe_bit(PeKind::fp4xfp8), kFp4Pe = pe_bit(PeKind::fp4);
constexpr std::uint16_t kBlockKeys = trace_key::acc_bits | trace_key::block_acc | trace_key::frac_bits;
namespace k = trace_key;

}  // namespace

// Stored bytes: 4-bit codes are packed two per byte. Group metadata per (group, channel):
// fp16 scale 2 (w4a8-fs); 16-bit integer scale 2 (w4a8-is: S < 2^16 at alpha = 2^10); fp16
// scale + uint4 zero 2.5 (w4a16); int8 S2 + uint4 zero 1.5 (DGQ, QServe). Per channel: an fp16
// scale. Scale-RF words: those bytes rounded up to 16-bit words (tests/unit checks the two).
// Block-scaled (spec §5): one 8-bit scale per block of 32 (MX: E8M0) or 16 (NVFP4: E4M3) along
// K, for weights per (block, channel) and for activations per (token, block), so an MXFP4
// element costs 4.25 bits and an NVFP4 one 4.5. NVFP4's fp32 scale per tensor (4 bytes per
// weight matrix and per activation tensor) is not in these per-element rates and not moved:
// 4 bytes against 9.4 MB of a 4096 x 4096 weight (docs/numerics.md says so).
// importable: a target of `quasar trace import` (trace/importers.cpp import_candidates is the
// policy; a unit test keeps the two equal): the block schemes whose weights a published
// checkpoint layout stores (NVFP4, MXFP4); no MXINT8 checkpoint layout is published.
const std::array<SchemeInfo, 12>& all_schemes() {
  static const std::array<SchemeInfo, 12> kSchemes{{
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
      {Scheme::w4a8_mx, "w4a8-mx", "MXFP4 weights, MXFP8 (E4M3) activations, per 32 along K",
       false, 1.0 + 1.0 / 32, 0.5, 0.0, true, 1.0, 0.0, 1,
       kFp4xFp8Pe, ScaleUnit::block, Dequant::none, Accumulation::int_block,
       act::kMulE2m1xE4m3, nullptr, nullptr,
       kBlockKeys, TensorRoles::block, true,
       32, BlockElem::e4m3, BlockElem::e2m1, false},
      {Scheme::w4a4_mxfp4, "w4a4-mxfp4", "MXFP4 weights and activations, per 32 along K",
       false, 0.5 + 1.0 / 32, 0.5, 0.0, true, 1.0, 0.0, 1,
       kFp4Pe | kFp4xFp8Pe, ScaleUnit::block, Dequant::none, Accumulation::int_block,
       act::kMulE2m1xE2m1, nullptr, nullptr,
       kBlockKeys, TensorRoles::block, true,
       32, BlockElem::e2m1, BlockElem::e2m1, false},
      {Scheme::w8a8_mxint8, "w8a8-mxint8", "MXINT8 weights and activations, per 32 along K",
       false, 1.0 + 1.0 / 32, 1.0, 0.0, true, 1.0, 0.0, 1,
       kInt8Pe, ScaleUnit::block, Dequant::none, Accumulation::int_block,
       act::kMulInt8xInt8, nullptr, nullptr,
       kBlockKeys, TensorRoles::block, false,
       32, BlockElem::mxint8, BlockElem::mxint8, false},
      {Scheme::w4a4_nvfp4, "w4a4-nvfp4", "NVFP4 weights and activations (E4M3 scale per 16)",
       false, 0.5 + 1.0 / 16, 0.5, 0.0, true, 1.0, 0.0, 1,
       kFp4Pe | kFp4xFp8Pe, ScaleUnit::block, Dequant::none, Accumulation::int_block,
       act::kMulE2m1xE2m1, nullptr, nullptr,
       0, TensorRoles::block, true,
       16, BlockElem::e2m1, BlockElem::e2m1, true},
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

const std::array<ActFormatInfo, 5>& all_act_formats() {
  static const std::array<ActFormatInfo, 5> kFormats{{
      {ActFormat::int8, "int8", 0, BlockElem::mxint8},
      {ActFormat::mxfp8, "mxfp8", 32, BlockElem::e4m3},
      {ActFormat::mxfp4, "mxfp4", 32, BlockElem::e2m1},
      {ActFormat::mxint8, "mxint8", 32, BlockElem::mxint8},
      {ActFormat::nvfp4, "nvfp4", 16, BlockElem::e2m1},
  }};
  return kFormats;
}

const ActFormatInfo& act_format_info(ActFormat f) {
  return all_act_formats()[static_cast<std::size_t>(f)];
}

std::optional<ActFormat> act_format_from_name(std::string_view name) {
  for (const ActFormatInfo& i : all_act_formats()) {
    if (i.name == name) return i.format;
  }
  return std::nullopt;
}

std::string act_format_names_joined(std::string_view separator) {
  std::string out;
  for (const ActFormatInfo& i : all_act_formats()) {
    if (!out.empty()) out += separator;
    out += i.name;
  }
  return out;
}

std::optional<ActFormat> act_format(Scheme s) {
  const SchemeInfo& t = traits(s);
  if (t.int_activations) return ActFormat::int8;
  if (!block_scaled(t)) return std::nullopt;
  if (t.e4m3_scales) return ActFormat::nvfp4;
  switch (t.x_elem) {
    case BlockElem::e4m3:
      return ActFormat::mxfp8;
    case BlockElem::e2m1:
      return ActFormat::mxfp4;
    case BlockElem::mxint8:
      return ActFormat::mxint8;
  }
  return std::nullopt;
}

const std::array<PeKindInfo, 6>& all_pe_kinds() {
  static const std::array<PeKindInfo, 6> kKinds{{
      {PeKind::int8, "int8", "mac_int8", true, 8},
      {PeKind::w4a8, "w4a8", "mac_w4a8", true, 8},
      {PeKind::dint4, "dint4", "mac_dint4_a", true, 8},
      {PeKind::fp16, "fp16", "mac_fp16", true, 16},
      {PeKind::fp4xfp8, "fp4xfp8", "mac_e2m1xe4m3", true, 8},
      {PeKind::fp4, "fp4", "mac_e2m1xe2m1", true, 4},
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

const std::array<ScaleUnitInfo, 4>& all_scale_units() {
  static const std::array<ScaleUnitInfo, 4> kUnits{{
      {ScaleUnit::intscale, "intscale", "intscale_units", "integer-scale accumulators"},
      {ScaleUnit::floatscale, "floatscale", "floatscale_units", "float-scale units"},
      {ScaleUnit::dequant, "dequant", "dequant_units", "weight dequantizers"},
      {ScaleUnit::block, "block", "block_units", "block-scale accumulators"},
  }};
  return kUnits;
}

const char* scale_unit_name(ScaleUnit u) {
  return all_scale_units()[static_cast<std::size_t>(u)].name.data();
}

}  // namespace quasar
