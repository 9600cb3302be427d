#include "scheme_tensors.hpp"

#include <string>
#include <utility>
#include <vector>

namespace quasar {

void add_scheme_tensors(safetensors::File& file, const std::string& prefix, const SchemeRun& run) {
  using safetensors::from_matrix;
  using safetensors::from_vector;
  auto put = [&](const std::string& role, safetensors::Tensor t) {
    file.tensors[prefix + "/" + role] = std::move(t);
  };
  const SchemeOperands& op = run.operands;
  put("y", from_matrix(run.result.y));
  if (op.x_f16) put("x_f16", from_matrix(*op.x_f16));
  if (op.w_f16) put("w_f16", from_matrix(*op.w_f16));
  if (op.x_q) {
    put("x_q", from_matrix(op.x_q->q));
    put("x_scale", from_vector(op.x_q->scale));
  }
  if (op.w_q) {
    put("w_codes", from_matrix(op.w_q->codes));
    put("w_scales", from_matrix(op.w_q->scales));
    if (!op.w_q->zeros.empty()) put("w_zeros", from_matrix(op.w_q->zeros));
  }
  if (op.int_scales) put("int_scales", from_matrix(op.int_scales->S));
  if (op.two_level) {
    put("q", from_matrix(op.two_level->q));
    put("zeros", from_matrix(op.two_level->zeros));
    put("group_scale", from_matrix(op.two_level->group_scale));
    put("channel_scale", from_vector(op.two_level->channel_scale));
  }
  const std::pair<const char*, const std::optional<BlockTensor>*> blocks[] = {
      {"x", &op.x_block}, {"w", &op.w_block}};
  for (const auto& [side, t] : blocks) {
    if (!*t) continue;
    for (auto& [role, tensor] : block_tensors(side, **t)) put(role, std::move(tensor));
  }
  if (!op.smoothing.empty()) put("smoothing", from_vector(op.smoothing));
}

std::map<std::string, safetensors::Tensor> block_tensors(const std::string& side,
                                                         const BlockTensor& t) {
  std::map<std::string, safetensors::Tensor> out;
  out[side + "_elems"] = safetensors::from_matrix(t.codes);
  out[side + "_bscales"] = safetensors::from_matrix(t.scales);
  if (t.scale == BlockScale::e4m3)
    out[side + "_tscale"] = safetensors::from_vector(std::vector<float>{t.tensor_scale});
  return out;
}

}  // namespace quasar
