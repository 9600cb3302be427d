#include "importers.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <optional>
#include <regex>
#include <set>

#include "io/output_set.hpp"
#include "numerics/block_formats.hpp"
#include "numerics/engine.hpp"
#include "numerics/error.hpp"
#include "numerics/gemm_block.hpp"
#include "numerics/quantize_activations.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/scheme_runner.hpp"
#include "numerics/synthetic.hpp"
#include "trace/layer_data.hpp"

namespace quasar::trace {
namespace {

using safetensors::DType;
using safetensors::Tensor;
using Shape = std::vector<std::int64_t>;

std::string str(const Shape& s) {
  std::string out = "[";
  for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
  return out + "]";
}

std::string hex(std::uint32_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s = "0x";
  for (int i = 7; i >= 0; --i) s += digits[(v >> (4 * i)) & 0xFu];
  return s;
}

std::int64_t i64(std::size_t v) { return static_cast<std::int64_t>(v); }

// Nibble i (bits 4i..4i+3) of a packed int32 word.
int nibble(std::int32_t word, std::size_t i) {
  return static_cast<int>((static_cast<std::uint32_t>(word) >> (4 * i)) & 0xFu);
}

// One module's tensors; every error names the file holding the tensor and the tensor.
class Reader {
 public:
  Reader(const Checkpoint& c, const std::string& module) : c_(c), module_(module) {}

  // A tensor's full name; an empty module reads top-level names (a transformers mxfp4 tensor
  // whose name has no dot).
  std::string name(const std::string& suffix) const {
    return module_.empty() ? suffix : module_ + "." + suffix;
  }
  bool has(const std::string& suffix) const { return c_.has(name(suffix)); }
  const Tensor& tensor(const std::string& suffix) const { return c_.get(name(suffix)); }

  [[noreturn]] void fail(const std::string& suffix, const std::string& what) const {
    throw Error(c_.file_of(name(suffix)) + ": tensor '" + name(suffix) + "' " + what);
  }

  const Tensor& typed(const std::string& suffix, std::initializer_list<DType> dtypes,
                      std::size_t rank) const {
    const Tensor& t = tensor(suffix);
    if (std::find(dtypes.begin(), dtypes.end(), t.dtype) == dtypes.end()) {
      std::string accepted;
      for (DType d : dtypes) {
        accepted += (accepted.empty() ? "" : " or ") + std::string(safetensors::dtype_name(d));
      }
      fail(suffix,
           "has dtype " + std::string(safetensors::dtype_name(t.dtype)) + ", expected " + accepted);
    }
    if (t.shape.size() != rank) {
      fail(suffix,
           "has shape " + str(t.shape) + ", expected " + std::to_string(rank) + " dimensions");
    }
    return t;
  }

  void require_shape(const std::string& suffix, const Shape& want, const std::string& what) const {
    const Tensor& t = tensor(suffix);
    if (t.shape != want) fail(suffix, "has shape " + str(t.shape) + ", expected " + what);
  }

  std::vector<std::int32_t> i32(const std::string& suffix, const Shape& want,
                                const std::string& what) const {
    const Tensor& t = typed(suffix, {DType::I32}, want.size());
    require_shape(suffix, want, what);
    std::vector<std::int32_t> v(t.numel());
    if (!v.empty()) std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
  }

  // A float matrix (F16, BF16 or F32) whose every value must be a usable scale.
  MatrixF scales(const std::string& suffix, const Shape& want, const std::string& what) const {
    const Tensor& t = typed(suffix, {DType::F16, DType::BF16, DType::F32}, want.size());
    require_shape(suffix, want, what);
    Tensor t2 = t;
    if (t2.shape.size() == 1) t2.shape = {1, t2.shape[0]};
    const MatrixF m = safetensors::to_matrix_f32(t2, name(suffix), c_.file_of(name(suffix)));
    for (std::size_t r = 0; r < m.rows(); ++r) {
      for (std::size_t col = 0; col < m.cols(); ++col) {
        const float s = m(r, col);
        if (!std::isfinite(s) || !(s > 0.0f)) {
          fail(suffix, "element [" + std::to_string(r) + ", " + std::to_string(col) + "] is " +
                           std::to_string(s) + "; scales must be finite and > 0");
        }
      }
    }
    return m;
  }

  std::vector<float> bias(std::size_t n) const {
    if (!has("bias")) return {};
    const Tensor& t = typed("bias", {DType::F16, DType::BF16, DType::F32}, 1);
    require_shape("bias", {i64(n)}, "[N] = [" + std::to_string(n) + "]");
    Tensor t2 = t;
    t2.shape = {1, t.shape[0]};
    return safetensors::to_matrix_f32(t2, name("bias"), c_.file_of(name("bias"))).values();
  }

 private:
  const Checkpoint& c_;
  const std::string& module_;
};

std::size_t checked_group(const Reader& r, const std::string& suffix, long group_size,
                          std::size_t K) {
  const std::size_t gs = group_size <= 0 ? K : static_cast<std::size_t>(group_size);
  if (K % gs != 0) {
    r.fail(suffix, "belongs to a layer with K = " + std::to_string(K) + " and group size " +
                       std::to_string(gs) +
                       "; quasar needs whole groups (accepted: a group size that divides K)");
  }
  return gs;
}

// g_idx gives each input channel's group. quasar's groups are contiguous runs of K, so K is
// reordered by a stable sort on the group; that only works when each group then covers exactly
// its own run of gs channels. Returns the order, or empty when it is the identity.
std::vector<std::int32_t> group_order(const Reader& r, const std::string& suffix,
                                      const std::vector<std::int32_t>& g_idx, std::size_t gs) {
  const std::size_t K = g_idx.size(), G = K / gs;
  for (std::size_t k = 0; k < K; ++k) {
    if (g_idx[k] < 0 || static_cast<std::size_t>(g_idx[k]) >= G) {
      r.fail(suffix, "element [" + std::to_string(k) + "] = " + std::to_string(g_idx[k]) +
                         " is not a group index (accepted: 0.." + std::to_string(G - 1) + ")");
    }
  }
  std::vector<std::int32_t> order(K);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::int32_t a, std::int32_t b) { return g_idx[a] < g_idx[b]; });
  bool identity = true;
  for (std::size_t j = 0; j < K; ++j) {
    const std::size_t g = static_cast<std::size_t>(g_idx[static_cast<std::size_t>(order[j])]);
    if (g != j / gs) {
      r.fail(suffix, "puts a number of channels other than " + std::to_string(gs) + " in group " +
                         std::to_string(std::min(g, j / gs)) +
                         "; accepted: every group holds exactly group_size channels");
    }
    identity = identity && order[j] == static_cast<std::int32_t>(j);
  }
  return identity ? std::vector<std::int32_t>{} : order;
}

std::vector<std::int32_t> read_g_idx(const Reader& r, const std::string& suffix, std::size_t K) {
  return r.i32(suffix, {i64(K)}, "[K] = [" + std::to_string(K) + "]");
}

std::size_t source_k(const UnpackedLinear& u, std::size_t j) {
  return u.k_order.empty() ? j : static_cast<std::size_t>(u.k_order[j]);
}

[[noreturn]] void config_fail(const Checkpoint& c, const std::string& module,
                              const std::string& what) {
  throw Error(c.config().source + ": module '" + module + "': " + what);
}

