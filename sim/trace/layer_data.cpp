#include "layer_data.hpp"

#include <cstring>

#include "numerics/error.hpp"
#include "trace/scheme_tensors.hpp"
#include "trace/tensor_loader.hpp"

namespace quasar::trace {
namespace {

using safetensors::DType;
using safetensors::Tensor;
using Loader = TensorLoader;

QuantizedActivations load_acts(const Loader& ld, const Layer& l) {
  QuantizedActivations x;
  x.q = ld.matrix<std::int8_t>("x_q", DType::I8, l.m, l.k);
  x.scale = ld.vector("x_scale", l.scheme->act == ActQuantMode::per_tensor ? 1 : l.m);
  return x;
}

QuantizedWeights load_weights(const Loader& ld, const Layer& l, WeightFormat f, std::size_t group) {
  QuantizedWeights w;
  w.format = f;
  w.dint_set = l.scheme->dint_set;
  w.group_size = group;
  w.codes = ld.matrix<std::int8_t>("w_codes", DType::I8, l.n, l.k);
  const std::uint64_t rows = ld.scale_rows("w_scales");
  w.per_tensor = rows == 1 && l.n > 1;
  w.scales = ld.matrix<float>("w_scales", DType::F32, rows, l.k / group);
  if (ld.has("w_zeros")) w.zeros = ld.matrix<std::int8_t>("w_zeros", DType::I8, rows, l.k / group);
  return w;
}

TwoLevelWeights load_two_level(const Loader& ld, const Layer& l) {
  TwoLevelWeights w;
  const std::size_t G = l.scheme->group_size;
  w.group_size = G;
  w.q = ld.matrix<std::uint8_t>("q", DType::U8, l.n, l.k);
  w.zeros = ld.matrix<std::uint8_t>("zeros", DType::U8, l.n, l.k / G);
  w.group_scale = ld.matrix<std::int32_t>("group_scale", DType::I32, l.n, l.k / G);
  w.channel_scale = ld.vector("channel_scale", l.n);
  if (ld.has("bias")) w.bias = ld.vector("bias", l.n);
  return w;
}

// A block-scaled operand (x: M x K, w: N x K) as the scheme's row says it is stored; every
// code and scale is checked, and a bad one is an error naming the payload tensor and element.
BlockTensor load_block(const Loader& ld, const Layer& l, bool weights) {
  const SchemeInfo& i = traits(l.scheme->scheme);
  const std::string side = weights ? "w" : "x";
  const std::uint64_t rows = weights ? l.n : l.m;
  if (l.k % i.block != 0) {
    ld.fail(side + "_elems", "cannot hold " + std::string(i.name) + " blocks: K = " +
                                 std::to_string(l.k) + " is not a multiple of the block (" +
                                 std::to_string(i.block) + ")");
  }
  BlockTensor t;
  t.elem = weights ? i.w_elem : i.x_elem;
  t.scale = i.e4m3_scales ? BlockScale::e4m3 : BlockScale::e8m0;
  t.block = i.block;
  t.codes = ld.matrix<std::uint8_t>(side + "_elems", DType::U8, rows, l.k);
  t.scales = ld.matrix<std::uint8_t>(side + "_bscales", DType::U8, rows, l.k / i.block);
  if (i.e4m3_scales) t.tensor_scale = ld.vector(side + "_tscale", 1)[0];
  try {
    check_block_tensor(t, side.c_str());
  } catch (const Error& e) {
    // check_block_tensor names the part ('w.codes', 'w.scales', 'w.tensor_scale'): the error
    // names the payload tensor of that part instead, and keeps the element or block.
    const std::string what = e.what();
    const std::string role = what.find("'" + side + ".scales'") != std::string::npos ? "_bscales"
                             : what.find("'" + side + ".tensor_scale'") != std::string::npos
                                 ? "_tscale"
                                 : "_elems";
    const std::size_t colon = what.find("': ");
    ld.fail(side + role, colon == std::string::npos ? what : what.substr(colon + 3));
  }
  return t;
}

// The layer's role (its `tensors` key) of the operand that the engine's checks call `operand`
// (gemm_checks.cpp), or "" when the engine's name has no single role. Bare "x" and "w" are the
// whole operand, so the role depends on how the scheme stores it.
std::string role_of_operand(const LayerScheme& s, const std::string& operand) {
  const SchemeInfo& t = traits(s.scheme);
  if (operand == "x") return t.int_activations ? "x_q" : "x_f16";
  if (operand == "x.scale") return "x_scale";
  if (operand == "w")
    return t.roles == TensorRoles::fp16 ? "w_f16" : two_level(t) ? "q" : "w_codes";
  if (operand == "w.codes") return "w_codes";
  if (operand == "w.scales") return "w_scales";
  if (operand == "w.zeros") return two_level(t) ? "zeros" : "w_zeros";
  if (operand == "w.int_scales") return "int_scales";
  if (operand == "w.q") return "q";
  if (operand == "w.group_scale") return "group_scale";
  if (operand == "w.channel_scale") return "channel_scale";
  if (operand == "w.bias") return "bias";
  return "";
}

// The layer's GEMM; operand errors name the engine's operand (run_layer renames them).
GemmResult run_layer_operands(const GemmEngine& e, const Layer& l, const SchemeOperands& op) {
  const LayerScheme& s = *l.scheme;
  const GemmOptions o = s.gemm_options();
  switch (s.scheme) {
    case Scheme::fp16:
      return e.fp16(*op.x_f16, *op.w_f16, o);
    case Scheme::w4a16:
      return e.w4a16(*op.x_f16, *op.w_q, o);
    case Scheme::w8a8:
      return e.w8a8(*op.x_q, *op.w_q, o);
    case Scheme::w4a8_fs:
      return e.w4a8_fs(*op.x_q, *op.w_q, o);
    case Scheme::w4a8_is:
      return e.w4a8_is(*op.x_q, *op.w_q, *op.int_scales, o);
    case Scheme::w4a8_dgq:
      return e.w4a8_dgq(*op.x_q, *op.two_level, s.dequant, o);
    case Scheme::w4a8_dint:
      return e.w4a8_dint(*op.x_q, *op.w_q, o);
    case Scheme::w4a8_qserve:
      return e.w4a8_qserve(*op.x_q, *op.two_level, o);
    case Scheme::w4a8_mx:
    case Scheme::w4a4_mxfp4:
    case Scheme::w8a8_mxint8:
    case Scheme::w4a4_nvfp4:
      return e.block_scaled(s.scheme, *op.x_block, *op.w_block, o);
  }
  throw Error("layer '" + l.name + "': unknown scheme");
}

}  // namespace

LayerData load_layer_data(const Layer& l, const safetensors::File& payload,
                          const std::string& source) {
  if (!l.scheme || l.tensors.empty()) {
    throw Error(source + ": layer '" + l.name + "' carries no tensors (a shape-only layer)");
  }
  const Loader ld(l, payload, source);
  LayerData d;
  SchemeOperands& op = d.operands;
  const LayerScheme& s = *l.scheme;
  switch (s.scheme) {
    case Scheme::fp16:
      op.x_f16 = ld.matrix<std::uint16_t>("x_f16", DType::F16, l.m, l.k);
      op.w_f16 = ld.matrix<std::uint16_t>("w_f16", DType::F16, l.n, l.k);
      break;
    case Scheme::w4a16:
      op.x_f16 = ld.matrix<std::uint16_t>("x_f16", DType::F16, l.m, l.k);
      op.w_q = load_weights(ld, l, ld.has("w_zeros") ? WeightFormat::uint4 : WeightFormat::int4,
                            s.group_size);
      break;
    case Scheme::w8a8:
    case Scheme::w4a8_dint:
      op.x_q = load_acts(ld, l);
      op.w_q = load_weights(
          ld, l, s.scheme == Scheme::w8a8 ? WeightFormat::int8 : WeightFormat::dint4, l.k);
      break;
    case Scheme::w4a8_fs:
    case Scheme::w4a8_is:
      op.x_q = load_acts(ld, l);
      op.w_q = load_weights(ld, l, WeightFormat::int4, s.group_size);
      if (s.scheme == Scheme::w4a8_is) {
        op.int_scales = IntegerScales{
            s.alpha_bits,
            ld.matrix<std::int32_t>("int_scales", DType::I32, l.n, l.k / s.group_size)};
      }
      break;
    case Scheme::w4a8_dgq:
    case Scheme::w4a8_qserve:
      op.x_q = load_acts(ld, l);
      op.two_level = load_two_level(ld, l);
      break;
    case Scheme::w4a8_mx:
    case Scheme::w4a4_mxfp4:
    case Scheme::w8a8_mxint8:
    case Scheme::w4a4_nvfp4:
      op.x_block = load_block(ld, l, false);
      op.w_block = load_block(ld, l, true);
      break;
  }
  if (ld.has("y")) d.expected_y = ld.matrix<std::uint16_t>("y", DType::F16, l.m, l.n);
  return d;
}

GemmResult run_layer(const GemmEngine& e, const Layer& l, const SchemeOperands& op) {
  try {
    return run_layer_operands(e, l, op);
  } catch (const OperandError& err) {
    // The engine knows the operand by its GEMM role ('w.codes'); the user knows the tensor in
    // the payload ('w4a8-is/w_codes'), so name that, with the layer's role as context.
    const std::string role = role_of_operand(*l.scheme, err.operand());
    const auto it = l.tensors.find(role);
    if (it == l.tensors.end()) throw;
    throw Error("tensor '" + it->second + "' (role " + role + ")" + err.problem());
  }
}

Layer layer_from_run(const std::string& name, const SchemeRun& run, const SchemeConfig& cfg,
                     safetensors::File& payload) {
  Layer l;
  l.name = name;
  l.op = Op::linear;
  l.m = run.result.y.rows();
  l.n = run.result.y.cols();
  l.k = run.operands.x_q       ? run.operands.x_q->q.cols()
        : run.operands.x_block ? run.operands.x_block->cols()
                               : run.operands.x_f16->cols();
  LayerScheme s;
  s.scheme = run.scheme;
  s.group_size = cfg.group_size;
  s.act = cfg.act_mode;
  s.acc_bits = cfg.gemm.acc_bits;
  s.psum_bits = cfg.gemm.psum_bits;
  s.k_tile = cfg.gemm.k_tile;
  s.int_scale = cfg.int_scale.mode;
  s.alpha_bits = run.operands.int_scales ? run.operands.int_scales->bits : cfg.int_scale.bits;
  s.dint_set = cfg.dint_set;
  s.dequant = cfg.dgq_dequant;
  s.block_acc = cfg.gemm.block_acc;
  s.frac_bits = cfg.gemm.frac_bits;
  if (block_scaled(traits(run.scheme))) s.group_size = traits(run.scheme).block;
  l.scheme = s;
  safetensors::File own;
  add_scheme_tensors(own, name, run);
  for (auto& [tensor, data] : own.tensors) {
    const std::string role = tensor.substr(name.size() + 1);
    l.tensors[role] = tensor;
    payload.tensors[tensor] = std::move(data);
  }
  return l;
}

std::string payload_path(const std::string& manifest_path, const Trace& t) {
  if (t.payload.empty() || t.payload[0] == '/') return t.payload;
  const auto slash = manifest_path.find_last_of('/');
  return slash == std::string::npos ? t.payload : manifest_path.substr(0, slash + 1) + t.payload;
}

}  // namespace quasar::trace
