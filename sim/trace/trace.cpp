#include "trace.hpp"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "io/input_file.hpp"
#include "config/yaml_value.hpp"
#include "io/output_file.hpp"
#include "numerics/error.hpp"

namespace quasar::trace {
namespace {

// Largest m, n, k, batch or repeat a trace may give.
constexpr std::uint64_t kMaxDim = std::uint64_t{1} << 40;

struct OpInfo {
  Op op;
  const char* name;
};
constexpr OpInfo kOps[] = {
    {Op::linear, "linear"},
    {Op::bmm, "bmm"},
    {Op::rmsnorm, "rmsnorm"},
    {Op::layernorm, "layernorm"},
    {Op::softmax, "softmax"},
    {Op::activation, "activation"},
    {Op::residual_add, "residual_add"},
    {Op::rope, "rope"},
    {Op::quantize_act, "quantize_act"},
    {Op::moe_router, "moe_router"},
    {Op::kv_append, "kv_append"},
};

const std::vector<std::string> kActivationFunctions{"silu_mul", "gelu", "relu"};

// Every layer parameter key, in the order the manifest writer writes them (the bit order of
// numerics/scheme.hpp's trace_key).
struct KeyName {
  std::uint16_t bit;
  const char* name;
};
constexpr KeyName kParamKeys[] = {
    {trace_key::group_size, "group_size"}, {trace_key::act, "act"},
    {trace_key::acc_bits, "acc_bits"},     {trace_key::psum_bits, "psum_bits"},
    {trace_key::int_scale, "int_scale"},   {trace_key::alpha_bits, "alpha_bits"},
    {trace_key::dint_set, "dint_set"},     {trace_key::dequant, "dequant"},
    {trace_key::k_tile, "k_tile"},      {trace_key::block_acc, "block_acc"},
    {trace_key::frac_bits, "frac_bits"},
};

// The parameter keys that apply to a scheme (a key that does not apply is an error: it would
// silently do nothing).
std::vector<std::string> param_keys(Scheme s) {
  std::vector<std::string> keys;
  for (const KeyName& k : kParamKeys)
    if (has_trace_key(s, k.bit)) keys.emplace_back(k.name);
  return keys;
}

std::vector<std::string> scheme_names() {
  std::vector<std::string> v;
  for (const SchemeInfo& i : all_schemes()) v.emplace_back(i.name);
  return v;
}

std::vector<std::string> op_names() {
  std::vector<std::string> v;
  for (const OpInfo& i : kOps) v.emplace_back(i.name);
  return v;
}

LayerScheme parse_scheme(const config::Value& l) {
  LayerScheme s;
  s.scheme = *scheme_from_name(l.at("scheme").as_choice(scheme_names()));
  const std::vector<std::string> allowed = param_keys(s.scheme);
  for (const KeyName& kn : kParamKeys) {
    const char* key = kn.name;
    const auto v = l.find(key);
    if (!v) continue;
    bool ok = false;
    for (const auto& a : allowed) ok = ok || a == key;
    if (!ok) v->fail(std::string("does not apply to scheme ") + std::string(scheme_name(s.scheme)));
    const std::string k = key;
    if (k == "group_size") s.group_size = v->as_uint(1, 1u << 20);
    if (k == "act")
      s.act = v->as_choice({"per-token", "per-tensor"}) == "per-token" ? ActQuantMode::per_token
                                                                       : ActQuantMode::per_tensor;
    if (k == "acc_bits") s.acc_bits = static_cast<int>(v->as_int(2, 64));
    if (k == "psum_bits") s.psum_bits = static_cast<int>(v->as_int(2, 64));
    if (k == "int_scale")
      s.int_scale = v->as_choice({"fixed", "per-layer"}) == "fixed" ? IntScaleMode::fixed
                                                                    : IntScaleMode::per_layer;
    if (k == "alpha_bits") s.alpha_bits = static_cast<int>(v->as_int(0, 30));
    if (k == "dint_set") s.dint_set = v->as_choice({"A", "B"}) == "A" ? DintSet::A : DintSet::B;
    if (k == "dequant")
      s.dequant = v->as_choice({"fused", "materialized"}) == "fused" ? DequantMode::fused
                                                                     : DequantMode::materialized;
    if (k == "k_tile") s.k_tile = v->as_uint(0, 1u << 30);
    if (k == "block_acc")
      s.block_acc = v->as_choice({"fp32", "fixed"}) == "fp32" ? BlockAcc::fp32 : BlockAcc::fixed;
    if (k == "frac_bits") s.frac_bits = static_cast<int>(v->as_int(0, 62));
  }
  if (const SchemeInfo& t = traits(s.scheme); block_scaled(t)) {
    s.group_size = t.block;
    if (!l.find("acc_bits")) s.acc_bits = kBlockAccBits;
  }
  return s;
}

Layer parse_layer(const config::Value& l) {
  if (!l.is_map()) l.fail("each layer must be a mapping");
  Layer layer;
  layer.line = l.line();
  layer.name = l.at("name").as_string();
  const std::string op = l.at("op").as_choice(op_names());
  layer.op = *op_from_name(op);
  std::vector<std::string> allowed{"name", "op", "m", "n", "repeat", "tensors", "inputs"};
  if (is_gemm(layer.op)) {
    allowed.insert(allowed.end(), {"k", "scheme", "group_size", "act", "acc_bits", "psum_bits",
                                   "int_scale", "alpha_bits", "dint_set", "dequant", "k_tile",
                                   "block_acc", "frac_bits"});
  }
  if (layer.op == Op::bmm || layer.op == Op::softmax || layer.op == Op::rope ||
      layer.op == Op::kv_append)
    allowed.push_back("batch");
  if (layer.op == Op::bmm)
    allowed.insert(allowed.end(), {"attention", "attention_mode", "attention_tile"});
  if (layer.op == Op::bmm || layer.op == Op::kv_append) allowed.push_back("kv_format");
  if (layer.op == Op::bmm || layer.op == Op::softmax) allowed.push_back("causal");
  if (layer.op == Op::activation) allowed.push_back("function");
  if (layer.op == Op::moe_router) allowed.push_back("top_k");
  if (layer.op == Op::quantize_act) allowed.push_back("act_format");
  l.require_keys_in(allowed);
  layer.m = l.at("m").as_uint(1, kMaxDim);
  layer.n = l.at("n").as_uint(1, kMaxDim);
  if (is_gemm(layer.op)) {
    layer.k = l.at("k").as_uint(1, kMaxDim);
    layer.scheme = parse_scheme(l);
  }
  if (auto v = l.find("batch")) layer.batch = v->as_uint(1, kMaxDim);
  if (auto v = l.find("repeat")) layer.repeat = v->as_uint(1, kMaxDim);
  if (layer.op == Op::activation) layer.function = l.at("function").as_choice(kActivationFunctions);
  if (layer.op == Op::moe_router) layer.top_k = l.at("top_k").as_uint(1, layer.n);
  if (auto v = l.find("attention")) layer.attention = v->as_choice({"qk", "pv"});
  if (auto v = l.find("causal")) layer.causal = v->as_bool();
  if (auto v = l.find("kv_format"))
    layer.kv_format = parse_kv_format(v->as_choice({"fp16", "int8", "int4"}));
  if (auto v = l.find("attention_mode"))
    layer.attention_mode = parse_attention_mode(v->as_choice({"fp32", "int8"}));
  if (auto v = l.find("attention_tile")) layer.attention_tile = v->as_uint(0, kMaxDim);
  if (auto v = l.find("act_format")) {
    std::vector<std::string> names;
    for (const ActFormatInfo& f : all_act_formats()) names.emplace_back(f.name);
    layer.act_format = act_format_from_name(v->as_choice(names));
  }
  if (auto in = l.find("inputs")) {
    if (!in->is_seq()) in->fail("expected a list of the names of earlier records, e.g. [layer.q_proj]");
    layer.inputs.emplace();
    for (std::size_t i = 0; i < in->size(); ++i) layer.inputs->push_back((*in)[i].as_string());
  }
  if (auto t = l.find("tensors")) {
    if (!t->is_map()) t->fail("expected a mapping of role: tensor name");
    for (const std::string& role : t->keys()) layer.tensors[role] = t->at(role).as_string();
  }
  return layer;
}

// Double-quoted YAML scalar (names may hold any character): quotes, backslashes and control
// characters escaped, so a line break or tab in a name reads back as itself (a raw one would
// be folded by the parser; fuzz_manifest found that).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", u);
      out += hex;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

[[noreturn]] void fail_layer(const std::string& source, const Layer& l, const std::string& msg) {
  throw Error(source + (l.line ? ":" + std::to_string(l.line) : std::string()) + ": layer '" +
              l.name + "': " + msg);
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// kv_format on kv_append and attention pv records; attention_mode and attention_tile on
// attention pv records; int8 attention needs an int8 cache and the unfused softmax (as the
// reference: docs/numerics.md row 20).
void validate_attention_keys(const std::string& source, const Layer& l) {
  const bool pv = l.op == Op::bmm && l.attention == "pv";
  if (l.kv_format && !pv && l.op != Op::kv_append)
    fail_layer(source, l, "kv_format: on kv_append and attention: pv records only");
  if ((l.attention_mode || l.attention_tile) && !pv)
    fail_layer(source, l, "attention_mode and attention_tile: on attention: pv records only");
  if (l.attention_mode == AttentionMode::int8) {
    if (l.kv_format != KvFormat::int8) {
      fail_layer(source, l,
                 "attention_mode int8 needs kv_format int8 (got " +
                     std::string(kv_format_name(l.kv_format.value_or(KvFormat::fp16))) +
                     "); accepted: fp32 with fp16, int8 or int4, int8 with int8");
    }
    if (l.attention_tile.value_or(0) != 0) {
      fail_layer(source, l,
                 "attention_mode int8 is defined for the unfused softmax only "
                 "(attention_tile 0), got attention_tile " +
                     std::to_string(*l.attention_tile));
    }
  }
}

// A non-GEMM record's tensors are exactly its op's roles: every required one, no other.
void validate_op_roles(const std::string& source, const Layer& l) {
  if (l.tensors.empty()) return;
  const std::string why = why_no_op_data(l);
  if (!why.empty()) fail_layer(source, l, why);
  const std::vector<OpRole> roles = op_roles(l);
  std::vector<std::string> names;
  for (const OpRole& r : roles) names.push_back(r.name + (r.optional ? " (optional)" : ""));
  const std::string what = l.op == Op::bmm ? "attention pv" : std::string(op_name(l.op));
  for (const auto& [role, tensor] : l.tensors) {
    bool known = false;
    for (const OpRole& r : roles) known = known || r.name == role;
    if (!known) {
      fail_layer(source, l,
                 "tensor role '" + role + "' is not one of the " + what + " record's roles (" +
                     joined(names) + ")");
    }
    if (tensor.empty()) fail_layer(source, l, "tensor role '" + role + "' names no tensor");
  }
  for (const OpRole& r : roles) {
    if (!r.optional && !l.tensors.count(r.name)) {
      fail_layer(source, l,
                 "data-bearing " + what + " record lacks tensor role '" + r.name +
                     "' (roles: " + joined(names) + ")");
    }
  }
}

}  // namespace

const char* op_name(Op op) {
  for (const OpInfo& i : kOps) {
    if (i.op == op) return i.name;
  }
  return "?";
}

std::optional<Op> op_from_name(const std::string& name) {
  for (const OpInfo& i : kOps) {
    if (name == i.name) return i.op;
  }
  return std::nullopt;
}

bool is_gemm(Op op) { return op == Op::linear || op == Op::bmm; }

LayerScheme for_scheme(Scheme s, LayerScheme base) {
  base.scheme = s;
  if (const SchemeInfo& t = traits(s); block_scaled(t)) {
    base.group_size = t.block;
    if (base.acc_bits == LayerScheme{}.acc_bits) base.acc_bits = kBlockAccBits;
  }
  return base;
}

GemmOptions LayerScheme::gemm_options() const {
  GemmOptions o;
  o.acc_bits = acc_bits;
  o.psum_bits = psum_bits;
  o.k_tile = k_tile;
  o.block_acc = block_acc;
  o.frac_bits = frac_bits;
  return o;
}

bool LayerScheme::operator==(const LayerScheme& o) const {
  return scheme == o.scheme && group_size == o.group_size && act == o.act &&
         acc_bits == o.acc_bits && psum_bits == o.psum_bits && int_scale == o.int_scale &&
         alpha_bits == o.alpha_bits && dint_set == o.dint_set && dequant == o.dequant &&
         k_tile == o.k_tile && block_acc == o.block_acc && frac_bits == o.frac_bits;
}

std::uint64_t Trace::total_macs() const {
  std::uint64_t t = 0;
  for (const Layer& l : layers) t += l.macs();
  return t;
}

const std::vector<std::string>& required_roles(Scheme s) {
  static const std::vector<std::string> fp16{"x_f16", "w_f16"};
  static const std::vector<std::string> w4a16{"x_f16", "w_codes", "w_scales"};
  static const std::vector<std::string> single{"x_q", "x_scale", "w_codes", "w_scales"};
  static const std::vector<std::string> is{"x_q", "x_scale", "w_codes", "w_scales", "int_scales"};
  static const std::vector<std::string> block{"x_elems", "x_bscales", "w_elems", "w_bscales"};
  static const std::vector<std::string> nvfp4{"x_elems",   "x_bscales", "x_tscale",
                                              "w_elems",   "w_bscales", "w_tscale"};
  static const std::vector<std::string> two{"x_q",   "x_scale",     "q",
                                            "zeros", "group_scale", "channel_scale"};
  switch (traits(s).roles) {
    case TensorRoles::fp16:
      return fp16;
    case TensorRoles::w4a16:
      return w4a16;
    case TensorRoles::single_int_scales:
      return is;
    case TensorRoles::two_level:
      return two;
    case TensorRoles::single:
      return single;
    case TensorRoles::block:
      return traits(s).e4m3_scales ? nvfp4 : block;
  }
  return single;
}

const std::vector<std::string>& optional_roles() {
  // k_order: an imported act-order layer's input channels in trace order (I32 [K]).
  static const std::vector<std::string> r{"y", "x", "w", "bias", "smoothing", "w_zeros", "k_order"};
  return r;
}

AttentionOptions Layer::attention_options() const {
  AttentionOptions o;
  o.mode = attention_mode.value_or(AttentionMode::fp32);
  o.tile = static_cast<std::size_t>(attention_tile.value_or(0));
  return o;
}

std::string why_no_op_data(const Layer& l) {
  switch (l.op) {
    case Op::linear:
      return "";
    case Op::rmsnorm:
    case Op::rope:
    case Op::residual_add:
    case Op::quantize_act:
    case Op::kv_append:
      return "";
    case Op::activation:
      if (l.function == "silu_mul") return "";
      return "activation " + l.function +
             " carries no tensors: the reference has silu_mul only (data-bearing ops: " +
             "rmsnorm, rope, residual_add, activation silu_mul, quantize_act, kv_append, "
             "attention pv, linear)";
    case Op::bmm:
      if (l.attention == "pv") return "";
      return l.attention == "qk"
                 ? "an attention qk record carries no tensors: attention is recorded as a unit "
                   "on its pv record (q, the cached K and V, scores, probabilities, output)"
                 : "a plain bmm carries no tensors in format 1 (attention is recorded on its pv "
                   "record)";
    default:
      break;
  }
  return std::string(op_name(l.op)) +
         " records carry no tensors in format 1 (data-bearing ops: rmsnorm, rope, residual_add, "
         "activation silu_mul, quantize_act, kv_append, attention pv, linear)";
}

std::vector<OpRole> op_roles(const Layer& l) {
  auto in = [](const char* n) { return OpRole{n, false, false}; };
  auto out = [](const char* n) { return OpRole{n, true, false}; };
  switch (l.op) {
    case Op::rmsnorm:
      return {in("x"), in("g"), in("eps"), out("y")};
    case Op::rope:
      return {in("x"), in("positions"), in("cos"), in("sin"), out("y")};
    case Op::residual_add:
      return {in("a"), in("b"), out("y")};
    case Op::activation:
      if (l.function != "silu_mul") return {};
      return {in("g"), in("u"), out("y")};
    case Op::quantize_act: {
      const ActFormat f = l.act_format.value_or(ActFormat::int8);
      if (act_format_info(f).block == 0)
        return {in("x"), OpRole{"smoothing", false, true}, out("x_q"), out("x_scale")};
      // The roles a block-scaled linear reads its activations by (required_roles).
      std::vector<OpRole> r{in("x"), out("x_elems"), out("x_bscales")};
      if (f == ActFormat::nvfp4) r.push_back(out("x_tscale"));
      return r;
    }
    case Op::kv_append:
      switch (l.kv_format.value_or(KvFormat::fp16)) {
        case KvFormat::fp16:
          return {in("x"), out("y")};
        case KvFormat::int8:
          return {in("x"), out("codes"), out("scales")};
        case KvFormat::int4:
          return {in("x"), out("codes"), out("scales"), out("zeros")};
      }
      return {};
    case Op::bmm: {
      if (l.attention != "pv") return {};
      std::vector<OpRole> r{in("q"), in("positions"), in("k"), in("v"), out("y")};
      r.push_back(OpRole{"scores", true, true});
      // The tiled softmax never forms the probabilities.
      if (l.attention_tile.value_or(0) == 0) r.push_back(OpRole{"probs", true, true});
      return r;
    }
    default:
      return {};
  }
}

void validate(const Trace& t, const std::string& source) {
  std::set<std::string> names;
  std::set<std::string> all;
  for (const Layer& l : t.layers) all.insert(l.name);
  for (const Layer& l : t.layers) {
    if (l.name.empty()) fail_layer(source, l, "name is empty");
    if (!names.insert(l.name).second) fail_layer(source, l, "name is used by an earlier layer");
    if (l.inputs) {
      std::set<std::string> seen;
      for (const std::string& in : *l.inputs) {
        if (!seen.insert(in).second) fail_layer(source, l, "inputs: '" + in + "' is listed twice");
        if (in == l.name)
          fail_layer(source, l, "inputs: '" + in + "' is the record itself (a dependency cycle)");
        if (!all.count(in))
          fail_layer(source, l, "inputs: no record is named '" + in + "' (a missing producer)");
        if (!names.count(in))
          fail_layer(source, l,
                     "inputs: '" + in +
                         "' comes later in the trace; records are listed in an order they can "
                         "run in, so a later producer is a dependency cycle");
      }
    }
    if (l.m == 0 || l.n == 0 || l.batch == 0 || l.repeat == 0) {
      fail_layer(source, l, "m, n, batch and repeat must be >= 1");
    }
    // The reader's limits hold for every trace (generated ones too), and the layer's work must
    // fit the 64-bit counters with room to sum layers: no silent wrap to a tiny MAC count.
    for (std::uint64_t d : {l.m, l.n, l.k, l.batch, l.repeat}) {
      if (d > kMaxDim) {
        fail_layer(source, l,
                   "a dimension (m, n, k, batch or repeat) is " + std::to_string(d) +
                       ", above the limit 2^40");
      }
    }
    constexpr std::uint64_t kMaxWork = std::uint64_t{1} << 62;
    std::uint64_t work = 1;
    bool over = false;
    for (std::uint64_t d : {l.batch, l.m, l.n, std::max<std::uint64_t>(l.k, 1), l.repeat}) {
      over = over || work > kMaxWork / d;
      if (!over) work *= d;
    }
    if (over) {
      fail_layer(source, l,
                 "batch x m x k x n x repeat is above 2^62 (quasar counts work in 64 bits)");
    }
    if (is_gemm(l.op) != l.scheme.has_value()) {
      fail_layer(source, l,
                 is_gemm(l.op) ? "a GEMM layer needs a scheme" : "only GEMM layers take a scheme");
    }
    if (!is_gemm(l.op) && l.k != 0) fail_layer(source, l, "only GEMM layers have k");
    if (!l.attention.empty() && (l.op != Op::bmm || (l.attention != "qk" && l.attention != "pv")))
      fail_layer(source, l, "attention: qk or pv, on bmm records only");
    if (l.causal && l.op != Op::bmm && l.op != Op::softmax)
      fail_layer(source, l, "causal: on bmm and softmax records only");
    if (l.causal && l.op == Op::softmax && l.m != l.n)
      fail_layer(source, l, "a causal softmax has as many rows (queries) as columns (keys): m = n");
    if (l.causal && l.op == Op::bmm &&
        (l.attention.empty() || (l.attention == "qk" ? l.m != l.n : l.m != l.k)))
      fail_layer(source, l,
                 "a causal bmm is an attention matmul (attention: qk or pv) with as many queries "
                 "as keys (qk: m = n; pv: m = k)");
    if (l.op == Op::moe_router && (l.top_k == 0 || l.top_k > l.n)) {
      fail_layer(source, l, "moe_router needs 1 <= top_k <= n (the expert count)");
    }
    validate_attention_keys(source, l);
    if (l.op != Op::linear) {
      validate_op_roles(source, l);
      if (l.op != Op::bmm) continue;
    }
    if (!l.scheme) continue;
    if (l.k == 0) fail_layer(source, l, "k must be >= 1");
    const LayerScheme& s = *l.scheme;
    if (block_scaled(traits(s.scheme)) && l.k % s.group_size != 0) {
      fail_layer(source, l,
                 "k = " + std::to_string(l.k) + " is not a multiple of scheme " +
                     std::string(scheme_name(s.scheme)) + "'s block of " +
                     std::to_string(s.group_size) + " (a block may not straddle K's end)");
    }
    if (traits(s.scheme).grouped && (s.group_size == 0 || l.k % s.group_size != 0)) {
      fail_layer(source, l,
                 "group_size " + std::to_string(s.group_size) +
                     " does not divide k = " + std::to_string(l.k));
    }
    if (l.tensors.empty() || l.op != Op::linear) continue;
    const auto& req = required_roles(s.scheme);
    for (const auto& [role, tensor] : l.tensors) {
      bool known = false;
      for (const auto& r : req) known = known || r == role;
      for (const auto& r : optional_roles()) known = known || r == role;
      if (!known) {
        std::string accepted;
        for (const auto& r : req) accepted += (accepted.empty() ? "" : ", ") + r;
        for (const auto& r : optional_roles()) accepted += ", " + r;
        fail_layer(source, l,
                   "tensor role '" + role + "' is not one of scheme " +
                       std::string(scheme_name(s.scheme)) + "'s roles (" + accepted + ")");
      }
      if (tensor.empty()) fail_layer(source, l, "tensor role '" + role + "' names no tensor");
    }
    for (const auto& r : req) {
      if (!l.tensors.count(r)) {
        fail_layer(source, l,
                   "data-bearing layer lacks tensor role '" + r + "' required by scheme " +
                       std::string(scheme_name(s.scheme)));
      }
    }
  }
  // A quantizing linear reads activations in its scheme's format: a quantize_act it consumes
  // must produce that format (a block-scaled linear fed per-token int8 would be timed and
  // checked as data it cannot read).
  for (std::size_t i = 0; i < t.layers.size(); ++i) {
    const Layer& l = t.layers[i];
    if (l.op != Op::linear || !l.scheme) continue;
    const std::optional<ActFormat> want = act_format(l.scheme->scheme);
    if (!want) continue;
    for (std::size_t p : producers(t, i)) {
      const Layer& q = t.layers[p];
      if (q.op != Op::quantize_act) continue;
      const ActFormat got = q.act_format.value_or(ActFormat::int8);
      if (got != want) {
        fail_layer(source, l,
                   "scheme " + std::string(scheme_name(l.scheme->scheme)) +
                       " reads activations as " + std::string(act_format_info(*want).name) +
                       ", but its input '" + q.name + "' quantizes to " +
                       std::string(act_format_info(got).name) + " (set act_format: " +
                       std::string(act_format_info(*want).name) + " on '" + q.name + "')");
      }
    }
  }
  if (!t.payload.empty()) {
    bool any = false;
    for (const Layer& l : t.layers) any = any || !l.tensors.empty();
    if (!any)
      throw Error(source + ": payload '" + t.payload +
                  "' is named but no layer references a tensor");
  }
}

Trace parse_manifest(const std::string& yaml_text, const std::string& source) {
  const config::Value root = config::Value::load_string(yaml_text, source);
  if (!root.is_map())
    root.fail("a trace manifest is a mapping with keys quasar_trace, name, layers");
  root.require_keys_in({"quasar_trace", "name", "meta", "payload", "layers"});
  const std::int64_t version = root.at("quasar_trace").as_int(0, 1000);
  if (version != kFormatVersion) {
    root.at("quasar_trace")
        .fail("trace format version " + std::to_string(version) +
              " is not supported; this quasar reads version " + std::to_string(kFormatVersion));
  }
  Trace t;
  t.name = root.at("name").as_string();
  if (auto m = root.find("meta")) {
    for (const std::string& k : m->keys()) t.meta[k] = m->at(k).as_string();
  }
  if (auto p = root.find("payload")) t.payload = p->as_string();
  const config::Value layers = root.at("layers");
  if (!layers.is_seq()) layers.fail("expected a sequence of layers");
  for (std::size_t i = 0; i < layers.size(); ++i) t.layers.push_back(parse_layer(layers[i]));
  validate(t, source);
  return t;
}

Trace read_manifest(const std::string& path) {
  return parse_manifest(io::read_text_file(path, "trace manifest"), path);
}

std::string to_yaml(const Trace& t) {
  std::ostringstream o;
  o << "quasar_trace: " << kFormatVersion << "\n";
  o << "name: " << quoted(t.name) << "\n";
  if (!t.meta.empty()) {
    o << "meta:\n";
    for (const auto& [k, v] : t.meta) o << "  " << quoted(k) << ": " << quoted(v) << "\n";
  }
  if (!t.payload.empty()) o << "payload: " << quoted(t.payload) << "\n";
  o << "layers:\n";
  for (const Layer& l : t.layers) {
    o << "  - name: " << quoted(l.name) << "\n    op: " << op_name(l.op) << "\n";
    if (l.batch != 1 || l.op == Op::bmm) o << "    batch: " << l.batch << "\n";
    o << "    m: " << l.m << "\n";
    if (is_gemm(l.op)) o << "    k: " << l.k << "\n";
    o << "    n: " << l.n << "\n";
    if (l.repeat != 1) o << "    repeat: " << l.repeat << "\n";
    if (l.op == Op::activation) o << "    function: " << l.function << "\n";
    if (l.op == Op::moe_router) o << "    top_k: " << l.top_k << "\n";
    if (!l.attention.empty()) o << "    attention: " << l.attention << "\n";
    if (l.causal) o << "    causal: true\n";
    if (l.kv_format) o << "    kv_format: " << kv_format_name(*l.kv_format) << "\n";
    if (l.attention_mode)
      o << "    attention_mode: " << attention_mode_name(*l.attention_mode) << "\n";
    if (l.attention_tile) o << "    attention_tile: " << *l.attention_tile << "\n";
    if (l.act_format) o << "    act_format: " << act_format_info(*l.act_format).name << "\n";
    if (l.scheme) {
      const LayerScheme& s = *l.scheme;
      o << "    scheme: " << scheme_name(s.scheme) << "\n";
      for (const std::string& key : param_keys(s.scheme)) {
        o << "    " << key << ": ";
        if (key == "group_size") o << s.group_size;
        if (key == "act") o << (s.act == ActQuantMode::per_token ? "per-token" : "per-tensor");
        if (key == "acc_bits") o << s.acc_bits;
        if (key == "psum_bits") o << s.psum_bits;
        if (key == "int_scale") o << (s.int_scale == IntScaleMode::fixed ? "fixed" : "per-layer");
        if (key == "alpha_bits") o << s.alpha_bits;
        if (key == "dint_set") o << (s.dint_set == DintSet::A ? "A" : "B");
        if (key == "dequant") o << (s.dequant == DequantMode::fused ? "fused" : "materialized");
        if (key == "k_tile") o << s.k_tile;
        if (key == "block_acc") o << (s.block_acc == BlockAcc::fp32 ? "fp32" : "fixed");
        if (key == "frac_bits") o << s.frac_bits;
        o << "\n";
      }
    }
    if (l.inputs) {
      o << "    inputs: [";
      for (std::size_t i = 0; i < l.inputs->size(); ++i)
        o << (i ? ", " : "") << quoted((*l.inputs)[i]);
      o << "]\n";
    }
    if (!l.tensors.empty()) {
      o << "    tensors:\n";
      for (const auto& [role, name] : l.tensors)
        o << "      " << role << ": " << quoted(name) << "\n";
    }
  }
  return o.str();
}

std::vector<std::size_t> producers(const Trace& t, std::size_t i) {
  const Layer& l = t.layers.at(i);
  if (!l.inputs) return i == 0 ? std::vector<std::size_t>{} : std::vector<std::size_t>{i - 1};
  std::vector<std::size_t> out;
  for (const std::string& in : *l.inputs) {
    for (std::size_t j = 0; j < i; ++j) {
      if (t.layers[j].name == in) {
        out.push_back(j);
        break;
      }
    }
  }
  return out;
}

void write_manifest(const std::string& path, const Trace& t) {
  validate(t, path);
  const std::string text = to_yaml(t);
  io::write_file(path, text);
}

}  // namespace quasar::trace