// Natural order: digit runs compare as numbers, so layers.2 comes before layers.10.
bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (std::isdigit(static_cast<unsigned char>(a[i])) &&
        std::isdigit(static_cast<unsigned char>(b[j]))) {
      std::size_t i2 = i, j2 = j;
      while (i2 < a.size() && std::isdigit(static_cast<unsigned char>(a[i2]))) ++i2;
      while (j2 < b.size() && std::isdigit(static_cast<unsigned char>(b[j2]))) ++j2;
      const std::string na = a.substr(i, i2 - i), nb = b.substr(j, j2 - j);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = i2, j = j2;
    } else {
      if (a[i] != b[j]) return a[i] < b[j];
      ++i, ++j;
    }
  }
  return a.size() - i < b.size() - j;
}

// Where a known module-path component runs within its parent (lower first); components not
// listed rank between the attention/MLP blocks and lm_head, and compare naturally.
int component_rank(const std::string& c) {
  static const std::map<std::string, int> ranks = {
      // attention block and its projections (DeepSeek's low-rank q and kv paths included)
      {"self_attn", 0}, {"self_attention", 0}, {"attention", 0}, {"attn", 0},
      {"q_a_proj", 1}, {"q_b_proj", 1}, {"q_proj", 1}, {"qkv_proj", 1}, {"query_key_value", 1},
      {"W_pack", 1}, {"k_proj", 2}, {"kv_a_proj_with_mqa", 2}, {"kv_b_proj", 2}, {"v_proj", 3},
      {"o_proj", 4}, {"out_proj", 4}, {"dense", 4},
      // MLP / MoE block: router, experts, shared expert; projections in order (Mixtral's
      // experts: w1 gate, w3 up, w2 down)
      {"mlp", 5}, {"block_sparse_moe", 5}, {"feed_forward", 5},
      {"gate", 6}, {"router", 6}, {"experts", 7}, {"shared_expert", 8}, {"shared_experts", 8},
      {"shared_expert_gate", 8},
      {"gate_proj", 9}, {"gate_up_proj", 9}, {"w1", 9}, {"fc1", 9}, {"dense_h_to_4h", 9},
      {"up_proj", 10}, {"w3", 10},
      {"down_proj", 11}, {"w2", 11}, {"fc2", 11}, {"dense_4h_to_h", 11},
      {"lm_head", 1000}};
  const auto it = ranks.find(c);
  return it == ranks.end() ? 500 : it->second;
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

float UnpackedLinear::dequantized(std::size_t row, std::size_t j) const {
  if (block) {
    // P * S_b (* s_t) is exact in double (at most 4 + 4 + 24 significant bits): one rounding,
    // as numerics' dequantize.
    const double p = elem_int(BlockElem::e2m1, block->codes(row, j)) * 0.5;
    const std::uint8_t s = block->scales(row, j / block->block);
    if (block->scale == BlockScale::e8m0) return f32_of_exact(std::ldexp(p, e8m0_exp(s)));
    return f32_of_exact(p * static_cast<double>(e4m3_value(s)) *
                        static_cast<double>(block->tensor_scale));
  }
  const std::size_t g = j / group_size;
  const int z = zeros.empty() ? 0 : zeros(row, g);
  return scales(row, g) * static_cast<float>(codes(row, j) - z);
}

namespace {

// transformers' mxfp4: the P_blocks / P_scales pairs, P.e for each expert of a 4-D pair.
std::vector<std::string> mxfp4_modules(const Checkpoint& c) {
  std::vector<std::string> out;
  for (const std::string& t : c.tensor_names()) {
    if (!ends_with(t, "_blocks")) continue;
    const std::string prefix = t.substr(0, t.size() - std::strlen("_blocks"));
    if (!c.has(prefix + "_scales")) continue;
    const std::vector<std::int64_t>& shape = c.info(t).shape;
    if (shape.size() == 4) {
      for (std::int64_t e = 0; e < shape[0]; ++e) out.push_back(prefix + "." + std::to_string(e));
    } else {
      out.push_back(prefix);  // one matrix; a wrong rank is reported when it is unpacked
    }
  }
  std::sort(out.begin(), out.end(), module_order_less);
  return out;
}

}  // namespace

std::vector<std::string> quantized_modules(const Checkpoint& c) {
  const QuantConfig& cfg = c.config();
  if (cfg.method == QuantMethod::mxfp4) return mxfp4_modules(c);
  // The tensors that mark a quantized module: GPTQ and AWQ qweight; compressed-tensors
  // weight_packed or weight_scale; ModelOpt weight_scale or weight_scale_2 (its packed
  // codes are called `weight`, like an unquantized module's).
  std::vector<const char*> tails = {".qweight"};
  if (cfg.method == QuantMethod::compressed_tensors) tails = {".weight_packed", ".weight_scale"};
  if (cfg.method == QuantMethod::modelopt) tails = {".weight_scale", ".weight_scale_2"};
  std::set<std::string> modules;
  for (const std::string& t : c.tensor_names()) {
    for (const char* tail : tails) {
      if (ends_with(t, tail)) modules.insert(t.substr(0, t.size() - std::strlen(tail)));
    }
  }
  // Modules the config leaves unquantized: compressed-tensors `ignore` (its target syntax),
  // ModelOpt `exclude_modules` (fnmatch wildcards).
  std::vector<std::string> out;
  for (const std::string& m : modules) {
    bool ignored = false;
    for (const std::string& ig : cfg.ignore) ignored = ignored || ct_target_matches(ig, m);
    for (const std::string& ex : cfg.exclude) ignored = ignored || modelopt_excluded(ex, m);
    if (!ignored) out.push_back(m);
  }
  std::sort(out.begin(), out.end(), module_order_less);
  return out;
}

bool module_order_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    const std::size_t ie = std::min(a.find('.', i), a.size());
    const std::size_t je = std::min(b.find('.', j), b.size());
    const std::string ca = a.substr(i, ie - i), cb = b.substr(j, je - j);
    if (ca != cb) {
      const int ra = component_rank(ca), rb = component_rank(cb);
      if (ra != rb) return ra < rb;
      return natural_less(ca, cb);
    }
    i = ie + 1, j = je + 1;
  }
  return a.size() - std::min(i, a.size()) < b.size() - std::min(j, b.size());
}

// GPTQ and AWQ are weight-only formats; only their 4-bit form maps to a quasar scheme.
void require_weight_only_4bit(const Checkpoint& c, const std::string& module, const char* format) {
  const int bits = c.config().weights.bits;
  if (bits != 4) {
    config_fail(c, module,
                std::string(format) + " bits = " + std::to_string(bits) +
                    " has no quasar scheme (weight-only); accepted: bits 4");
  }
}

