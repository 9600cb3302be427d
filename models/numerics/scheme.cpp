#include "scheme.hpp"

namespace quasar {

const std::array<SchemeInfo, 8>& all_schemes() {
  static const std::array<SchemeInfo, 8> kSchemes{{
      {Scheme::fp16, "fp16", "W16A16 baseline, fp32 accumulation"},
      {Scheme::w8a8, "w8a8", "int8 per-channel weights, int8 activations (SmoothQuant-style)"},
      {Scheme::w4a16, "w4a16", "uint4 group weights dequantized to fp16 (AWQ/GPTQ-style)"},
      {Scheme::w4a8_fs, "w4a8-fs", "int4 group weights, fp32 group-scale accumulation (FPTQ)"},
      {Scheme::w4a8_is, "w4a8-is", "int4 group weights, integer group scales (Integer Scale)"},
      {Scheme::w4a8_dgq, "w4a8-dgq", "uint4 with int8 group scales dequantized to int8 (DGQ)"},
      {Scheme::w4a8_dint, "w4a8-dint", "dint4 per-channel weights, AQAS smoothing (dINT)"},
      {Scheme::w4a8_qserve, "w4a8-qserve", "progressive group quantization (QServe)"},
  }};
  return kSchemes;
}

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

}  // namespace quasar