UnpackedLinear unpack_gptq(const Checkpoint& c, const std::string& module) {
  const QuantConfig& cfg = c.config();
  require_weight_only_4bit(c, module, "GPTQ");
  const Reader r(c, module);
  const Tensor& qw = r.typed("qweight", {DType::I32}, 2);
  const std::size_t rows = static_cast<std::size_t>(qw.shape[0]);
  const std::size_t N = static_cast<std::size_t>(qw.shape[1]);
  const bool has_g_idx = r.has("g_idx");
  const std::size_t K =
      has_g_idx ? static_cast<std::size_t>(r.typed("g_idx", {DType::I32}, 1).shape[0]) : rows * 8;
  if (rows * 8 != K) {
    r.fail("qweight", "has shape " + str(qw.shape) + ", expected [K/8, N] = [" +
                          std::to_string(K / 8) + ", " + std::to_string(N) + "] (K = " +
                          std::to_string(K) + " from g_idx; 8 codes per int32 along K)");
  }
  if (N % 8 != 0) {
    r.fail("qweight", "has N = " + std::to_string(N) +
                          " columns; accepted: a multiple of 8 (qzeros packs 8 columns a word)");
  }
  const std::size_t gs = checked_group(r, "qweight", cfg.weights.group_size, K);
  const std::size_t G = K / gs;
  const auto words = r.i32("qweight", {i64(K / 8), i64(N)}, "[K/8, N]");
  const auto zwords =
      r.i32("qzeros", {i64(G), i64(N / 8)},
            "[K/group, N/8] = [" + std::to_string(G) + ", " + std::to_string(N / 8) + "]");
  const MatrixF s =
      r.scales("scales", {i64(G), i64(N)},
               "[K/group, N] = [" + std::to_string(G) + ", " + std::to_string(N) + "]");
  if (cfg.weights.act_order && !has_g_idx) r.tensor("g_idx");  // desc_act needs g_idx
  std::vector<std::int32_t> g_idx(K);
  if (has_g_idx) {
    g_idx = read_g_idx(r, "g_idx", K);
  } else {
    for (std::size_t k = 0; k < K; ++k) g_idx[k] = static_cast<std::int32_t>(k / gs);
  }

  UnpackedLinear u;
  u.module = module;
  u.layout = cfg.gptq_v2 ? "gptq_v2" : "gptq";
  u.n = N, u.k = K, u.bits = 4, u.group_size = gs;
  u.symmetric = cfg.weights.symmetric;
  u.k_order = group_order(r, "g_idx", g_idx, gs);
  u.scales = MatrixF(N, G);
  if (!u.symmetric) u.zeros = MatrixI8(N, G);
  // v1 stores zero - 1 (AutoGPTQ's historical convention); v2 stores the zero itself.
  const int offset = cfg.gptq_v2 ? 0 : 1;
  for (std::size_t g = 0; g < G; ++g) {
    for (std::size_t n = 0; n < N; ++n) {
      u.scales(n, g) = s(g, n);
      const std::int32_t word = zwords[g * (N / 8) + n / 8];
      const int z = nibble(word, n % 8) + offset;
      const std::string at = "word [" + std::to_string(g) + ", " + std::to_string(n / 8) +
                             "] = " + hex(static_cast<std::uint32_t>(word));
      if (u.symmetric && z != 8) {
        r.fail("qzeros", at + " gives zero " + std::to_string(z) + " to column " +
                             std::to_string(n) + ", but the config declares sym: true, which " +
                             "needs every zero to be 8 (" +
                             (cfg.gptq_v2 ? "gptq_v2 words 0x88888888)" : "v1 words 0x77777777)"));
      }
      if (!u.symmetric && z > 15) {
        r.fail("qzeros", at + " gives zero 16 (a v1 nibble 15) to column " + std::to_string(n) +
                             "; accepted: zeros 0..15 (uint4)");
      }
      if (!u.symmetric) u.zeros(n, g) = static_cast<std::int8_t>(z);
    }
  }
  u.codes = MatrixI8(N, K);
  for (std::size_t j = 0; j < K; ++j) {
    const std::size_t k = source_k(u, j);
    for (std::size_t n = 0; n < N; ++n) {
      const int q = nibble(words[(k / 8) * N + n], k % 8);
      u.codes(n, j) = static_cast<std::int8_t>(u.symmetric ? q - 8 : q);
    }
  }
  u.bias = r.bias(N);
  return u;
}

UnpackedLinear unpack_awq(const Checkpoint& c, const std::string& module) {
  const QuantConfig& cfg = c.config();
  require_weight_only_4bit(c, module, "AWQ");
  const Reader r(c, module);
  const Tensor& qw = r.typed("qweight", {DType::I32}, 2);
  const std::size_t K = static_cast<std::size_t>(qw.shape[0]);
  const std::size_t N = static_cast<std::size_t>(qw.shape[1]) * 8;
  const std::size_t gs = checked_group(r, "qweight", cfg.weights.group_size, K);
  const std::size_t G = K / gs;
  const auto words = r.i32("qweight", {i64(K), i64(N / 8)}, "[K, N/8]");
  const auto zwords =
      r.i32("qzeros", {i64(G), i64(N / 8)},
            "[K/group, N/8] = [" + std::to_string(G) + ", " + std::to_string(N / 8) + "]");
  const MatrixF s =
      r.scales("scales", {i64(G), i64(N)},
               "[K/group, N] = [" + std::to_string(G) + ", " + std::to_string(N) + "]");
  // AutoAWQ's GEMM kernel interleaves columns: nibble i of a word holds column 8j + ORDER[i]
  // with ORDER = 0 2 4 6 1 3 5 7; this is its inverse (column offset -> nibble).
  static constexpr std::size_t kNibbleOf[8] = {0, 4, 1, 5, 2, 6, 3, 7};
  UnpackedLinear u;
  u.module = module;
  u.layout = "awq-gemm";
  u.n = N, u.k = K, u.bits = 4, u.group_size = gs, u.symmetric = false;
  u.codes = MatrixI8(N, K);
  u.zeros = MatrixI8(N, G);
  u.scales = MatrixF(N, G);
  for (std::size_t k = 0; k < K; ++k) {
    for (std::size_t n = 0; n < N; ++n) {
      u.codes(n, k) =
          static_cast<std::int8_t>(nibble(words[k * (N / 8) + n / 8], kNibbleOf[n % 8]));
    }
  }
  for (std::size_t g = 0; g < G; ++g) {
    for (std::size_t n = 0; n < N; ++n) {
      u.zeros(n, g) =
          static_cast<std::int8_t>(nibble(zwords[g * (N / 8) + n / 8], kNibbleOf[n % 8]));
      u.scales(n, g) = s(g, n);
    }
  }
  u.bias = r.bias(N);
  return u;
}

namespace {

// compressed-tensors weight_scale: [N, groups], or one value ([1] / [1, 1]) for strategy tensor.
MatrixF ct_scales(const Reader& r, std::size_t N, std::size_t G) {
  const Tensor& t = r.tensor("weight_scale");
  const bool whole = t.numel() == 1 && G == 1 && N > 1;
  const Shape want = whole ? t.shape : Shape{i64(N), i64(G)};
  if (whole && t.shape.size() > 2) r.fail("weight_scale", "has shape " + str(t.shape));
  const MatrixF s = r.scales("weight_scale", want,
                             "[N, K/group] = [" + std::to_string(N) + ", " + std::to_string(G) +
                                 "] (or [N, 1] per channel)");
  if (!whole) return s;
  return MatrixF(N, 1, s(0, 0));
}

// compressed-tensors weight_shape: I32 or I64 [2] = (N, K).
std::pair<std::size_t, std::size_t> weight_shape(const Reader& r) {
  const Tensor& shape_t = r.typed("weight_shape", {DType::I32, DType::I64}, 1);
  if (shape_t.shape[0] != 2)
    r.fail("weight_shape", "has shape " + str(shape_t.shape) + ", expected [2]");
  std::int64_t nk[2];
  for (int i = 0; i < 2; ++i) {
    if (shape_t.dtype == DType::I32) {
      std::int32_t v;
      std::memcpy(&v, shape_t.bytes.data() + 4 * i, 4);
      nk[i] = v;
    } else {
      std::memcpy(&nk[i], shape_t.bytes.data() + 8 * i, 8);
    }
    if (nk[i] <= 0 || nk[i] > (std::int64_t{1} << 24)) {
      r.fail("weight_shape", "holds " + std::to_string(nk[i]) + "; expected (N, K) > 0");
    }
  }
  return {static_cast<std::size_t>(nk[0]), static_cast<std::size_t>(nk[1])};
}

std::vector<std::int32_t> ct_order(const Reader& r, std::size_t K, std::size_t gs,
                                   const CtGroup& group) {
  if (!r.has("weight_g_idx")) {
    if (group.weights.act_order) r.tensor("weight_g_idx");  // actorder "group" needs it: throws
    return {};
  }
  return group_order(r, "weight_g_idx", read_g_idx(r, "weight_g_idx", K), gs);
}

}  // namespace

UnpackedLinear unpack_ct_packed(const Checkpoint& c, const std::string& module,
                                const CtGroup& group) {
  if (group.weights.bits != 4) {
    config_fail(c, module,
                "pack-quantized num_bits = " + std::to_string(group.weights.bits) +
                    " (weight-only int8) has no quasar scheme; accepted: num_bits 4");
  }
  const Reader r(c, module);
  const auto [N, K] = weight_shape(r);
  const std::size_t W = (K + 7) / 8;
  const auto words = r.i32(
      "weight_packed", {i64(N), i64(W)},
      "[N, ceil(K/8)] = [" + std::to_string(N) + ", " + std::to_string(W) + "] from weight_shape");
  const std::size_t gs = checked_group(r, "weight_packed", group.weights.group_size, K);
  const std::size_t G = K / gs;
  UnpackedLinear u;
  u.module = module;
  u.layout = "pack-quantized";
  u.n = N, u.k = K, u.bits = 4, u.group_size = gs;
  u.symmetric = group.weights.symmetric;
  u.source_act_bits = group.input_bits;
  u.source_act = group.input_act;
  u.source_act_static = group.input_static;
  u.scales = ct_scales(r, N, G);
  u.k_order = ct_order(r, K, gs, group);
  if (!u.symmetric) {
    // Zero points are packed along N (dim 0), 8 rows a word, with the same +8 offset; the
    // offset cancels in q - z, so both stay as stored (uint4).
    const std::size_t ZW = (N + 7) / 8;
    const auto z =
        r.i32("weight_zero_point", {i64(ZW), i64(G)},
              "[ceil(N/8), K/group] = [" + std::to_string(ZW) + ", " + std::to_string(G) + "]");
    u.zeros = MatrixI8(N, G);
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t g = 0; g < G; ++g) {
        u.zeros(n, g) = static_cast<std::int8_t>(nibble(z[(n / 8) * G + g], n % 8));
      }
    }
  }
  u.codes = MatrixI8(N, K);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t j = 0; j < K; ++j) {
      const std::size_t k = source_k(u, j);
      const int v = nibble(words[n * W + k / 8], k % 8);  // value + 8
      u.codes(n, j) = static_cast<std::int8_t>(u.symmetric ? v - 8 : v);
    }
  }
  u.bias = r.bias(N);
  return u;
}

UnpackedLinear unpack_ct_int(const Checkpoint& c, const std::string& module, const CtGroup& group) {
  if (!group.weights.symmetric) {
    config_fail(c, module,
                "asymmetric int-quantized weights are not supported; accepted: "
                "symmetric: true");
  }
  const Reader r(c, module);
  const Tensor& t = r.typed("weight", {DType::I8}, 2);
  const std::size_t N = static_cast<std::size_t>(t.shape[0]);
  const std::size_t K = static_cast<std::size_t>(t.shape[1]);
  const std::size_t gs = checked_group(r, "weight", group.weights.group_size, K);
  const std::size_t G = K / gs;
  if (group.weights.bits == 8 && G != 1) {
    config_fail(c, module,
                "int8 group-wise weights have no quasar scheme; accepted: int8 per "
                "channel (w8a8) or int4 per group (w4a8)");
  }
  UnpackedLinear u;
  u.module = module;
  u.layout = "int-quantized";
  u.n = N, u.k = K, u.bits = group.weights.bits, u.group_size = gs, u.symmetric = true;
  u.source_act_bits = group.input_bits;
  u.source_act = group.input_act;
  u.source_act_static = group.input_static;
  u.scales = ct_scales(r, N, G);
  u.k_order = ct_order(r, K, gs, group);
  u.codes = MatrixI8(N, K);
  const auto* v = reinterpret_cast<const std::int8_t*>(t.bytes.data());
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t j = 0; j < K; ++j) {
      const std::int8_t q = v[n * K + source_k(u, j)];
      if (u.bits == 4 && (q < -8 || q > 7)) {
        r.fail("weight", "element [" + std::to_string(n) + ", " + std::to_string(source_k(u, j)) +
                             "] = " + std::to_string(q) +
                             " is outside int4 (num_bits 4 accepts -8..7)");
      }
      u.codes(n, j) = q;
    }
  }
  u.bias = r.bias(N);
  return u;
}

namespace {

// The one value of a scale tensor of shape [1] or [] (compressed-tensors' global scales), as
// F32 (F16 and BF16 widen exactly); it must be finite and > 0.
float scalar_scale(const Reader& r, const std::string& suffix) {
  const Tensor& t = r.tensor(suffix);
  if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16) {
    r.fail(suffix, "has dtype " + std::string(safetensors::dtype_name(t.dtype)) +
                       ", expected F32 (or F16 or BF16)");
  }
  if (t.numel() != 1 || t.shape.size() > 1) {
    r.fail(suffix, "has shape " + str(t.shape) + ", expected [1] (one value per tensor)");
  }
  Tensor t2 = t;
  t2.shape = {1, 1};
  const float v = safetensors::to_matrix_f32(t2, r.name(suffix), "")(0, 0);
  if (!std::isfinite(v) || !(v > 0.0f)) {
    r.fail(suffix, "is " + std::to_string(v) + "; a global scale must be finite and > 0");
  }
  return v;
}

// Checks every code and scale of block weights unpacked from the checkpoint (check_block_tensor)
// and reports a bad one as the checkpoint tensor holding it: `codes`, `scales` or `tscale` (the
// suffixes for r), with `context` (e.g. the expert) before numerics' own words.
void check_unpacked_block(const Reader& r, const BlockTensor& t, const std::string& codes,
                          const std::string& scales, const std::string& tscale,
                          const std::string& context) {
  try {
    check_block_tensor(t, "w");
  } catch (const OperandError& e) {
    const std::string& op = e.operand();
    const std::string suffix = op == "w.scales" ? scales : op == "w.tensor_scale" ? tscale : codes;
    std::string problem = e.problem();
    if (problem.rfind(": ", 0) == 0) problem = problem.substr(2);
    r.fail(suffix, context + problem);
  }
}

// E2M1 codes of a row packed two per byte along K, element 2i in the low nibble and 2i + 1 in
// the high one: the order both compressed-tensors (pack_fp4_to_uint8) and transformers' mxfp4
// (convert_moe_packed_tensors: lut[blk & 0x0F] to the even columns) publish.
void unpack_e2m1_row(const std::uint8_t* bytes, std::size_t k, std::uint8_t* codes) {
  for (std::size_t i = 0; i < k / 2; ++i) {
    codes[2 * i] = static_cast<std::uint8_t>(bytes[i] & 0x0Fu);
    codes[2 * i + 1] = static_cast<std::uint8_t>(bytes[i] >> 4);
  }
}

}  // namespace

namespace {

// Where a layout keeps an fp4 linear's tensors, and how it stores NVFP4's tensor scale.
struct Fp4Tensors {
  std::string layout;           // UnpackedLinear::layout
  bool nvfp4 = true;            // E4M3 block scales per 16 and a tensor scale; else MXFP4
  const char* packed = "";      // U8 [N, K/2], two E2M1 codes a byte
  const char* scales = "";      // F8_E4M3 [N, K/16] (NVFP4) or U8 E8M0 [N, K/32] (MXFP4)
  const char* tscale = "";      // NVFP4's tensor scale, F32 [1] or []
  bool reciprocal = false;      // tscale holds 1/s_t (compressed-tensors), else s_t (ModelOpt)
  const char* other_name = "";  // the other convention, for the refusal below
};

// What every fp4 linear layout shares: the packed codes, the block scales and NVFP4's tensor
// scale, read, checked (check_block_tensor, and the tensor scale against the other convention)
// and kept as stored in one BlockTensor; N and K come from the packed tensor. The activation
// fields are the caller's.
UnpackedLinear unpack_fp4(const Reader& r, const std::string& module, const Fp4Tensors& l) {
  const std::size_t B = l.nvfp4 ? kNvfp4Block : kMxBlock;
  const std::string fmt = l.nvfp4 ? "NVFP4" : "MXFP4";
  const Tensor& p = r.typed(l.packed, {DType::U8}, 2);
  const std::size_t N = static_cast<std::size_t>(p.shape[0]);
  const std::size_t K = 2 * static_cast<std::size_t>(p.shape[1]);
  if (N == 0 || K == 0) r.fail(l.packed, "has shape " + str(p.shape) + "; expected N, K > 0");
  if (K % B != 0) {
    r.fail(l.packed, "has shape " + str(p.shape) + ": K = " + std::to_string(K) +
                         " (two codes a byte) is not a multiple of the " + fmt + " block (" +
                         std::to_string(B) + "); accepted: K a multiple of the block");
  }
  const std::size_t G = K / B;
  // NVFP4's block scales are E4M3 bytes (torch.float8_e4m3fn, safetensors F8_E4M3); MXFP4's are
  // E8M0 exponents in U8 (compressed-tensors' compress_mx_scale). Both are kept as stored.
  const Tensor& sc = r.typed(l.scales, {l.nvfp4 ? DType::F8_E4M3 : DType::U8}, 2);
  r.require_shape(
      l.scales, {i64(N), i64(G)},
      "[N, K/" + std::to_string(B) + "] = [" + std::to_string(N) + ", " + std::to_string(G) + "]");
  BlockTensor t;
  t.elem = BlockElem::e2m1;
  t.scale = l.nvfp4 ? BlockScale::e4m3 : BlockScale::e8m0;
  t.block = B;
  t.codes = MatrixU8(N, K);
  for (std::size_t n = 0; n < N; ++n)
    unpack_e2m1_row(p.bytes.data() + n * (K / 2), K, t.codes.row(n));
  t.scales = MatrixU8(N, G);
  std::memcpy(t.scales.row(0), sc.bytes.data(), N * G);
  if (!l.nvfp4) {
    check_unpacked_block(r, t, l.packed, l.scales, l.scales, "");
  } else {
    // The spec's s_t multiplies: w = P * S_b * s_t. ModelOpt stores s_t itself; compressed-
    // tensors its reciprocal, 1/s_t, so s_t = F32(1 / stored): one rounding, the division's.
    const float stored = scalar_scale(r, l.tscale);
    t.tensor_scale = l.reciprocal ? 1.0f / stored : stored;
    if (!std::isfinite(t.tensor_scale) || !(t.tensor_scale > 0.0f)) {
      r.fail(l.tscale, "is " + std::to_string(stored) + ": s_t = 1 / it is " +
                           std::to_string(t.tensor_scale) + ", not a finite positive fp32");
    }
    check_unpacked_block(r, t, l.packed, l.scales, l.tscale, "");
    // A wrong reading of the convention is refused, not imported: the largest weight the scales
    // can express, 6 * max S_b * s_t, is about the tensor's amax (S_b <= 448, s_t = amax / 2688).
    // Read with the other convention it is 2688^2 / amax, above 6 * 448 = 2688 for any
    // amax < 2688. (Every block scale is a valid, non-negative E4M3 code here.)
    double max_sb = 0.0;
    for (std::uint8_t code : t.scales.values()) {
      max_sb = std::max(max_sb, static_cast<double>(e4m3_value(code)));
    }
    const double implied = l.reciprocal ? 6.0 * max_sb / static_cast<double>(stored)
                                        : 6.0 * max_sb * static_cast<double>(stored);
    if (implied > static_cast<double>(kNvfp4TensorDivisor)) {
      r.fail(l.tscale, "is " + std::to_string(stored) + ", which with the largest block scale " +
                           std::to_string(max_sb) + " gives weights up to 6 * S_b " +
                           (l.reciprocal ? "/" : "*") + " it = " + std::to_string(implied) +
                           " > 2688 (6 * 448); " +
                           (l.reciprocal ? "compressed-tensors stores 1/s_t = 2688 / amax"
                                         : "ModelOpt stores s_t = amax / 2688 itself") +
                           ", so this looks like " + (l.reciprocal ? "s_t itself" : "1/s_t") +
                           " (" + l.other_name +
                           " convention); accepted: " + (l.reciprocal ? "the reciprocal" : "s_t"));
    }
  }
  UnpackedLinear u;
  u.module = module;
  u.layout = l.layout;
  u.n = N, u.k = K, u.bits = 4, u.group_size = B, u.symmetric = true;
  u.block = std::move(t);
  u.bias = r.bias(N);
  return u;
}

}  // namespace

UnpackedLinear unpack_ct_fp4(const Checkpoint& c, const std::string& module, const CtGroup& group) {
  const bool nv = group.format == "nvfp4-pack-quantized";
  const Reader r(c, module);
  if (!nv && r.has("weight_global_scale")) {
    r.fail("weight_global_scale",
           "is present, but MXFP4 (E8M0 block scales) has no tensor scale; accepted: none");
  }
  Fp4Tensors l;
  l.layout = group.format;
  l.nvfp4 = nv;
  l.packed = "weight_packed";
  l.scales = "weight_scale";
  l.tscale = "weight_global_scale";
  l.reciprocal = true;  // weight_global_scale = 448 * 6 / amax (generate_gparam)
  l.other_name = "ModelOpt's weight_scale_2";
  UnpackedLinear u = unpack_fp4(r, module, l);
  if (r.has("weight_shape")) {  // not written by the fp4 compressors, but checked when present
    const auto [n2, k2] = weight_shape(r);
    if (n2 != u.n || k2 != u.k) {
      r.fail("weight_shape", "holds (" + std::to_string(n2) + ", " + std::to_string(k2) +
                                 "), but weight_packed " + str(r.tensor("weight_packed").shape) +
                                 " holds (N, K) = (" + std::to_string(u.n) + ", " +
                                 std::to_string(u.k) + ")");
    }
  }
  u.source_act_bits = group.input_bits;
  u.source_act_static = group.input_static;
  // The activations' calibrated tensor scale is not used (the layer's activations are
  // synthetic or given and get their own), but a broken one is still a broken checkpoint.
  if (r.has("input_global_scale")) scalar_scale(r, "input_global_scale");
  return u;
}

// NVIDIA ModelOpt's NVFP4 export, per quantized linear (read, not copied):
// NVIDIA/Model-Optimizer modelopt/torch/export/unified_export_hf.py (`_export_quantized_weight`:
// `weight` packed, `weight_scale` per block, `weight_scale_2` and `input_scale` squeezed to
// scalars; "Dequant is nibble * weight_scale * weight_scale_2"),
// modelopt/torch/quantization/qtensor/nvfp4_tensor.py (`get_weights_scaling_factor_2`:
// amax / (6 * 448); block scales amax_b / (6 * weight_scale_2) cast to float8_e4m3fn; packing
// `(q[..., 1::2] << 4) | q[..., 0::2]`, element 2i in the low nibble; codes are sign << 3 | the
// index into [0, 0.5, 1, 1.5, 2, 3, 4, 6], E2M1's bit pattern; `get_activation_scaling_factor`:
// input_scale = amax_x / (6 * 448)); vLLM vllm/model_executor/layers/quantization/modelopt.py
// (`ModelOptNvFp4LinearMethod`: weight U8 [N, K/2], weight_scale F8_E4M3 [N, K/16],
// weight_scale_2 and input_scale F32 scalars, K % 16 == 0, alpha = input_scale *
// weight_scale_2 and 1 / input_scale to quantize activations); compressed-tensors'
// entrypoints/convert/converters/modelopt_nvfp4.py (weight -> weight_packed unchanged,
// weight_global_scale = 1 / weight_scale_2, input_global_scale = 1 / input_scale).
UnpackedLinear unpack_modelopt_nvfp4(const Checkpoint& c, const std::string& module) {
  const QuantConfig& cfg = c.config();
  const Reader r(c, module);
  if (r.has("pre_quant_scale")) {
    r.fail("pre_quant_scale",
           "is present: ModelOpt multiplies this layer's activations by it before quantizing "
           "them (AWQ-style smoothing), a step quasar's NVFP4 layer does not have; accepted: "
           "NVFP4 layers without pre_quant_scale");
  }
  const bool w4a4 = cfg.modelopt_algo == "NVFP4";
  Fp4Tensors l;
  l.layout = w4a4 ? "modelopt-nvfp4" : "modelopt-w4a16-nvfp4";
  l.nvfp4 = true;
  l.packed = "weight";
  l.scales = "weight_scale";
  l.tscale = "weight_scale_2";
  l.reciprocal = false;  // weight_scale_2 = amax / 2688, the spec's s_t
  l.other_name = "compressed-tensors' weight_global_scale";
  UnpackedLinear u = unpack_fp4(r, module, l);
  // input_scale: the activations' calibrated s_t (amax_x / 2688; the block scales are dynamic).
  // Required with fp4 activations, checked when present without; never used (the layer's
  // activations are synthetic or given and get their own).
  if (w4a4 || r.has("input_scale")) scalar_scale(r, "input_scale");
  if (w4a4) {
    u.source_act_bits = 4;
    u.source_act_static = true;
  }
  return u;
}

namespace {

// transformers' mxfp4 module name -> its tensors' prefix and expert (-1: a 3-D pair).
struct Mxfp4Source {
  std::string prefix;
  long expert = -1;
};

Mxfp4Source mxfp4_source(const Checkpoint& c, const std::string& module) {
  if (c.has(module + "_blocks")) return {module, -1};
  const auto dot = module.find_last_of('.');
  if (dot != std::string::npos && dot + 1 < module.size() && module.size() - dot <= 7) {
    const std::string tail = module.substr(dot + 1);
    const std::string prefix = module.substr(0, dot);
    if (std::all_of(tail.begin(), tail.end(), [](unsigned char ch) { return std::isdigit(ch); }) &&
        c.has(prefix + "_blocks")) {
      return {prefix, std::stol(tail)};
    }
  }
  c.get(module + "_blocks");  // throws: the tensor is missing, named with its file
  return {module, -1};
}

}  // namespace

UnpackedLinear unpack_mxfp4_blocks(const Checkpoint& c, const std::string& module) {
  const Mxfp4Source src = mxfp4_source(c, module);
  const auto dot = src.prefix.find_last_of('.');
  const std::string parent = dot == std::string::npos ? "" : src.prefix.substr(0, dot);
  const std::string leaf = dot == std::string::npos ? src.prefix : src.prefix.substr(dot + 1);
  const std::string kb = leaf + "_blocks", ks = leaf + "_scales", kbias = leaf + "_bias";
  const Reader r(c, parent);
  const Tensor& b = r.tensor(kb);
  if (b.dtype != DType::U8) {
    r.fail(kb, "has dtype " + std::string(safetensors::dtype_name(b.dtype)) + ", expected U8");
  }
  const bool experts = b.shape.size() == 4;
  if (!experts && b.shape.size() != 3) {
    r.fail(kb, "has shape " + str(b.shape) +
                   ", expected [experts, N, K/32, 16] or [N, K/32, 16] (16 bytes = the 32 E2M1 "
                   "codes of a block)");
  }
  const std::size_t lead = experts ? 1 : 0;
  const std::size_t E = experts ? static_cast<std::size_t>(b.shape[0]) : 1;
  const std::size_t N = static_cast<std::size_t>(b.shape[lead]);
  const std::size_t G = static_cast<std::size_t>(b.shape[lead + 1]);
  if (b.shape[lead + 2] != 16 || N == 0 || G == 0 || E == 0) {
    r.fail(kb, "has shape " + str(b.shape) +
                   ", expected [..., N, K/32, 16] with N, K > 0 (16 bytes = the 32 E2M1 codes of "
                   "a block)");
  }
  if (experts && src.expert < 0) {
    r.fail(kb, "holds " + std::to_string(E) + " experts; import them as modules " + src.prefix +
                   ".0 .. " + src.prefix + "." + std::to_string(E - 1));
  }
  if (!experts && src.expert >= 0) {
    r.fail(kb, "has shape " + str(b.shape) + " (no expert dimension), but module '" + module +
                   "' names expert " + std::to_string(src.expert));
  }
  if (experts && static_cast<std::size_t>(src.expert) >= E) {
    r.fail(kb, "holds " + std::to_string(E) + " experts; module '" + module + "' names expert " +
                   std::to_string(src.expert));
  }
  Shape want(b.shape.begin(), b.shape.end() - 1);
  const Tensor& s = r.typed(ks, {DType::U8}, want.size());
  r.require_shape(ks, want, str(want) + " (one E8M0 byte per block of " + kb + ")");
  const std::size_t e = experts ? static_cast<std::size_t>(src.expert) : 0;
  const std::size_t K = G * kMxBlock;
  BlockTensor t;
  t.elem = BlockElem::e2m1;
  t.scale = BlockScale::e8m0;
  t.block = kMxBlock;
  t.codes = MatrixU8(N, K);
  for (std::size_t n = 0; n < N; ++n) {
    unpack_e2m1_row(b.bytes.data() + (e * N + n) * G * 16, K, t.codes.row(n));
  }
  t.scales = MatrixU8(N, G);
  std::memcpy(t.scales.row(0), s.bytes.data() + e * N * G, N * G);
  check_unpacked_block(r, t, kb, ks, ks, experts ? "expert " + std::to_string(e) + ": " : "");
  UnpackedLinear u;
  u.module = module;
  u.layout = "transformers-mxfp4";
  u.n = N, u.k = K, u.bits = 4, u.group_size = kMxBlock, u.symmetric = true;
  u.block = std::move(t);
  if (r.has(kbias)) {  // GPT-OSS: F32 [experts, N]; read and checked, not part of the trace
    const Tensor& bt = r.typed(kbias, {DType::F16, DType::BF16, DType::F32}, experts ? 2 : 1);
    const Shape bw = experts ? Shape{i64(E), i64(N)} : Shape{i64(N)};
    r.require_shape(kbias, bw, str(bw));
    Tensor row = bt;
    const std::size_t w = safetensors::dtype_size(bt.dtype);
    row.shape = {1, i64(N)};
    row.bytes.assign(bt.bytes.begin() + static_cast<std::ptrdiff_t>(e * N * w),
                     bt.bytes.begin() + static_cast<std::ptrdiff_t>((e + 1) * N * w));
    u.bias = safetensors::to_matrix_f32(row, r.name(kbias), c.file_of(r.name(kbias))).values();
  }
  return u;
}

UnpackedLinear unpack_linear(const Checkpoint& c, const std::string& module) {
  const QuantConfig& cfg = c.config();
  switch (cfg.method) {
    case QuantMethod::gptq:
      return unpack_gptq(c, module);
    case QuantMethod::awq:
      return unpack_awq(c, module);
    case QuantMethod::mxfp4:
      return unpack_mxfp4_blocks(c, module);
    case QuantMethod::modelopt:
      return unpack_modelopt_nvfp4(c, module);
    case QuantMethod::compressed_tensors:
      break;
  }
  for (const CtGroup& g : cfg.groups) {
    for (const std::string& t : g.targets) {
      if (!ct_target_matches(t, module)) continue;
      if (g.weights.fp4) return unpack_ct_fp4(c, module, g);
      return g.format == "pack-quantized" ? unpack_ct_packed(c, module, g)
                                          : unpack_ct_int(c, module, g);
    }
  }
  config_fail(c, module, "matches no config_groups target (and is not in ignore)");
}

namespace {

std::string weights_text(const UnpackedLinear& u) {
  if (u.block) return u.block->scale == BlockScale::e4m3 ? "NVFP4" : "MXFP4";
  return u.bits == 8 ? "int8" : u.symmetric ? "4-bit symmetric" : "4-bit asymmetric";
}

}  // namespace

std::vector<Scheme> import_candidates(const UnpackedLinear& u) {
  if (u.block) {
    // The stored codes and scales are the layer's weights as they are: only a scheme whose
    // weights are that format takes them (no requantization). NVFP4 has one such scheme; MXFP4
    // weights run with MXFP4 or MXFP8 (E4M3) activations, the checkpoint's own fp4 first, and
    // for a weight-only checkpoint (bf16 activations, as GPT-OSS runs) the closer E4M3 first.
    if (u.block->scale == BlockScale::e4m3) return {Scheme::w4a4_nvfp4};
    if (u.source_act_bits == 4) return {Scheme::w4a4_mxfp4, Scheme::w4a8_mx};
    return {Scheme::w4a8_mx, Scheme::w4a4_mxfp4};
  }
  const bool per_channel = u.group_size == u.k;
  if (u.bits == 8 && per_channel) return {Scheme::w8a8};
  if (u.bits == 4 && !u.symmetric) return {Scheme::w4a16};
  if (u.bits == 4 && u.symmetric) {
    if (u.source_act_bits == 8) return {Scheme::w4a8_fs, Scheme::w4a8_is, Scheme::w4a16};
    return {Scheme::w4a16, Scheme::w4a8_fs, Scheme::w4a8_is};
  }
  return {};
}

Scheme import_scheme(const UnpackedLinear& u, std::optional<Scheme> requested) {
  const std::string what = weights_text(u);
  const std::vector<Scheme> ok = import_candidates(u);
  if (ok.empty()) {
    throw Error("module '" + u.module + "' (" + u.layout + ", " + what +
                ") maps to no quasar scheme");
  }
  if (!requested) return ok.front();
  if (std::find(ok.begin(), ok.end(), *requested) != ok.end()) return *requested;
  std::string accepted;
  for (Scheme s : ok) accepted += (accepted.empty() ? "" : ", ") + std::string(scheme_name(s));
  throw Error("module '" + u.module + "' (" + u.layout + ", " + what + ") cannot be imported as " +
              std::string(scheme_name(*requested)) + "; accepted for it: " + accepted);
}

QuantizedWeights to_quantized_weights(const UnpackedLinear& u, Scheme scheme) {
  if (u.block) {
    throw Error("module '" + u.module + "' (" + u.layout + ") holds block-scaled weights; " +
                std::string(scheme_name(scheme)) + " takes integer codes");
  }
  QuantizedWeights w;
  w.group_size = u.group_size;
  w.codes = u.codes;
  w.scales = u.scales;
  w.zeros = u.zeros;
  if (scheme == Scheme::w8a8) {
    w.format = WeightFormat::int8;
  } else if (scheme == Scheme::w4a16 && !u.symmetric) {
    w.format = WeightFormat::uint4;
  } else {
    w.format = WeightFormat::int4;
  }
  return w;
}

namespace {

// FNV-1a of the module name mixed with the seed: a module's activations do not depend on which
// other modules --layers selects.
std::uint64_t module_seed(std::uint64_t seed, const std::string& module) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : module) h = (h ^ ch) * 1099511628211ull;
  return h ^ (seed * 0x9E3779B97F4A7C15ull);
}

std::string basename_of(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  const auto slash = dir.find_last_of('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

safetensors::Tensor i32_vector(const std::vector<std::int32_t>& v) {
  safetensors::Tensor t;
  t.dtype = DType::I32;
  t.shape = {i64(v.size())};
  t.bytes.resize(v.size() * 4);
  if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

// The layer's activations in the checkpoint's input-channel order: given, or synthesized.
MatrixF layer_activations(const UnpackedLinear& u, const ImportSpec& spec,
                          const safetensors::File* given) {
  if (given) {
    MatrixF x = safetensors::to_matrix_f32(given->get(u.module, spec.activations), u.module,
                                           spec.activations);
    if (x.cols() != u.k || x.rows() == 0) {
      throw Error(spec.activations + ": tensor '" + u.module + "' is [" + std::to_string(x.rows()) +
                  ", " + std::to_string(x.cols()) +
                  "]; the layer needs [M >= 1, K = " + std::to_string(u.k) + "]");
    }
    return x;
  }
  SyntheticSpec syn;
  syn.m = spec.tokens, syn.k = u.k, syn.n = 1;
  syn.seed = module_seed(spec.seed, u.module);
  return synthetic_llm_gemm(syn).x;
}

Layer import_layer(const UnpackedLinear& u, const ImportSpec& spec, const safetensors::File* given,
                   safetensors::File& payload) {
  const Scheme scheme = import_scheme(u, spec.scheme);
  const MatrixF x0 = layer_activations(u, spec, given);
  MatrixF x(x0.rows(), x0.cols());
  for (std::size_t m = 0; m < x.rows(); ++m) {
    for (std::size_t j = 0; j < x.cols(); ++j) x(m, j) = x0(m, source_k(u, j));
  }
  SchemeConfig cfg;
  cfg.group_size = u.group_size;
  // The checkpoint's activation granularity (compressed-tensors input_activations.strategy);
  // a static scale is recomputed from these activations (amax / 127), not read from input_scale.
  if (u.source_act_bits == 8 && traits(scheme).int_activations) cfg.act_mode = u.source_act;
  SchemeRun run{scheme, {}, {}, {}};
  SchemeOperands& op = run.operands;
  const GemmEngine& e = cpu_engine();
  const GemmOptions o = cfg.gemm;
  if (u.block) {
    // The checkpoint's codes and scales as stored; the activations quantized for the scheme
    // (MX: E8M0 per 32 along K per token; NVFP4: s_t from their amax, E4M3 per 16), as
    // `quasar gemm` quantizes them.
    op.x_block = quantize_block_operand(scheme, false, x, "x");
    op.w_block = *u.block;
    run.result = e.block_scaled(scheme, *op.x_block, *op.w_block, o);
    return layer_from_run(u.module, run, cfg, payload);
  }
  op.w_q = to_quantized_weights(u, scheme);
  switch (scheme) {
    case Scheme::w4a16:
      op.x_f16 = to_f16(x, "x");
      run.result = e.w4a16(*op.x_f16, *op.w_q, o);
      break;
    case Scheme::w8a8:
      op.x_q = quantize_activations(x, cfg.act_mode);
      run.result = e.w8a8(*op.x_q, *op.w_q, o);
      break;
    case Scheme::w4a8_fs:
      op.x_q = quantize_activations(x, cfg.act_mode);
      run.result = e.w4a8_fs(*op.x_q, *op.w_q, o);
      break;
    case Scheme::w4a8_is:
      op.x_q = quantize_activations(x, cfg.act_mode);
      op.int_scales = to_integer_scales(*op.w_q, cfg.int_scale);
      run.result = e.w4a8_is(*op.x_q, *op.w_q, *op.int_scales, o);
      break;
    default:
      throw Error("module '" + u.module + "': scheme " + std::string(scheme_name(scheme)) +
                  " is not an import target");
  }
  Layer l = layer_from_run(u.module, run, cfg, payload);
  if (!u.k_order.empty()) {
    const std::string name = u.module + "/k_order";
    payload.tensors[name] = i32_vector(u.k_order);
    l.tensors["k_order"] = name;
  }
  return l;
}

// The tensors a module is read from, as a key: the experts of one transformers mxfp4 pair share
// it; every other module has its own.
std::string tensor_source(const Checkpoint& c, const std::string& module) {
  return c.config().method == QuantMethod::mxfp4 ? mxfp4_source(c, module).prefix : module;
}

}  // namespace

ImportedTrace import_checkpoint(const ImportSpec& spec) {
  if (spec.tokens == 0) throw Error("trace import: --tokens must be >= 1");
  const Checkpoint c = Checkpoint::open(spec.dir);
  std::vector<std::string> modules = quantized_modules(c);
  if (modules.empty()) {
    throw Error(spec.dir +
                ": no quantized linear layers found (looked for *.qweight, "
                "*.weight_packed, *.weight_scale, *.weight_scale_2, *_blocks with *_scales)");
  }
  std::vector<std::string> chosen;
  std::regex re;
  try {
    re = std::regex(spec.layers.empty() ? std::string(".") : spec.layers);
  } catch (const std::regex_error& e) {
    throw Error("--layers '" + spec.layers + "' is not a valid regular expression: " + e.what());
  }
  for (const std::string& m : modules) {
    if (spec.max_layers && chosen.size() >= spec.max_layers) break;
    if (spec.layers.empty() || std::regex_search(m, re)) chosen.push_back(m);
  }
  if (chosen.empty()) {
    throw Error(spec.dir + ": no quantized layer matches --layers '" + spec.layers +
                "' (the first is '" + modules.front() + "')");
  }
  ImportedTrace out;
  Trace& t = out.trace;
  t.name = "import-" + basename_of(spec.dir);
  t.payload = "payload.safetensors";
  t.meta["generator"] = "quasar trace import";
  t.meta["source"] = spec.dir;
  t.meta["quant_config"] = c.config().source;
  std::optional<safetensors::File> given;
  if (!spec.activations.empty()) {
    given = safetensors::read(spec.activations);
    t.meta["activations"] = spec.activations;
  } else {
    t.meta["tokens"] = std::to_string(spec.tokens);
    t.meta["seed"] = std::to_string(spec.seed);
    t.meta["activations"] = "synthetic (LLM-like, seeded per module)";
  }
  if (!spec.command.empty()) t.meta["command"] = spec.command;
  std::set<std::string> layouts;
  for (std::size_t i = 0; i < chosen.size(); ++i) {
    const UnpackedLinear u = unpack_linear(c, chosen[i]);
    // The module's packed tensors are unpacked into u, so they are dropped, unless the next
    // module reads the same ones (the experts of one transformers mxfp4 tensor, which would
    // otherwise be read from disk once per expert).
    if (i + 1 == chosen.size() || tensor_source(c, chosen[i + 1]) != tensor_source(c, chosen[i]))
      c.release();
    layouts.insert(u.layout);
    if (u.source_act_static && u.block) {
      const bool modelopt = u.layout.rfind("modelopt-", 0) == 0;
      t.meta["act_scales"] =
          std::string("static in the checkpoint (") +
          (modelopt ? "input_scale, the activations' calibrated s_t"
                    : "input_global_scale, the activations' calibrated tensor scale") +
          "); recomputed here from the layer's activations (NVFP4: s_t = amax / 2688), "
          "since the activations are " +
          std::string(spec.activations.empty() ? "synthetic" : "given");
    } else if (u.source_act_static) {
      t.meta["act_scales"] =
          "static in the checkpoint (input_scale); recomputed here from the layer's activations "
          "(amax / 127), since the activations are " +
          std::string(spec.activations.empty() ? "synthetic" : "given");
    }
    t.layers.push_back(import_layer(u, spec, given ? &*given : nullptr, out.payload));
  }
  std::string format;
  for (const std::string& l : layouts) format += (format.empty() ? "" : ", ") + l;
  t.meta["format"] = format;
  validate(t, spec.dir);
  return out;
}

void write_imported_trace(const std::string& out_dir, const ImportedTrace& t) {
  io::OutputSet out(out_dir, {"trace.yaml", t.trace.payload});
  safetensors::write(out.path(t.trace.payload), t.payload);
  write_manifest(out.path("trace.yaml"), t.trace);
  out.publish();
}

}  // namespace quasar::trace
