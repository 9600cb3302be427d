// Are quantized checkpoints unpacked right? Tiny checkpoints are packed here bit by bit, from
// known codes, zeros, scales and group maps, by a packer written independently of the
// importer; every unpacked value and every dequantized weight is compared with what was packed,
// and each kind of bad input is rejected with an error naming the file and tensor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <set>

#include "numerics/engine.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/quantize_weights.hpp"
#include "trace/checkpoint.hpp"
#include "trace/importers.hpp"
#include "trace/layer_data.hpp"

namespace quasar::trace {
namespace {

namespace fs = std::filesystem;
using safetensors::DType;
using safetensors::Tensor;
using ::testing::HasSubstr;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// A fresh folder per test.
std::string temp_dir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string leaf = "quasar_import_" + std::string(info->test_suite_name()) + "_" + info->name();
  for (char& ch : leaf) ch = ch == '/' ? '_' : ch;  // parameterized names hold slashes
  const std::string s = (fs::temp_directory_path() / leaf).string();
  fs::remove_all(s);
  fs::create_directories(s);
  return s;
}

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// ---- The independent packer: one bit at a time. ----

// Sets bit (4 * slot + b) of word w for every set bit b of the 4-bit value v.
void set_nibble(std::vector<std::uint32_t>& words, std::size_t w, std::size_t slot, int v) {
  for (unsigned b = 0; b < 4; ++b) {
    if ((static_cast<unsigned>(v) >> b) & 1u) words.at(w) |= 1u << (4 * slot + b);
  }
}

Tensor raw(DType d, std::vector<std::int64_t> shape, const void* data, std::size_t bytes) {
  Tensor t;
  t.dtype = d;
  t.shape = std::move(shape);
  t.bytes.resize(bytes);
  if (bytes) std::memcpy(t.bytes.data(), data, bytes);
  return t;
}
Tensor i32(std::vector<std::int64_t> shape, const std::vector<std::uint32_t>& v) {
  return raw(DType::I32, std::move(shape), v.data(), v.size() * 4);
}
Tensor i32s(std::vector<std::int64_t> shape, const std::vector<std::int32_t>& v) {
  return raw(DType::I32, std::move(shape), v.data(), v.size() * 4);
}
Tensor half(std::vector<std::int64_t> shape, const std::vector<float>& v, bool bf16 = false) {
  std::vector<std::uint16_t> h;
  for (float f : v) h.push_back(bf16 ? f32_to_bf16(f) : f32_to_f16(f));
  return raw(bf16 ? DType::BF16 : DType::F16, std::move(shape), h.data(), h.size() * 2);
}
std::int64_t I(std::size_t v) { return static_cast<std::int64_t>(v); }

// What a test packs: codes in quasar's meaning (signed for symmetric, uint4 with zeros for
// asymmetric), in the checkpoint's K order, plus zeros, scales and each channel's group.
struct Truth {
  std::size_t K = 0, N = 0, gs = 0, G = 0;
  bool sym = true;
  std::vector<int> code;     // [K][N]
  std::vector<int> zero;     // [G][N]; 0 when symmetric
  std::vector<float> scale;  // [G][N]
  std::vector<int> gidx;     // [K]
  int c(std::size_t k, std::size_t n) const { return code[k * N + n]; }
  int z(std::size_t g, std::size_t n) const { return zero[g * N + n]; }
  float s(std::size_t g, std::size_t n) const { return scale[g * N + n]; }
};

// act_order: channels are dealt to groups through a random permutation, as GPTQ's desc_act does.
Truth make_truth(std::size_t K, std::size_t N, std::size_t gs, bool sym, bool act_order,
                 unsigned seed, int lo, int hi, int zlo = 0) {
  std::mt19937 rng(seed);
  Truth t;
  t.K = K, t.N = N, t.gs = gs, t.G = K / gs, t.sym = sym;
  std::uniform_int_distribution<int> q(lo, hi), zd(zlo, 15), sd(1, 200);
  for (std::size_t i = 0; i < K * N; ++i) t.code.push_back(q(rng));
  for (std::size_t i = 0; i < t.G * N; ++i) {
    t.zero.push_back(sym ? 0 : zd(rng));
    t.scale.push_back(static_cast<float>(sd(rng)) / 4096.0f);  // exact in fp16 and bf16
  }
  std::vector<std::size_t> perm(K);
  for (std::size_t k = 0; k < K; ++k) perm[k] = k;
  if (act_order) std::shuffle(perm.begin(), perm.end(), rng);
  for (std::size_t k = 0; k < K; ++k) t.gidx.push_back(static_cast<int>(perm[k] / gs));
  return t;
}

// The order the importer must produce, built group by group (not by sorting).
std::vector<std::size_t> expected_order(const Truth& t) {
  std::vector<std::size_t> order;
  for (std::size_t g = 0; g < t.G; ++g) {
    for (std::size_t k = 0; k < t.K; ++k) {
      if (t.gidx[k] == static_cast<int>(g)) order.push_back(k);
    }
  }
  return order;
}

void expect_unpacked(const UnpackedLinear& u, const Truth& t) {
  ASSERT_EQ(u.k, t.K);
  ASSERT_EQ(u.n, t.N);
  ASSERT_EQ(u.group_size, t.gs);
  ASSERT_EQ(u.symmetric, t.sym);
  const std::vector<std::size_t> order = expected_order(t);
  bool identity = true;
  for (std::size_t j = 0; j < t.K; ++j) identity = identity && order[j] == j;
  if (identity) {
    EXPECT_TRUE(u.k_order.empty());
  } else {
    ASSERT_EQ(u.k_order.size(), t.K);
    for (std::size_t j = 0; j < t.K; ++j) EXPECT_EQ(u.k_order[j], static_cast<int>(order[j]));
  }
  for (std::size_t n = 0; n < t.N; ++n) {
    for (std::size_t g = 0; g < t.G; ++g) {
      EXPECT_EQ(u.scales(n, g), t.s(g, n)) << "scale n=" << n << " g=" << g;
      if (!t.sym) {
        EXPECT_EQ(u.zeros(n, g), t.z(g, n)) << "zero n=" << n << " g=" << g;
      }
    }
  }
  if (t.sym) {
    EXPECT_TRUE(u.zeros.empty());
  }
  const MatrixF deq = dequantize_weights(to_quantized_weights(u, import_scheme(u, {})));
  for (std::size_t j = 0; j < t.K; ++j) {
    const std::size_t k = order[j];
    const std::size_t g = static_cast<std::size_t>(t.gidx[k]);
    for (std::size_t n = 0; n < t.N; ++n) {
      ASSERT_EQ(u.codes(n, j), t.c(k, n)) << "code n=" << n << " k=" << k;
      const float want = t.s(g, n) * static_cast<float>(t.c(k, n) - t.z(g, n));
      ASSERT_EQ(u.dequantized(n, j), want) << "n=" << n << " k=" << k;
      ASSERT_EQ(deq(n, j), want) << "quasar dequantization n=" << n << " k=" << k;
    }
  }
}

// ---- Checkpoint writers, one per layout. ----

struct Gptq {
  bool v2 = false, sym = false, act_order = false;
  long group = 32;
};

void PrintTo(const Gptq& p, std::ostream* os) {
  *os << (p.v2 ? "gptq_v2" : "gptq") << (p.sym ? " sym" : " asym")
      << (p.act_order ? " act-order" : "") << " group " << p.group;
}

std::string gptq_config(const Gptq& p, int bits = 4) {
  return std::string(
             R"({"model_type": "llama", "quantization_config": {"quant_method": "gptq", "bits": )") +
         std::to_string(bits) + R"(, "group_size": )" + std::to_string(p.group) +
         R"(, "desc_act": )" + (p.act_order ? "true" : "false") + R"(, "sym": )" +
         (p.sym ? "true" : "false") + R"(, "checkpoint_format": ")" + (p.v2 ? "gptq_v2" : "gptq") +
         R"("}})";
}

void pack_gptq(safetensors::File& f, const std::string& m, const Truth& t, bool v2) {
  const std::size_t K = t.K, N = t.N;
  std::vector<std::uint32_t> qw(K / 8 * N), qz(t.G * (N / 8));
  for (std::size_t k = 0; k < K; ++k) {
    for (std::size_t n = 0; n < N; ++n) {
      set_nibble(qw, (k / 8) * N + n, k % 8, t.sym ? t.c(k, n) + 8 : t.c(k, n));
    }
  }
  for (std::size_t g = 0; g < t.G; ++g) {
    for (std::size_t n = 0; n < N; ++n) {
      const int zero = t.sym ? 8 : t.z(g, n);
      set_nibble(qz, g * (N / 8) + n / 8, n % 8, (v2 ? zero : zero - 1) & 0xF);
    }
  }
  f.tensors[m + ".qweight"] = i32({I(K / 8), I(N)}, qw);
  f.tensors[m + ".qzeros"] = i32({I(t.G), I(N / 8)}, qz);
  f.tensors[m + ".scales"] = half({I(t.G), I(N)}, t.scale);
  f.tensors[m + ".g_idx"] = i32s({I(K)}, std::vector<std::int32_t>(t.gidx.begin(), t.gidx.end()));
}

const std::string kQ = "model.layers.0.self_attn.q_proj";
const std::string kDown = "model.layers.0.mlp.down_proj";

// A GPTQ checkpoint with two layers (q_proj: K=64 N=16, down_proj: K=64 N=8).
std::string write_gptq(const Gptq& p, Truth* q_truth = nullptr) {
  const std::string dir = temp_dir();
  const std::size_t gs = p.group == -1 ? 64 : static_cast<std::size_t>(p.group);
  const Truth tq =
      make_truth(64, 16, gs, p.sym, p.act_order, 1, p.sym ? -8 : 0, p.sym ? 7 : 15, p.v2 ? 0 : 1);
  const Truth td =
      make_truth(64, 8, gs, p.sym, p.act_order, 2, p.sym ? -8 : 0, p.sym ? 7 : 15, p.v2 ? 0 : 1);
  safetensors::File f;
  pack_gptq(f, kQ, tq, p.v2);
  pack_gptq(f, kDown, td, p.v2);
  safetensors::write(dir + "/model.safetensors", f);
  write_text(dir + "/config.json", gptq_config(p));
  if (q_truth) *q_truth = tq;
  return dir;
}

class GptqLayouts : public ::testing::TestWithParam<Gptq> {};

TEST_P(GptqLayouts, EveryValueUnpacks) {
  const Gptq p = GetParam();
  Truth t;
  const std::string dir = write_gptq(p, &t);
  const Checkpoint c = Checkpoint::open(dir);
  EXPECT_EQ(quantized_modules(c), (std::vector<std::string>{kQ, kDown}));  // execution order
  const UnpackedLinear u = unpack_linear(c, kQ);
  EXPECT_EQ(u.layout, p.v2 ? "gptq_v2" : "gptq");
  expect_unpacked(u, t);
  EXPECT_EQ(import_scheme(u, {}), Scheme::w4a16);
  if (p.act_order) {
    EXPECT_FALSE(u.k_order.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Importers, GptqLayouts,
                         ::testing::Values(Gptq{false, false, false, 32},
                                           Gptq{true, false, false, 32},
                                           Gptq{false, true, false, -1},
                                           Gptq{true, true, false, -1},
                                           Gptq{false, false, true, 32}, Gptq{true, true, true, 16},
                                           Gptq{false, true, true, 32}),
                         [](const auto& param_info) {
                           const Gptq& p = param_info.param;
                           return std::string(p.v2 ? "v2" : "v1") + (p.sym ? "_sym" : "_asym") +
                                  (p.act_order ? "_actorder" : "") + "_g" +
                                  (p.group < 0 ? std::string("all") : std::to_string(p.group));
                         });

// The same checkpoint as v1 and as v2 stores different qzeros words for the same zeros.
// Module paths sort into execution order for the layouts the importers meet: the name order
// of a LLaMA layer (mlp.down_proj < self_attn.k_proj < ...) and layers.10 < layers.2 are both
// wrong for a per-layer timeline.
TEST(Importers, ModulesSortInExecutionOrder) {
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end(), module_order_less);
    return v;
  };
  const std::vector<std::string> llama = {
      "model.layers.2.self_attn.q_proj", "model.layers.2.self_attn.k_proj",
      "model.layers.2.self_attn.v_proj", "model.layers.2.self_attn.o_proj",
      "model.layers.2.mlp.gate_proj",    "model.layers.2.mlp.up_proj",
      "model.layers.2.mlp.down_proj",    "model.layers.10.self_attn.q_proj",
      "model.layers.10.mlp.down_proj",   "lm_head"};
  std::vector<std::string> shuffled(llama.rbegin(), llama.rend());
  EXPECT_EQ(sorted(shuffled), llama);
  const std::vector<std::string> opt = {
      "model.decoder.layers.0.self_attn.q_proj", "model.decoder.layers.0.self_attn.k_proj",
      "model.decoder.layers.0.self_attn.v_proj", "model.decoder.layers.0.self_attn.out_proj",
      "model.decoder.layers.0.fc1",              "model.decoder.layers.0.fc2"};
  EXPECT_EQ(sorted({opt.rbegin(), opt.rend()}), opt);
  const std::vector<std::string> mixtral = {
      "model.layers.0.self_attn.o_proj",
      "model.layers.0.block_sparse_moe.experts.0.w1", "model.layers.0.block_sparse_moe.experts.0.w3",
      "model.layers.0.block_sparse_moe.experts.0.w2", "model.layers.0.block_sparse_moe.experts.7.w1",
      "model.layers.0.block_sparse_moe.experts.10.w1"};
  EXPECT_EQ(sorted({mixtral.rbegin(), mixtral.rend()}), mixtral);
  const std::vector<std::string> moe_router = {"model.layers.0.block_sparse_moe.gate",
                                               "model.layers.0.block_sparse_moe.experts.0.w1"};
  EXPECT_EQ(sorted({moe_router.rbegin(), moe_router.rend()}), moe_router);
  const std::vector<std::string> falcon = {
      "transformer.h.0.self_attention.query_key_value", "transformer.h.0.self_attention.dense",
      "transformer.h.0.mlp.dense_h_to_4h", "transformer.h.0.mlp.dense_4h_to_h"};
  EXPECT_EQ(sorted({falcon.rbegin(), falcon.rend()}), falcon);
  const std::vector<std::string> deepseek = {
      "model.layers.0.self_attn.q_a_proj", "model.layers.0.self_attn.kv_a_proj_with_mqa",
      "model.layers.0.self_attn.o_proj", "model.layers.0.mlp.experts.3.gate_proj",
      "model.layers.0.mlp.shared_experts.down_proj"};
  EXPECT_EQ(sorted({deepseek.rbegin(), deepseek.rend()}), deepseek);
  EXPECT_FALSE(module_order_less("a.b", "a.b"));
  EXPECT_TRUE(module_order_less("a.b", "a.b.c"));
}

TEST(Importers, GptqV1AndV2ZeroConventions) {
  const std::string d1 = write_gptq({false, true, false, 32});
  const Checkpoint c1 = Checkpoint::open(d1);
  const Tensor& z1 = c1.get(kQ + ".qzeros");
  std::uint32_t w1;
  std::memcpy(&w1, z1.bytes.data(), 4);
  EXPECT_EQ(w1, 0x77777777u);
  fs::remove_all(d1);
  const std::string d2 = write_gptq({true, true, false, 32});
  const Checkpoint c2 = Checkpoint::open(d2);
  std::uint32_t w2;
  std::memcpy(&w2, c2.get(kQ + ".qzeros").bytes.data(), 4);
  EXPECT_EQ(w2, 0x88888888u);
  // Read as v1, the v2 words give zeros of 9: not the symmetric 8 the config declares.
  write_text(d2 + "/config.json", gptq_config({false, true, false, 32}));
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(d2), kQ); }),
              HasSubstr("qzeros' word [0, 0] = 0x88888888 gives zero 9 to column 0, but the "
                        "config declares sym: true"));
  // v1 stores zero - 1 in a nibble, so a stored 15 means zero 16, which uint4 cannot hold.
  const std::string d3 = write_gptq({false, false, false, 32});
  safetensors::File f = safetensors::read(d3 + "/model.safetensors");
  std::vector<std::uint8_t>& zb = f.tensors.at(kQ + ".qzeros").bytes;
  std::fill(zb.begin(), zb.begin() + 4, std::uint8_t{0xff});
  safetensors::write(d3 + "/model.safetensors", f);
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(d3), kQ); }),
              HasSubstr("qzeros' word [0, 0] = 0xffffffff gives zero 16 (a v1 nibble 15)"));
}

TEST(Importers, AwqInterleavedNibbles) {
  const std::string dir = temp_dir();
  const std::size_t K = 64, N = 24, gs = 16;
  const Truth t = make_truth(K, N, gs, false, false, 3, 0, 15);
  static const int kOrder[8] = {0, 2, 4, 6, 1, 3, 5, 7};
  std::vector<std::uint32_t> qw(K * (N / 8)), qz(t.G * (N / 8));
  for (std::size_t j = 0; j < N / 8; ++j) {
    for (std::size_t i = 0; i < 8; ++i) {
      const std::size_t col = 8 * j + static_cast<std::size_t>(kOrder[i]);
      for (std::size_t k = 0; k < K; ++k) set_nibble(qw, k * (N / 8) + j, i, t.c(k, col));
      for (std::size_t g = 0; g < t.G; ++g) set_nibble(qz, g * (N / 8) + j, i, t.z(g, col));
    }
  }
  safetensors::File f;
  f.tensors[kQ + ".qweight"] = i32({I(K), I(N / 8)}, qw);
  f.tensors[kQ + ".qzeros"] = i32({I(t.G), I(N / 8)}, qz);
  f.tensors[kQ + ".scales"] = half({I(t.G), I(N)}, t.scale);
  safetensors::write(dir + "/model.safetensors", f);
  write_text(dir + "/config.json",
             R"({"quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 16,
                 "zero_point": true, "version": "gemm"}})");
  const UnpackedLinear u = unpack_linear(Checkpoint::open(dir), kQ);
  EXPECT_EQ(u.layout, "awq-gemm");
  expect_unpacked(u, t);
  // A plain (non-interleaved) reading would differ: column 1 lives in nibble 4.
  EXPECT_EQ(u.codes(1, 0), t.c(0, 1));
}

// compressed-tensors pack-quantized: weight_packed [N, ceil(K/8)] with value + 8.
struct CtPacked {
  std::size_t K, N, group;  // group 0: per channel
  bool sym, act_order, bf16;
};

void PrintTo(const CtPacked& p, std::ostream* os) {
  *os << "K " << p.K << " N " << p.N << " group " << p.group << (p.sym ? " sym" : " asym")
      << (p.act_order ? " act-order" : "") << (p.bf16 ? " bf16 scales" : "");
}

std::string ct_config(const std::string& format, int bits, const std::string& strategy,
                      std::size_t group, bool sym, const std::string& input = "null") {
  return R"({"quantization_config": {"quant_method": "compressed-tensors", "format": ")" + format +
         R"(", "ignore": ["lm_head"], "config_groups": {"group_0": {"targets": ["Linear"],
         "weights": {"num_bits": )" +
         std::to_string(bits) + R"(, "type": "int", "symmetric": )" + (sym ? "true" : "false") +
         R"(, "strategy": ")" + strategy + R"(", "group_size": )" +
         (group ? std::to_string(group) : "null") + R"(}, "input_activations": )" + input + "}}}}";
}

class CtPackedLayouts : public ::testing::TestWithParam<CtPacked> {};

TEST_P(CtPackedLayouts, EveryValueUnpacks) {
  const CtPacked p = GetParam();
  const std::string dir = temp_dir();
  const std::size_t gs = p.group ? p.group : p.K;
  const Truth t = make_truth(p.K, p.N, gs, p.sym, p.act_order, 4, p.sym ? -8 : 0, p.sym ? 7 : 15);
  const std::size_t W = (p.K + 7) / 8, ZW = (p.N + 7) / 8;
  std::vector<std::uint32_t> packed(p.N * W), zp(ZW * t.G);
  for (std::size_t n = 0; n < p.N; ++n) {
    for (std::size_t k = 0; k < p.K; ++k) {
      // Stored unsigned: signed value + 8. Asymmetric codes are uint4 = value + 8 already.
      set_nibble(packed, n * W + k / 8, k % 8, p.sym ? t.c(k, n) + 8 : t.c(k, n));
    }
    for (std::size_t g = 0; g < t.G; ++g) set_nibble(zp, (n / 8) * t.G + g, n % 8, t.z(g, n));
  }
  std::vector<float> scale_nk(p.N * t.G);  // [N, G], transposed from the truth's [G, N]
  for (std::size_t n = 0; n < p.N; ++n) {
    for (std::size_t g = 0; g < t.G; ++g) scale_nk[n * t.G + g] = t.s(g, n);
  }
  safetensors::File f;
  f.tensors[kQ + ".weight_packed"] = i32({I(p.N), I(W)}, packed);
  f.tensors[kQ + ".weight_shape"] = i32s({2}, {static_cast<int>(p.N), static_cast<int>(p.K)});
  f.tensors[kQ + ".weight_scale"] = half({I(p.N), I(t.G)}, scale_nk, p.bf16);
  if (!p.sym) f.tensors[kQ + ".weight_zero_point"] = i32({I(ZW), I(t.G)}, zp);
  if (p.act_order) {
    f.tensors[kQ + ".weight_g_idx"] =
        i32s({I(p.K)}, std::vector<std::int32_t>(t.gidx.begin(), t.gidx.end()));
  }
  f.tensors["lm_head.weight"] = half({4, I(p.K)}, std::vector<float>(4 * p.K, 0.5f));
  safetensors::write(dir + "/model.safetensors", f);
  write_text(dir + "/config.json",
             ct_config("pack-quantized", 4, p.group ? "group" : "channel", p.group, p.sym));
  const Checkpoint c = Checkpoint::open(dir);
  EXPECT_EQ(quantized_modules(c), std::vector<std::string>{kQ});  // lm_head is ignored
  const UnpackedLinear u = unpack_linear(c, kQ);
  EXPECT_EQ(u.layout, "pack-quantized");
  expect_unpacked(u, t);
}

INSTANTIATE_TEST_SUITE_P(Importers, CtPackedLayouts,
                         ::testing::Values(CtPacked{64, 8, 32, true, false, false},
                                           CtPacked{36, 12, 12, false, false, true},
                                           CtPacked{20, 8, 0, true, false, false},
                                           CtPacked{64, 16, 16, true, true, true},
                                           CtPacked{48, 9, 16, false, true, false}),
                         [](const auto& param_info) {
                           const CtPacked& p = param_info.param;
                           return "K" + std::to_string(p.K) + "_N" + std::to_string(p.N) + "_g" +
                                  std::to_string(p.group) + (p.sym ? "_sym" : "_asym") +
                                  (p.act_order ? "_actorder" : "");
                         });

std::string write_ct_int(int bits, std::size_t K, std::size_t N, std::size_t group, Truth* out,
                         int bad_value = 0) {
  const std::string dir = temp_dir();
  const std::size_t gs = group ? group : K;
  Truth t = make_truth(K, N, gs, true, false, 5, bits == 8 ? -128 : -8, bits == 8 ? 127 : 7);
  std::vector<std::int8_t> w(N * K);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t k = 0; k < K; ++k) w[n * K + k] = static_cast<std::int8_t>(t.c(k, n));
  }
  if (bad_value) w[3] = static_cast<std::int8_t>(bad_value);
  std::vector<float> scale_nk(N * t.G);
  for (std::size_t n = 0; n < N; ++n) {
    for (std::size_t g = 0; g < t.G; ++g) scale_nk[n * t.G + g] = t.s(g, n);
  }
  safetensors::File f;
  f.tensors[kQ + ".weight"] = raw(DType::I8, {I(N), I(K)}, w.data(), w.size());
  f.tensors[kQ + ".weight_scale"] = half({I(N), I(t.G)}, scale_nk, true);
  safetensors::write(dir + "/model.safetensors", f);
  write_text(dir + "/config.json",
             ct_config("int-quantized", bits, group ? "group" : "channel", group, true,
                       R"({"num_bits": 8, "type": "int", "symmetric": true, "strategy": "token",
                           "dynamic": true})"));
  *out = t;
  return dir;
}

TEST(Importers, CtIntQuantizedW8A8) {
  Truth t;
  const std::string dir = write_ct_int(8, 40, 8, 0, &t);
  const UnpackedLinear u = unpack_linear(Checkpoint::open(dir), kQ);
  EXPECT_EQ(u.layout, "int-quantized");
  EXPECT_EQ(u.bits, 8);
  expect_unpacked(u, t);
  EXPECT_EQ(import_scheme(u, {}), Scheme::w8a8);
  EXPECT_THAT(error_of([&] { import_scheme(u, Scheme::w4a16); }),
              HasSubstr("cannot be imported as w4a16; accepted for it: w8a8"));
}

TEST(Importers, CtIntQuantizedW4A8) {
  Truth t;
  const std::string dir = write_ct_int(4, 256, 8, 128, &t);
  const UnpackedLinear u = unpack_linear(Checkpoint::open(dir), kQ);
  expect_unpacked(u, t);
  EXPECT_EQ(import_scheme(u, {}), Scheme::w4a8_fs);
  EXPECT_EQ(import_scheme(u, Scheme::w4a8_is), Scheme::w4a8_is);
  Truth t2;
  const std::string bad = write_ct_int(4, 256, 8, 128, &t2, 9);
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(bad), kQ); }),
              HasSubstr("tensor '" + kQ + ".weight' element [0, 3] = 9 is outside int4"));
}

TEST(Importers, ShardedCheckpointWithIndex) {
  const std::string dir = write_gptq({false, false, true, 32});
  const safetensors::File all = safetensors::read(dir + "/model.safetensors");
  fs::remove(dir + "/model.safetensors");
  safetensors::File a, b;
  std::string map;
  for (const auto& [name, t] : all.tensors) {
    const bool first = name.rfind(kQ, 0) == 0;
    (first ? a : b).tensors[name] = t;
    map += std::string(map.empty() ? "" : ", ") + "\"" + name + "\": \"model-0000" +
           (first ? "1" : "2") + "-of-00002.safetensors\"";
  }
  safetensors::write(dir + "/model-00001-of-00002.safetensors", a);
  safetensors::write(dir + "/model-00002-of-00002.safetensors", b);
  write_text(dir + "/model.safetensors.index.json",
             R"({"metadata": {"total_size": 1}, "weight_map": {)" + map + "}}");
  const Checkpoint c = Checkpoint::open(dir);
  EXPECT_EQ(quantized_modules(c).size(), 2u);
  EXPECT_EQ(c.file_of(kDown + ".qweight"), dir + "/model-00002-of-00002.safetensors");
  EXPECT_EQ(c.loaded_count(), 0u);  // opening reads headers only
  const UnpackedLinear u = unpack_linear(c, kDown);
  EXPECT_EQ(u.n, 8u);
  // Only the unpacked module's tensors were read, all from the second shard.
  EXPECT_GE(c.loaded_count(), 3u);  // qweight, qzeros, scales (+ g_idx)
  EXPECT_LT(c.loaded_count(), c.tensor_names().size());
  c.release();
  EXPECT_EQ(c.loaded_count(), 0u);
  // An unpack after release reads again and gives the same values.
  EXPECT_EQ(unpack_linear(c, kDown).codes.values(), u.codes.values());
  fs::remove(dir + "/model-00002-of-00002.safetensors");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr("model.safetensors.index.json: weight_map names shard "
                        "'model-00002-of-00002.safetensors'"));
}

// Issue 14: an index's weight_map named "../../etc/passwd" and the importer opened it. A shard
// must be a file inside the checkpoint folder, after symbolic links are resolved.
TEST(Importers, IndexShardsMustStayInsideTheCheckpointFolder) {
  const std::string dir = write_gptq({false, false, true, 32});
  const std::string ckpt = dir + "/ckpt";
  fs::create_directories(ckpt + "/shards");
  fs::copy_file(dir + "/config.json", ckpt + "/config.json");
  fs::rename(dir + "/model.safetensors", dir + "/outside.safetensors");
  const safetensors::File all = safetensors::read(dir + "/outside.safetensors");
  const std::string index = ckpt + "/model.safetensors.index.json";
  const std::string first = all.tensors.begin()->first;
  auto with_shard = [&](const std::string& shard) {
    std::string map;
    for (const auto& [name, t] : all.tensors) {
      map += std::string(map.empty() ? "" : ", ") + "\"" + name + "\": \"" + shard + "\"";
    }
    write_text(index, R"({"weight_map": {)" + map + "}}");
    return error_of([&] { Checkpoint::open(ckpt); });
  };
  const std::string accepted =
      "; accepted: the name of a file inside the checkpoint folder " + ckpt;
  std::string e = with_shard("../outside.safetensors");
  EXPECT_THAT(e, HasSubstr(index + ": weight_map['" + first + "'] = '../outside.safetensors' " +
                           "has a '..' component" + accepted));
  EXPECT_THAT(with_shard("shards/../../outside.safetensors"), HasSubstr("has a '..' component"));
  EXPECT_THAT(with_shard(dir + "/outside.safetensors"), HasSubstr("is an absolute path"));
  EXPECT_THAT(with_shard(""), HasSubstr("is empty"));
  EXPECT_THAT(with_shard("."), HasSubstr("which is not a file inside the checkpoint folder"));
  // A link inside the folder that leads out of it.
  fs::create_symlink("../outside.safetensors", ckpt + "/link.safetensors");
  EXPECT_THAT(with_shard("link.safetensors"),
              HasSubstr("= 'link.safetensors' resolves to " +
                        fs::weakly_canonical(dir + "/outside.safetensors").string() +
                        ", which is not a file inside the checkpoint folder"));
  // Inside the folder is accepted: a subfolder, and a link that stays inside.
  fs::copy_file(dir + "/outside.safetensors", ckpt + "/shards/model.safetensors");
  EXPECT_EQ(with_shard("shards/model.safetensors"), "(no error)");
  fs::create_symlink("shards/model.safetensors", ckpt + "/alias.safetensors");
  EXPECT_EQ(with_shard("alias.safetensors"), "(no error)");
  EXPECT_EQ(Checkpoint::open(ckpt).file_of(first), ckpt + "/alias.safetensors");
}

// The written trace is valid, its layers recompute to their expected outputs, and the act-order
// permutation is consistent: un-permuting x reproduces the checkpoint's own GEMM.
TEST(Importers, ImportWritesAValidDataBearingTrace) {
  Truth t;
  const std::string dir = write_gptq({false, false, true, 32}, &t);
  ImportSpec spec;
  spec.dir = dir;
  spec.tokens = 5;
  spec.seed = 3;
  const ImportedTrace imp = import_checkpoint(spec);
  ASSERT_EQ(imp.trace.layers.size(), 2u);
  const std::string out = dir + "/out";
  write_imported_trace(out, imp);
  const Trace back = read_manifest(out + "/trace.yaml");
  EXPECT_EQ(back.meta.at("format"), "gptq");
  const safetensors::File payload = safetensors::read(out + "/payload.safetensors");
  const Layer& q = back.layers[0];  // execution order: q_proj before down_proj
  ASSERT_EQ(q.name, kQ);
  EXPECT_EQ(q.scheme->scheme, Scheme::w4a16);
  EXPECT_EQ(q.scheme->group_size, 32u);
  ASSERT_TRUE(q.tensors.count("k_order"));
  for (const Layer& l : back.layers) {
    const LayerData d = load_layer_data(l, payload, "payload");
    EXPECT_EQ(run_layer(cpu_engine(), l, d.operands).y, *d.expected_y) << l.name;
  }
  const LayerData d = load_layer_data(q, payload, "payload");
  const Tensor& ko = payload.get(q.tensors.at("k_order"), "payload");
  std::vector<std::int32_t> order(t.K);
  std::memcpy(order.data(), ko.bytes.data(), ko.bytes.size());
  for (std::size_t m = 0; m < 5; ++m) {
    for (std::size_t n = 0; n < t.N; ++n) {
      double ref = 0;
      for (std::size_t j = 0; j < t.K; ++j) {
        const std::size_t k = static_cast<std::size_t>(order[j]);
        const std::size_t g = static_cast<std::size_t>(t.gidx[k]);
        ref += static_cast<double>(f16_to_f32((*d.operands.x_f16)(m, j))) * t.s(g, n) *
               (t.c(k, n) - t.z(g, n));
      }
      EXPECT_NEAR(f16_to_f32((*d.expected_y)(m, n)), ref, 0.01 + 0.01 * std::abs(ref));
    }
  }
  // --layers and --max-layers select modules; --scheme is checked per layer.
  spec.layers = "mlp";
  EXPECT_EQ(import_checkpoint(spec).trace.layers.size(), 1u);
  spec.layers = "";
  spec.max_layers = 1;
  EXPECT_EQ(import_checkpoint(spec).trace.layers.size(), 1u);
  spec.scheme = Scheme::w4a8_is;
  EXPECT_THAT(error_of([&] { import_checkpoint(spec); }),
              HasSubstr("(gptq, 4-bit asymmetric) cannot be imported as w4a8-is"));
}

// Given activations replace the synthetic ones, in the checkpoint's own channel order: quasar
// applies the act-order permutation itself.
TEST(Importers, GivenActivationsAreUsedInCheckpointOrder) {
  Truth t;
  const std::string dir = write_gptq({false, false, true, 32}, &t);
  ImportSpec spec;
  spec.dir = dir;
  spec.layers = "q_proj";
  safetensors::File acts;
  MatrixF given(3, t.K);
  for (std::size_t i = 0; i < given.size(); ++i)
    given.values()[i] = 0.25f * static_cast<float>(i % 29) - 3.0f;
  acts.tensors[kQ] = safetensors::from_matrix(given);
  spec.activations = dir + "/acts.safetensors";
  safetensors::write(spec.activations, acts);
  const ImportedTrace imp = import_checkpoint(spec);
  ASSERT_EQ(imp.trace.layers.size(), 1u);
  const Layer& q = imp.trace.layers[0];
  EXPECT_EQ(q.m, 3u) << "M comes from the given tensor";
  const LayerData d = load_layer_data(q, imp.payload, "payload");
  const Tensor& ko = imp.payload.get(q.tensors.at("k_order"), "payload");
  std::vector<std::int32_t> order(t.K);
  std::memcpy(order.data(), ko.bytes.data(), ko.bytes.size());
  for (std::size_t m = 0; m < 3; ++m) {
    for (std::size_t j = 0; j < t.K; ++j) {
      ASSERT_EQ((*d.operands.x_f16)(m, j),
                f32_to_f16(given(m, static_cast<std::size_t>(order[j]))));
    }
  }
  EXPECT_EQ(imp.trace.meta.at("activations"), spec.activations);
  spec.layers = "";  // the mlp layer has no given tensor
  EXPECT_THAT(error_of([&] { import_checkpoint(spec); }),
              HasSubstr("acts.safetensors: tensor 'model.layers.0.mlp"));
  acts.tensors[kQ] = safetensors::from_matrix(MatrixF(3, t.K + 1));
  safetensors::write(spec.activations, acts);
  spec.layers = "q_proj";
  EXPECT_THAT(error_of([&] { import_checkpoint(spec); }),
              HasSubstr("the layer needs [M >= 1, K = "));
}

TEST(Importers, SymmetricImportsAsW4A8IntegerScales) {
  const std::string dir = write_gptq({true, true, true, 16});
  ImportSpec spec;
  spec.dir = dir;
  spec.scheme = Scheme::w4a8_is;
  const ImportedTrace imp = import_checkpoint(spec);
  for (const Layer& l : imp.trace.layers) {
    EXPECT_EQ(l.scheme->scheme, Scheme::w4a8_is);
    EXPECT_TRUE(l.tensors.count("int_scales"));
    const LayerData d = load_layer_data(l, imp.payload, "payload");
    EXPECT_EQ(run_layer(cpu_engine(), l, d.operands).y, *d.expected_y);
  }
}

// ---- Bad input: each a quasar::Error naming the file and tensor (or config field). ----

TEST(Importers, RejectsMissingWrongDtypeAndWrongShape) {
  const std::string dir = write_gptq({false, false, false, 32});
  const std::string file = dir + "/model.safetensors";
  safetensors::File f = safetensors::read(file);
  const safetensors::File good = f;
  f.tensors.erase(kQ + ".qzeros");
  safetensors::write(file, f);
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr(file + ": tensor '" + kQ + ".qzeros' is missing"));

  f = good;
  f.tensors[kQ + ".scales"] = i32s({2, 16}, std::vector<std::int32_t>(32, 1));
  safetensors::write(file, f);
  EXPECT_THAT(
      error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
      HasSubstr(file + ": tensor '" + kQ + ".scales' has dtype I32, expected F16 or BF16 or F32"));

  f = good;
  f.tensors[kQ + ".qweight"] = i32({4, 16}, std::vector<std::uint32_t>(64, 0));
  safetensors::write(file, f);
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr("tensor '" + kQ +
                        ".qweight' has shape [4, 16], expected [K/8, N] = [8, "
                        "16] (K = 64 from g_idx"));

  f = good;
  std::vector<float> s(32, 0.01f);
  s[17] = 0.0f;
  f.tensors[kQ + ".scales"] = half({2, 16}, s);
  safetensors::write(file, f);
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr("tensor '" + kQ +
                        ".scales' element [1, 1] is 0.000000; scales must be "
                        "finite and > 0"));
}

TEST(Importers, RejectsQzerosThatContradictSymmetry) {
  const std::string dir = write_gptq({false, false, false, 32});  // asymmetric zeros
  write_text(dir + "/config.json", gptq_config({false, true, false, 32}));
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr("tensor '" + kQ + ".qzeros' word [0, 0] = 0x"));
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr("needs every zero to be 8 (v1 words 0x77777777)"));
}

TEST(Importers, RejectsBadConfigs) {
  const std::string dir = write_gptq({false, false, false, 32});
  const std::string config = dir + "/config.json";
  write_text(config, gptq_config({false, false, false, 32}, 3));
  EXPECT_THAT(
      error_of([&] { Checkpoint::open(dir); }),
      HasSubstr(config + ": quantization_config.bits = 3 is not supported; accepted: 4 or 8"));
  write_text(config, gptq_config({false, false, false, 32}, 8));
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr("GPTQ bits = 8 has no quasar scheme (weight-only); accepted: bits 4"));
  write_text(config, R"({"quantization_config": {"quant_method": "hqq", "bits": 4}})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr("quant_method 'hqq' is not supported; accepted: gptq, awq, "
                        "compressed-tensors"));
  write_text(config, ct_config("float-quantized", 8, "channel", 0, true));
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr("config_groups.group_0.format 'float-quantized' is not supported; "
                        "accepted: pack-quantized, int-quantized"));
  write_text(config, R"({"quantization_config": {"quant_method": "gptq", "bits": 4,
                         "checkpoint_format": "marlin"}})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr("checkpoint_format 'marlin' is not supported; accepted: gptq, gptq_v2"));
  fs::remove(config);
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }), HasSubstr("no quantization config"));
  // quantize_config.json (AutoGPTQ's own file) is read when config.json has none.
  write_text(dir + "/quantize_config.json",
             R"({"bits": 4, "group_size": 32, "desc_act": false, "sym": false})");
  EXPECT_EQ(unpack_linear(Checkpoint::open(dir), kQ).layout, "gptq");
}

// compressed-tensors input_activations: the strategy sets the layer's activation scales, a
// static scale is recomputed (and the trace says so), unsupported settings are refused by key.
TEST(Importers, CtActivationSettings) {
  Truth t;
  const std::string dir = write_ct_int(4, 256, 8, 128, &t);
  const std::string config = dir + "/config.json";
  auto with_input = [&](const std::string& input) {
    write_text(config, ct_config("int-quantized", 4, "group", 128, true, input));
  };
  ImportSpec spec;
  spec.dir = dir;
  spec.tokens = 4;
  EXPECT_EQ(import_checkpoint(spec).trace.layers.at(0).scheme->act, ActQuantMode::per_token);
  EXPECT_EQ(import_checkpoint(spec).trace.meta.count("act_scales"), 0u);
  with_input(R"({"num_bits": 8, "type": "int", "strategy": "tensor", "dynamic": false})");
  const ImportedTrace st = import_checkpoint(spec);
  EXPECT_EQ(st.trace.layers.at(0).scheme->act, ActQuantMode::per_tensor);
  EXPECT_THAT(st.trace.meta.at("act_scales"), HasSubstr("recomputed"));
  with_input(R"({"num_bits": 8, "type": "float", "strategy": "token", "dynamic": true})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr("input_activations.type 'float' activations are not supported; "
                        "accepted: int"));
  with_input(R"({"num_bits": 4, "type": "int", "strategy": "token", "dynamic": true})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr("input_activations.num_bits 4 is not supported; accepted: 8"));
  with_input(R"({"num_bits": 8, "type": "int", "strategy": "group", "dynamic": true})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr("input_activations.strategy 'group' is not supported; accepted: token, "
                        "tensor"));
}

// actorder "group" needs weight_g_idx; "weight" keeps groups contiguous and needs none.
TEST(Importers, CtActorderGroupNeedsGIdx) {
  Truth t;
  const std::string dir = write_ct_int(4, 256, 8, 128, &t);
  std::string cfg = ct_config("int-quantized", 4, "group", 128, true,
                              R"({"num_bits": 8, "type": "int", "strategy": "token"})");
  const std::string at = R"("strategy": "group",)";
  ASSERT_NE(cfg.find(at), std::string::npos);
  auto with_actorder = [&](const std::string& v) {
    std::string c = cfg;
    c.insert(c.find(at) + at.size(), R"( "actorder": )" + v + ",");
    write_text(dir + "/config.json", c);
  };
  with_actorder(R"("weight")");
  EXPECT_TRUE(unpack_linear(Checkpoint::open(dir), kQ).k_order.empty());
  with_actorder(R"("group")");
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr("tensor '" + kQ + ".weight_g_idx' is missing"));
  with_actorder(R"("static")");
  EXPECT_THAT(
      error_of([&] { Checkpoint::open(dir); }),
      HasSubstr("weights.actorder 'static' is not supported; accepted: group, weight, null"));
}

TEST(Importers, RejectsGroupsThatAreNotWhole) {
  const std::string dir = write_gptq({false, false, false, 32});
  const std::string file = dir + "/model.safetensors";
  safetensors::File f = safetensors::read(file);
  std::vector<std::int32_t> g(64);
  for (std::size_t k = 0; k < 64; ++k) g[k] = k < 40 ? 0 : 1;  // 40 + 24 channels
  f.tensors[kQ + ".g_idx"] = i32s({64}, g);
  safetensors::write(file, f);
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr("tensor '" + kQ +
                        ".g_idx' puts a number of channels other than 32 in "
                        "group 0; accepted: every group holds exactly group_size channels"));
  write_text(dir + "/config.json", gptq_config({false, false, false, 48}));
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr("K = 64 and group size 48; quasar needs whole groups"));
}

// ---- Block-scaled checkpoints: compressed-tensors nvfp4/mxfp4-pack-quantized, transformers
// mxfp4 (GPT-OSS). The codes and scales are chosen here, packed two codes a byte by this file's
// own rule (element 2i in the low nibble), and must come back byte for byte. ----

// Independent decoders of the formats (from their definitions, not numerics' integer forms).
double e2m1_value(std::uint8_t code) {
  static const double kMag[8] = {0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0};
  return (code & 8 ? -1.0 : 1.0) * kMag[code & 7];
}
double e4m3_scale_value(std::uint8_t code) {  // sign bit clear, not NaN (the test's scales)
  const int field = code >> 3, mant = code & 7;
  return field == 0 ? std::ldexp(mant / 8.0, -6) : std::ldexp(1.0 + mant / 8.0, field - 7);
}

struct Fp4Truth {
  std::size_t N = 0, K = 0, B = 0;
  std::vector<std::uint8_t> code;   // [N][K], 0..15
  std::vector<std::uint8_t> scale;  // [N][K/B]: E4M3 (NVFP4) or E8M0 (MX) bytes
  std::size_t G() const { return K / B; }
};

Fp4Truth make_fp4(std::size_t N, std::size_t K, bool nvfp4, unsigned seed) {
  std::mt19937 rng(seed);
  Fp4Truth t;
  t.N = N, t.K = K, t.B = nvfp4 ? 16 : 32;
  std::uniform_int_distribution<int> c(0, 15), e4(0x08, 0x77), e8(112, 135);
  for (std::size_t i = 0; i < N * K; ++i) t.code.push_back(static_cast<std::uint8_t>(c(rng)));
  for (std::size_t i = 0; i < N * t.G(); ++i)
    t.scale.push_back(static_cast<std::uint8_t>(nvfp4 ? e4(rng) : e8(rng)));
  return t;
}

// Two codes a byte along K: code k of a row in byte k / 2, bits 4 (k % 2) .. 4 (k % 2) + 3.
std::vector<std::uint8_t> pack_pairs(const std::vector<std::uint8_t>& code, std::size_t K,
                                     std::size_t rows) {
  std::vector<std::uint8_t> out(rows * K / 2, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t k = 0; k < K; ++k) {
      for (unsigned b = 0; b < 4; ++b) {
        std::uint8_t& o = out[r * (K / 2) + k / 2];
        if ((code[r * K + k] >> b) & 1u) o = static_cast<std::uint8_t>(o | 1u << (4 * (k % 2) + b));
      }
    }
  }
  return out;
}

Tensor f32_scalar(float v) { return raw(DType::F32, {1}, &v, 4); }

std::string ct_fp4_config(bool nvfp4, bool with_input) {
  const std::string fmt = nvfp4 ? "nvfp4-pack-quantized" : "mxfp4-pack-quantized";
  const std::string args = nvfp4 ? R"("strategy": "tensor_group", "group_size": 16)"
                                 : R"("strategy": "group", "group_size": 32)";
  const std::string input = with_input
                                ? R"({"num_bits": 4, "type": "float", "symmetric": true, )" + args +
                                      (nvfp4 ? R"(, "dynamic": "local"})" : R"(, "dynamic": true})")
                                : "null";
  return R"({"quantization_config": {"quant_method": "compressed-tensors", "format": ")" + fmt +
         R"(", "ignore": ["lm_head"], "config_groups": {"group_0": {"format": ")" + fmt +
         R"(", "targets": ["Linear"], "weights": {"num_bits": 4, "type": "float", )" +
         R"("symmetric": true, "dynamic": false, )" + args + R"(}, "input_activations": )" + input +
         "}}}}";
}

// A compressed-tensors fp4 checkpoint with q_proj (the truth) and down_proj; `global` is the
// stored weight_global_scale (1/s_t), NVFP4 only.
std::string write_ct_fp4(const Fp4Truth& t, bool nvfp4, bool with_input, float global = 640.0f) {
  const std::string dir = temp_dir();
  safetensors::File f;
  const auto packed = pack_pairs(t.code, t.K, t.N);
  f.tensors[kQ + ".weight_packed"] =
      raw(DType::U8, {I(t.N), I(t.K / 2)}, packed.data(), packed.size());
  f.tensors[kQ + ".weight_scale"] =
      raw(nvfp4 ? DType::F8_E4M3 : DType::U8, {I(t.N), I(t.G())}, t.scale.data(), t.scale.size());
  const Fp4Truth d = make_fp4(16, 2 * t.B, nvfp4, 99);
  const auto dp = pack_pairs(d.code, d.K, d.N);
  f.tensors[kDown + ".weight_packed"] = raw(DType::U8, {16, I(d.K / 2)}, dp.data(), dp.size());
  f.tensors[kDown + ".weight_scale"] =
      raw(nvfp4 ? DType::F8_E4M3 : DType::U8, {16, I(d.G())}, d.scale.data(), d.scale.size());
  if (nvfp4) {
    f.tensors[kQ + ".weight_global_scale"] = f32_scalar(global);
    f.tensors[kDown + ".weight_global_scale"] = f32_scalar(512.0f);
    if (with_input) {
      f.tensors[kQ + ".input_global_scale"] = f32_scalar(100.0f);
      f.tensors[kDown + ".input_global_scale"] = f32_scalar(100.0f);
    }
  }
  f.tensors["lm_head.weight"] = half({4, I(t.K)}, std::vector<float>(4 * t.K, 0.5f));
  safetensors::write(dir + "/model.safetensors", f);
  write_text(dir + "/config.json", ct_fp4_config(nvfp4, with_input));
  return dir;
}

void expect_block(const UnpackedLinear& u, const Fp4Truth& t, float tensor_scale) {
  ASSERT_TRUE(u.block.has_value());
  ASSERT_EQ(u.n, t.N);
  ASSERT_EQ(u.k, t.K);
  EXPECT_EQ(u.group_size, t.B);
  EXPECT_EQ(u.block->block, t.B);
  EXPECT_EQ(u.block->codes.values(), t.code);
  EXPECT_EQ(u.block->scales.values(), t.scale);
  EXPECT_EQ(u.block->tensor_scale, tensor_scale);
  for (std::size_t n = 0; n < t.N; ++n) {
    for (std::size_t k = 0; k < t.K; ++k) {
      const std::uint8_t s = t.scale[n * t.G() + k / t.B];
      const double sb = t.B == 16 ? e4m3_scale_value(s) * tensor_scale : std::ldexp(1.0, s - 127);
      ASSERT_EQ(u.dequantized(n, k), static_cast<float>(e2m1_value(t.code[n * t.K + k]) * sb))
          << "n=" << n << " k=" << k;
    }
  }
}

// Every layer of the imported trace reruns to its expected y on the reference, and its payload
// holds the checkpoint's bytes.
void expect_trace_runs(const ImportedTrace& imp) {
  for (const Layer& l : imp.trace.layers) {
    const LayerData d = load_layer_data(l, imp.payload, "payload");
    EXPECT_EQ(run_layer(cpu_engine(), l, d.operands).y, *d.expected_y) << l.name;
  }
}

TEST(Importers, CtNvfp4RoundTripsExactly) {
  const Fp4Truth t = make_fp4(8, 64, true, 11);
  const std::string dir = write_ct_fp4(t, true, true, 3.0f);  // s_t = F32(1/3): not exact
  const Checkpoint c = Checkpoint::open(dir);
  EXPECT_EQ(quantized_modules(c), (std::vector<std::string>{kQ, kDown}));
  const UnpackedLinear u = unpack_linear(c, kQ);
  EXPECT_EQ(u.layout, "nvfp4-pack-quantized");
  EXPECT_EQ(u.source_act_bits, 4);
  expect_block(u, t, 1.0f / 3.0f);
  EXPECT_EQ(import_candidates(u), std::vector<Scheme>{Scheme::w4a4_nvfp4});
  EXPECT_THAT(error_of([&] { import_scheme(u, Scheme::w4a8_mx); }),
              HasSubstr("(nvfp4-pack-quantized, NVFP4) cannot be imported as w4a8-mx; accepted "
                        "for it: w4a4-nvfp4"));
  EXPECT_THAT(error_of([&] { to_quantized_weights(u, Scheme::w4a16); }),
              HasSubstr("holds block-scaled weights"));

  ImportSpec spec;
  spec.dir = dir;
  spec.tokens = 3;
  const ImportedTrace imp = import_checkpoint(spec);
  ASSERT_EQ(imp.trace.layers.size(), 2u);
  const Layer& q = imp.trace.layers[0];
  EXPECT_EQ(q.name, kQ);
  EXPECT_EQ(q.scheme->scheme, Scheme::w4a4_nvfp4);
  EXPECT_EQ(q.k, 64u);
  EXPECT_EQ(q.n, 8u);
  EXPECT_EQ(imp.trace.meta.at("format"), "nvfp4-pack-quantized");
  EXPECT_THAT(imp.trace.meta.at("act_scales"), HasSubstr("input_global_scale"));
  const LayerData d = load_layer_data(q, imp.payload, "payload");
  EXPECT_EQ(d.operands.w_block->codes.values(), t.code);
  EXPECT_EQ(d.operands.w_block->scales.values(), t.scale);
  EXPECT_EQ(d.operands.w_block->tensor_scale, 1.0f / 3.0f);
  expect_trace_runs(imp);
  // The output is the product of the dequantized operands (up to the fp32 and fp16 roundings).
  const MatrixF xd = dequantize(*d.operands.x_block);
  for (std::size_t m = 0; m < 3; ++m) {
    for (std::size_t n = 0; n < t.N; ++n) {
      double ref = 0;
      for (std::size_t k = 0; k < t.K; ++k)
        ref += static_cast<double>(xd(m, k)) * u.dequantized(n, k);
      EXPECT_NEAR(f16_to_f32((*d.expected_y)(m, n)), ref, 0.002 + 0.002 * std::abs(ref));
    }
  }
  // Written out and read back, the trace validates the same.
  write_imported_trace(dir + "/out", imp);
  const Trace back = read_manifest(dir + "/out/trace.yaml");
  const safetensors::File payload = safetensors::read(dir + "/out/payload.safetensors");
  for (const Layer& l : back.layers) {
    const LayerData ld = load_layer_data(l, payload, "payload");
    EXPECT_EQ(run_layer(cpu_engine(), l, ld.operands).y, *ld.expected_y) << l.name;
  }
}

TEST(Importers, CtMxfp4RoundTripsExactly) {
  const Fp4Truth t = make_fp4(8, 96, false, 12);
  for (const bool with_input : {true, false}) {
    const std::string dir = write_ct_fp4(t, false, with_input);
    const UnpackedLinear u = unpack_linear(Checkpoint::open(dir), kQ);
    EXPECT_EQ(u.layout, "mxfp4-pack-quantized");
    expect_block(u, t, 1.0f);
    // The checkpoint's fp4 activations first; weight-only, the E4M3 activations first.
    EXPECT_EQ(import_candidates(u),
              with_input ? (std::vector<Scheme>{Scheme::w4a4_mxfp4, Scheme::w4a8_mx})
                         : (std::vector<Scheme>{Scheme::w4a8_mx, Scheme::w4a4_mxfp4}));
    ImportSpec spec;
    spec.dir = dir;
    spec.tokens = 2;
    for (const auto& s : {std::optional<Scheme>{}, std::optional<Scheme>{Scheme::w4a4_mxfp4},
                          std::optional<Scheme>{Scheme::w4a8_mx}}) {
      spec.scheme = s;
      const ImportedTrace imp = import_checkpoint(spec);
      const Layer& q = imp.trace.layers.at(0);
      EXPECT_EQ(q.scheme->scheme, s ? *s : import_candidates(u).front());
      const LayerData d = load_layer_data(q, imp.payload, "payload");
      EXPECT_EQ(d.operands.w_block->codes.values(), t.code);
      EXPECT_EQ(d.operands.w_block->scales.values(), t.scale);
      expect_trace_runs(imp);
    }
    spec.scheme = Scheme::w4a4_nvfp4;
    EXPECT_THAT(error_of([&] { import_checkpoint(spec); }),
                HasSubstr("cannot be imported as w4a4-nvfp4"));
  }
}

// transformers' mxfp4 as GPT-OSS ships it: P_blocks [experts, N, K/32, 16], P_scales
// [experts, N, K/32], P_bias [experts, N].
struct GptOss {
  std::size_t E = 3;
  std::vector<Fp4Truth> gate_up, down;  // per expert: N 8, K 64; N 16, K 32
};

void put_experts(safetensors::File& f, const std::string& prefix, const std::vector<Fp4Truth>& ex) {
  const std::size_t E = ex.size(), N = ex[0].N, G = ex[0].G();
  std::vector<std::uint8_t> blocks, scales;
  std::vector<float> bias;
  for (std::size_t e = 0; e < E; ++e) {
    const auto p = pack_pairs(ex[e].code, ex[e].K, N);  // row n: G blocks of 16 bytes
    blocks.insert(blocks.end(), p.begin(), p.end());
    scales.insert(scales.end(), ex[e].scale.begin(), ex[e].scale.end());
    for (std::size_t n = 0; n < N; ++n) bias.push_back(static_cast<float>(e * 100 + n));
  }
  f.tensors[prefix + "_blocks"] =
      raw(DType::U8, {I(E), I(N), I(G), 16}, blocks.data(), blocks.size());
  f.tensors[prefix + "_scales"] = raw(DType::U8, {I(E), I(N), I(G)}, scales.data(), scales.size());
  f.tensors[prefix + "_bias"] = raw(DType::F32, {I(E), I(N)}, bias.data(), bias.size() * 4);
}

const std::string kExperts = "model.layers.0.mlp.experts";

std::string write_gpt_oss(GptOss* out) {
  const std::string dir = temp_dir();
  GptOss g;
  for (std::size_t e = 0; e < g.E; ++e) {
    g.gate_up.push_back(make_fp4(8, 64, false, 20 + static_cast<unsigned>(e)));
    g.down.push_back(make_fp4(16, 32, false, 30 + static_cast<unsigned>(e)));
  }
  safetensors::File f;
  put_experts(f, kExperts + ".gate_up_proj", g.gate_up);
  put_experts(f, kExperts + ".down_proj", g.down);
  f.tensors["model.layers.0.self_attn.q_proj.weight"] =
      half({4, 64}, std::vector<float>(256, 0.5f), true);
  f.tensors["model.layers.0.mlp.router.weight"] =
      half({3, 64}, std::vector<float>(192, 0.5f), true);
  safetensors::write(dir + "/model.safetensors", f);
  write_text(dir + "/config.json",
             R"({"model_type": "gpt_oss", "quantization_config": {"quant_method": "mxfp4",
                 "modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router",
                 "model.embed_tokens", "lm_head"]}})");
  *out = g;
  return dir;
}

TEST(Importers, TransformersMxfp4ExpertsRoundTripExactly) {
  GptOss g;
  const std::string dir = write_gpt_oss(&g);
  const Checkpoint c = Checkpoint::open(dir);
  // One module per expert; GPT-OSS runs each projection as one grouped GEMM over its experts.
  EXPECT_EQ(quantized_modules(c),
            (std::vector<std::string>{kExperts + ".gate_up_proj.0", kExperts + ".gate_up_proj.1",
                                      kExperts + ".gate_up_proj.2", kExperts + ".down_proj.0",
                                      kExperts + ".down_proj.1", kExperts + ".down_proj.2"}));
  for (std::size_t e = 0; e < g.E; ++e) {
    const UnpackedLinear gu = unpack_linear(c, kExperts + ".gate_up_proj." + std::to_string(e));
    EXPECT_EQ(gu.layout, "transformers-mxfp4");
    expect_block(gu, g.gate_up[e], 1.0f);
    ASSERT_EQ(gu.bias.size(), 8u);
    EXPECT_EQ(gu.bias[3], static_cast<float>(e * 100 + 3));
    expect_block(unpack_linear(c, kExperts + ".down_proj." + std::to_string(e)), g.down[e], 1.0f);
    EXPECT_EQ(import_candidates(gu), (std::vector<Scheme>{Scheme::w4a8_mx, Scheme::w4a4_mxfp4}));
  }
  EXPECT_THAT(error_of([&] { unpack_linear(c, kExperts + ".gate_up_proj"); }),
              HasSubstr("gate_up_proj_blocks' holds 3 experts; import them as modules"));
  EXPECT_THAT(
      error_of([&] { unpack_linear(c, kExperts + ".gate_up_proj.3"); }),
      HasSubstr("holds 3 experts; module '" + kExperts + ".gate_up_proj.3' names expert 3"));
  ImportSpec spec;
  spec.dir = dir;
  spec.tokens = 2;
  const ImportedTrace imp = import_checkpoint(spec);
  ASSERT_EQ(imp.trace.layers.size(), 6u);
  EXPECT_EQ(imp.trace.meta.at("format"), "transformers-mxfp4");
  for (const Layer& l : imp.trace.layers) EXPECT_EQ(l.scheme->scheme, Scheme::w4a8_mx) << l.name;
  const LayerData d = load_layer_data(imp.trace.layers[4], imp.payload, "payload");  // down.1
  EXPECT_EQ(d.operands.w_block->codes.values(), g.down[1].code);
  EXPECT_EQ(d.operands.w_block->scales.values(), g.down[1].scale);
  expect_trace_runs(imp);
  spec.scheme = Scheme::w4a4_mxfp4;
  spec.layers = "down_proj\\.2$";
  const ImportedTrace one = import_checkpoint(spec);
  ASSERT_EQ(one.trace.layers.size(), 1u);
  EXPECT_EQ(one.trace.layers[0].scheme->scheme, Scheme::w4a4_mxfp4);
  expect_trace_runs(one);
}

// The import policy and the scheme table's importable rows are the same set.
TEST(Importers, ImportableRowsAreTheImportPolicy) {
  std::vector<UnpackedLinear> kinds(7);
  kinds[0].bits = 8, kinds[0].k = kinds[0].group_size = 64;  // int8 per channel
  kinds[1].bits = 4, kinds[1].symmetric = false, kinds[1].k = 64, kinds[1].group_size = 32;
  kinds[2].bits = 4, kinds[2].k = 64, kinds[2].group_size = 32;  // weight-only symmetric
  kinds[3] = kinds[2], kinds[3].source_act_bits = 8;
  BlockTensor nv, mx;
  nv.scale = BlockScale::e4m3, nv.block = 16;
  kinds[4].block = nv;
  kinds[5].block = mx;
  kinds[6].block = mx, kinds[6].source_act_bits = 4;
  std::set<Scheme> named;
  for (const UnpackedLinear& u : kinds) {
    const std::vector<Scheme> c = import_candidates(u);
    EXPECT_FALSE(c.empty());
    for (Scheme s : c) {
      EXPECT_TRUE(traits(s).importable) << scheme_name(s);
      named.insert(s);
    }
  }
  for (const SchemeInfo& i : all_schemes()) {
    EXPECT_EQ(named.count(i.id) != 0, i.importable) << i.name;
  }
}

TEST(Importers, RejectsBadFp4Tensors) {
  const Fp4Truth t = make_fp4(8, 64, true, 13);
  const std::string dir = write_ct_fp4(t, true, true);
  const std::string file = dir + "/model.safetensors";
  const safetensors::File good = safetensors::read(file);
  auto with = [&](const std::function<void(safetensors::File&)>& edit) {
    safetensors::File f = good;
    edit(f);
    safetensors::write(file, f);
    return error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); });
  };
  const std::string tq = file + ": tensor '" + kQ;
  EXPECT_THAT(with([&](safetensors::File& f) {
                std::vector<std::uint8_t> b(8 * 12);
                f.tensors[kQ + ".weight_packed"] = raw(DType::U8, {8, 12}, b.data(), b.size());
              }),
              HasSubstr(tq + ".weight_packed' has shape [8, 12]: K = 24 (two codes a byte) is not "
                             "a multiple of the NVFP4 block (16)"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                f.tensors[kQ + ".weight_scale"] = raw(DType::F8_E4M3, {8, 3}, t.scale.data(), 24);
              }),
              HasSubstr(tq + ".weight_scale' has shape [8, 3], expected [N, K/16] = [8, 4]"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                f.tensors[kQ + ".weight_scale"] = raw(DType::U8, {8, 4}, t.scale.data(), 32);
              }),
              HasSubstr(tq + ".weight_scale' has dtype U8, expected F8_E4M3"));
  EXPECT_THAT(
      with([&](safetensors::File& f) {
        f.tensors[kQ + ".weight_global_scale"] = f32_scalar(std::nanf(""));
      }),
      HasSubstr(tq + ".weight_global_scale' is nan; a global scale must be finite and > 0"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                f.tensors[kQ + ".weight_global_scale"] = f32_scalar(-2.0f);
              }),
              HasSubstr(tq + ".weight_global_scale' is -2.000000; a global scale must be finite"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                const float two[2] = {1.0f, 2.0f};
                f.tensors[kQ + ".weight_global_scale"] = raw(DType::F32, {2}, two, 8);
              }),
              HasSubstr(tq + ".weight_global_scale' has shape [2], expected [1]"));
  // s_t itself stored where compressed-tensors stores 1/s_t: refused, not imported.
  EXPECT_THAT(with([&](safetensors::File& f) {
                f.tensors[kQ + ".weight_global_scale"] = f32_scalar(0.002f);
              }),
              HasSubstr(tq + ".weight_global_scale' is 0.002000, which with the largest block "
                             "scale"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                f.tensors[kQ + ".input_global_scale"] = f32_scalar(std::nanf(""));
              }),
              HasSubstr(tq + ".input_global_scale' is nan"));
  auto bad_scale = [&](std::uint8_t code) {
    return with([&](safetensors::File& f) {
      std::vector<std::uint8_t> s = t.scale;
      s[4 * 2 + 1] = code;  // row 2, block 1
      f.tensors[kQ + ".weight_scale"] = raw(DType::F8_E4M3, {8, 4}, s.data(), s.size());
    });
  };
  EXPECT_THAT(bad_scale(0x7f), HasSubstr(tq + ".weight_scale' block [2, 1] (K 16..31) = 0x7f is "
                                              "the E4M3 NaN"));
  EXPECT_THAT(bad_scale(0xb8), HasSubstr(tq + ".weight_scale' block [2, 1] (K 16..31) = 0xb8 has "
                                              "its sign bit set"));
  EXPECT_THAT(with([&](safetensors::File& f) { f.tensors.erase(kQ + ".weight_global_scale"); }),
              HasSubstr(tq + ".weight_global_scale' is missing"));

  // MXFP4: an E8M0 255 and a tensor scale it cannot have.
  const Fp4Truth m = make_fp4(8, 64, false, 14);
  const std::string mdir = write_ct_fp4(m, false, false);
  const std::string mfile = mdir + "/model.safetensors";
  safetensors::File f = safetensors::read(mfile);
  std::vector<std::uint8_t> s = m.scale;
  s[2 * 5 + 1] = 0xff;  // row 5, block 1
  f.tensors[kQ + ".weight_scale"] = raw(DType::U8, {8, 2}, s.data(), s.size());
  safetensors::write(mfile, f);
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(mdir), kQ); }),
              HasSubstr(mfile + ": tensor '" + kQ +
                        ".weight_scale' block [5, 1] (K 32..63) = 0xff is the E8M0 NaN"));
  f.tensors[kQ + ".weight_scale"] = raw(DType::U8, {8, 2}, m.scale.data(), m.scale.size());
  f.tensors[kQ + ".weight_global_scale"] = f32_scalar(1.0f);
  safetensors::write(mfile, f);
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(mdir), kQ); }),
              HasSubstr(mfile + ": tensor '" + kQ +
                        ".weight_global_scale' is present, but MXFP4 (E8M0 block scales) has no "
                        "tensor scale"));
}

TEST(Importers, RejectsBadTransformersMxfp4Tensors) {
  GptOss g;
  const std::string dir = write_gpt_oss(&g);
  const std::string file = dir + "/model.safetensors";
  const safetensors::File good = safetensors::read(file);
  const std::string m1 = kExperts + ".gate_up_proj.1";
  auto with = [&](const std::function<void(safetensors::File&)>& edit) {
    safetensors::File f = good;
    edit(f);
    safetensors::write(file, f);
    return error_of([&] { unpack_linear(Checkpoint::open(dir), m1); });
  };
  const std::string tg = file + ": tensor '" + kExperts + ".gate_up_proj";
  EXPECT_THAT(with([&](safetensors::File& f) {
                Tensor& s = f.tensors[kExperts + ".gate_up_proj_scales"];
                s.bytes[1 * 16 + 3 * 2 + 0] = 0xff;  // expert 1, row 3, block 0
              }),
              HasSubstr(tg + "_scales' expert 1: block [3, 0] (K 0..31) = 0xff is the E8M0 NaN"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                Tensor& b = f.tensors[kExperts + ".gate_up_proj_blocks"];
                b.shape = {3, 8, 4, 8};
              }),
              HasSubstr(tg + "_blocks' has shape [3, 8, 4, 8], expected [..., N, K/32, 16]"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                Tensor& s = f.tensors[kExperts + ".gate_up_proj_scales"];
                s.shape = {3, 16, 1};
              }),
              HasSubstr(tg + "_scales' has shape [3, 16, 1], expected [3, 8, 2]"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                Tensor& b = f.tensors[kExperts + ".gate_up_proj_blocks"];
                b.dtype = DType::I8;
              }),
              HasSubstr(tg + "_blocks' has dtype I8, expected U8"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                f.tensors[kExperts + ".gate_up_proj_bias"].shape = {8, 3};
              }),
              HasSubstr(tg + "_bias' has shape [8, 3], expected [3, 8]"));
}

TEST(Importers, RejectsBadFp4Configs) {
  const Fp4Truth t = make_fp4(8, 64, true, 15);
  const std::string dir = write_ct_fp4(t, true, true);
  const std::string config = dir + "/config.json";
  auto with = [&](const std::string& from, const std::string& to) {
    std::string c = ct_fp4_config(true, true);
    const auto at = c.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    c.replace(at, from.size(), to);
    write_text(config, c);
    return error_of([&] { Checkpoint::open(dir); });
  };
  EXPECT_THAT(with(R"("group_size": 16})", R"("group_size": 32})"),
              HasSubstr(config + ": config_groups.group_0.weights.group_size = "
                                 "32 is not supported with format nvfp4-pack-quantized; accepted: "
                                 "16 (the NVFP4 block)"));
  EXPECT_THAT(with(R"("type": "float", "symmetric": true, "dynamic")",
                   R"("type": "int", "symmetric": true, "dynamic")"),
              HasSubstr("weights.type 'int' is not supported with format nvfp4-pack-quantized; "
                        "accepted: float"));
  EXPECT_THAT(with(R"({"num_bits": 4, "type": "float", "symmetric": true, "strategy")",
                   R"({"num_bits": 8, "type": "int", "symmetric": true, "strategy")"),
              HasSubstr("input_activations.type 'int' with num_bits 8 is not supported with "
                        "format nvfp4-pack-quantized; accepted: float, num_bits 4"));
  EXPECT_THAT(with(R"("dynamic": "local")", R"("dynamic": "global")"),
              HasSubstr("input_activations.dynamic 'global' is not supported"));
  std::string c = ct_config("pack-quantized", 4, "group", 16, true);
  c.replace(c.find(R"("type": "int")"), 13, R"("type": "float")");
  write_text(config, c);
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr("weights.type 'float' is not supported; accepted: int (type float: "
                        "formats nvfp4-pack-quantized, mxfp4-pack-quantized)"));
}

// ---- NVIDIA ModelOpt NVFP4. The same codes and block scales as the compressed-tensors tests,
// packed by this file's own rule into ModelOpt's names: `weight` (the packed codes),
// `weight_scale`, `weight_scale_2` = s_t as stored (compressed-tensors stores 1/s_t) and
// `input_scale`, both 0-d scalars as ModelOpt's export squeezes them. ----

Tensor f32_0d(float v) { return raw(DType::F32, {}, &v, 4); }

std::string modelopt_quant_config(const std::string& algo, const std::string& exclude) {
  return R"({"producer": {"name": "modelopt", "version": "0.23.0"}, "quantization": {)"
         R"("quant_algo": ")" +
         algo + R"(", "kv_cache_quant_algo": null, "group_size": 16, "exclude_modules": )" +
         exclude + "}}";
}

// config.json as ModelOpt's convert_hf_quant_config_format writes it.
std::string modelopt_config_json(const std::string& algo, const std::string& ignore) {
  return R"({"model_type": "llama", "quantization_config": {"config_groups": {"group_0": {)"
         R"("input_activations": {"dynamic": false, "num_bits": 4, "type": "float", )"
         R"("group_size": 16}, "weights": {"dynamic": false, "num_bits": 4, "type": "float", )"
         R"("group_size": 16}, "targets": ["Linear"]}}, "ignore": )" +
         ignore + R"(, "quant_algo": ")" + algo +
         R"(", "producer": {"name": "modelopt", "version": "0.29.0"}, )"
         R"("quant_method": "modelopt"}})";
}

// A ModelOpt NVFP4 checkpoint in `dir`: q_proj holds the truth with weight_scale_2 = s_t, and
// down_proj the same codes and scales as write_ct_fp4's (s_t = 1/512); hf_quant_config.json
// (with a config.json without quantization_config) or, with config_json, config.json alone.
std::string write_modelopt(const std::string& dir, const Fp4Truth& t, float s_t,
                           bool config_json = false, const std::string& algo = "NVFP4",
                           const std::string& exclude = R"(["lm_head"])") {
  fs::create_directories(dir);
  safetensors::File f;
  const auto packed = pack_pairs(t.code, t.K, t.N);
  f.tensors[kQ + ".weight"] = raw(DType::U8, {I(t.N), I(t.K / 2)}, packed.data(), packed.size());
  f.tensors[kQ + ".weight_scale"] =
      raw(DType::F8_E4M3, {I(t.N), I(t.G())}, t.scale.data(), t.scale.size());
  f.tensors[kQ + ".weight_scale_2"] = f32_0d(s_t);
  const Fp4Truth d = make_fp4(16, 32, true, 99);
  const auto dp = pack_pairs(d.code, d.K, d.N);
  f.tensors[kDown + ".weight"] = raw(DType::U8, {16, I(d.K / 2)}, dp.data(), dp.size());
  f.tensors[kDown + ".weight_scale"] =
      raw(DType::F8_E4M3, {16, I(d.G())}, d.scale.data(), d.scale.size());
  f.tensors[kDown + ".weight_scale_2"] = f32_0d(1.0f / 512.0f);
  if (algo == "NVFP4") {  // 1/100: input_global_scale 100 of write_ct_fp4, inverted
    f.tensors[kQ + ".input_scale"] = f32_0d(0.01f);
    f.tensors[kDown + ".input_scale"] = f32_0d(0.01f);
  }
  f.tensors["lm_head.weight"] = half({4, I(t.K)}, std::vector<float>(4 * t.K, 0.5f));
  safetensors::write(dir + "/model.safetensors", f);
  if (config_json) {
    write_text(dir + "/config.json", modelopt_config_json(algo, exclude));
  } else {
    write_text(dir + "/config.json", R"({"model_type": "llama"})");
    write_text(dir + "/hf_quant_config.json", modelopt_quant_config(algo, exclude));
  }
  return dir;
}

// The same weights through both importers: every code, block scale, tensor scale and
// dequantized value, and the imported traces' payloads byte for byte.
TEST(Importers, ModelOptNvfp4EqualsCompressedTensors) {
  const Fp4Truth t = make_fp4(8, 64, true, 21);
  const std::string ct_dir = write_ct_fp4(t, true, true, 512.0f);  // s_t = 1/512 exactly
  const std::string mo_dir = write_modelopt(ct_dir + "/modelopt", t, 1.0f / 512.0f);
  const Checkpoint ct = Checkpoint::open(ct_dir), mo = Checkpoint::open(mo_dir);
  EXPECT_EQ(mo.config().method, QuantMethod::modelopt);
  EXPECT_EQ(mo.config().source, mo_dir + "/hf_quant_config.json");
  ASSERT_EQ(quantized_modules(mo), quantized_modules(ct));
  for (const std::string& m : quantized_modules(mo)) {
    const UnpackedLinear a = unpack_linear(ct, m), b = unpack_linear(mo, m);
    EXPECT_EQ(b.layout, "modelopt-nvfp4");
    ASSERT_TRUE(a.block && b.block);
    ASSERT_EQ(b.n, a.n);
    ASSERT_EQ(b.k, a.k);
    EXPECT_EQ(b.group_size, a.group_size);
    EXPECT_EQ(b.block->scale, a.block->scale);
    EXPECT_EQ(b.block->block, a.block->block);
    EXPECT_EQ(b.block->codes.values(), a.block->codes.values()) << m;
    EXPECT_EQ(b.block->scales.values(), a.block->scales.values()) << m;
    EXPECT_EQ(b.block->tensor_scale, a.block->tensor_scale) << m;
    EXPECT_EQ(b.source_act_bits, a.source_act_bits);
    EXPECT_EQ(b.source_act_static, a.source_act_static);
    EXPECT_EQ(import_candidates(b), import_candidates(a));
    for (std::size_t n = 0; n < a.n; ++n) {
      for (std::size_t k = 0; k < a.k; ++k) ASSERT_EQ(b.dequantized(n, k), a.dequantized(n, k));
    }
  }
  expect_block(unpack_linear(mo, kQ), t, 1.0f / 512.0f);
  ImportSpec spec;
  spec.tokens = 3;
  spec.dir = ct_dir;
  const ImportedTrace ti = import_checkpoint(spec);
  spec.dir = mo_dir;
  const ImportedTrace mi = import_checkpoint(spec);
  EXPECT_EQ(mi.trace.meta.at("format"), "modelopt-nvfp4");
  EXPECT_THAT(mi.trace.meta.at("act_scales"), HasSubstr("input_scale, the activations' "
                                                        "calibrated s_t"));
  ASSERT_EQ(mi.payload.tensors.size(), ti.payload.tensors.size());
  for (const auto& [name, tensor] : ti.payload.tensors) {
    const Tensor& other = mi.payload.get(name, "modelopt payload");
    EXPECT_EQ(other.dtype, tensor.dtype) << name;
    EXPECT_EQ(other.shape, tensor.shape) << name;
    EXPECT_TRUE(other.bytes == tensor.bytes) << name;
  }
  expect_trace_runs(mi);
}

// weight_scale_2 multiplies: s_t is the stored value itself, with no rounding. Dividing by it
// (compressed-tensors' convention) is caught twice: by the values (scales small enough that
// the inverted reading passes the range check) and by the range check (ordinary scales).
TEST(Importers, ModelOptWeightScale2IsTheTensorScaleItself) {
  Fp4Truth small = make_fp4(8, 64, true, 22);
  for (std::uint8_t& s : small.scale) s = std::min<std::uint8_t>(s, 0x38);  // S_b <= 1
  const std::string dir = temp_dir();
  for (const auto& [truth, s_t] : {std::pair<Fp4Truth, float>{make_fp4(8, 64, true, 23), 1.0f / 3},
                                   std::pair<Fp4Truth, float>{small, 0.5f}}) {
    write_modelopt(dir, truth, s_t);
    const UnpackedLinear u = unpack_linear(Checkpoint::open(dir), kQ);
    EXPECT_EQ(u.block->tensor_scale, s_t);
    expect_block(u, truth, s_t);  // every value = E2M1 * E4M3 * s_t
  }
  // An inverted value (compressed-tensors' 2688 / amax) where ModelOpt stores s_t is refused.
  write_modelopt(dir, make_fp4(8, 64, true, 23), 640.0f);
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr(dir + "/model.safetensors: tensor '" + kQ +
                        ".weight_scale_2' is 640.000000, which with the largest block scale"));
  EXPECT_THAT(error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); }),
              HasSubstr("> 2688 (6 * 448); ModelOpt stores s_t = amax / 2688 itself, so this "
                        "looks like 1/s_t (compressed-tensors' weight_global_scale convention); "
                        "accepted: s_t"));
}

TEST(Importers, ModelOptConfigForms) {
  const Fp4Truth t = make_fp4(8, 64, true, 24);
  const std::string dir = temp_dir();
  // hf_quant_config.json alone (config.json without quantization_config).
  write_modelopt(dir, t, 0.25f, false, "NVFP4", R"(["lm_head", "model.layers.0.mlp*"])");
  Checkpoint c = Checkpoint::open(dir);
  EXPECT_EQ(c.config().modelopt_algo, "NVFP4");
  EXPECT_EQ(c.config().exclude, (std::vector<std::string>{"lm_head", "model.layers.0.mlp*"}));
  EXPECT_EQ(quantized_modules(c), std::vector<std::string>{kQ});  // down_proj excluded
  // config.json's quantization_config alone, `ignore` as the excluded list, algo any case.
  fs::remove(dir + "/hf_quant_config.json");
  write_text(dir + "/config.json", modelopt_config_json("nvfp4", R"(["*down_proj"])"));
  c = Checkpoint::open(dir);
  EXPECT_EQ(c.config().method, QuantMethod::modelopt);
  EXPECT_EQ(c.config().source, dir + "/config.json");
  EXPECT_EQ(c.config().modelopt_algo, "NVFP4");
  EXPECT_EQ(quantized_modules(c), std::vector<std::string>{kQ});
  // Both, as newer exports write them: config.json is read; they must name the same algo.
  write_text(dir + "/config.json", modelopt_config_json("NVFP4", R"(["lm_head"])"));
  write_text(dir + "/hf_quant_config.json", modelopt_quant_config("NVFP4", R"(["lm_head"])"));
  c = Checkpoint::open(dir);
  EXPECT_EQ(c.config().source, dir + "/config.json");
  EXPECT_EQ(quantized_modules(c), (std::vector<std::string>{kQ, kDown}));
  write_text(dir + "/hf_quant_config.json", modelopt_quant_config("W4A16_NVFP4", "[]"));
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr(dir +
                        "/hf_quant_config.json: quantization.quant_algo 'W4A16_NVFP4' "
                        "contradicts " +
                        dir + "/config.json: quantization_config.quant_algo 'NVFP4'"));
  // W4A16_NVFP4: the same weights, no fp4 activations, input_scale optional.
  fs::remove_all(dir);
  write_modelopt(dir, t, 0.25f, false, "W4A16_NVFP4");
  const UnpackedLinear u = unpack_linear(Checkpoint::open(dir), kQ);
  EXPECT_EQ(u.layout, "modelopt-w4a16-nvfp4");
  EXPECT_EQ(u.source_act_bits, 0);
  EXPECT_FALSE(u.source_act_static);
  expect_block(u, t, 0.25f);
  EXPECT_EQ(import_candidates(u), std::vector<Scheme>{Scheme::w4a4_nvfp4});
  ImportSpec spec;
  spec.dir = dir;
  spec.tokens = 2;
  const ImportedTrace imp = import_checkpoint(spec);
  EXPECT_EQ(imp.trace.meta.count("act_scales"), 0u);
  expect_trace_runs(imp);
}

// exclude_modules are fnmatch wildcards (ModelOpt writes exact names and `prefix*`).
TEST(Importers, ModelOptExcludeModulesMatchLikeFnmatch) {
  const std::string l = "model.layers.10.self_attn.q_proj";
  EXPECT_TRUE(modelopt_excluded("lm_head", "lm_head"));
  EXPECT_FALSE(modelopt_excluded("lm_head", "lm_head.weight"));  // the whole name
  EXPECT_FALSE(modelopt_excluded("lm_hea", "lm_head"));
  EXPECT_TRUE(modelopt_excluded("model.layers.10.self_attn*", l));
  EXPECT_TRUE(modelopt_excluded("model.layers.1*", l));  // `*` crosses dots: 1 is a prefix of 10
  EXPECT_FALSE(modelopt_excluded("model.layers.1.*", l));
  EXPECT_TRUE(modelopt_excluded("*self_attn*", l));
  EXPECT_TRUE(modelopt_excluded("*.q_proj", l));
  EXPECT_FALSE(modelopt_excluded("*.k_proj", l));
  EXPECT_TRUE(modelopt_excluded("model.layers.??.self_attn.q_proj", l));
  EXPECT_FALSE(modelopt_excluded("model.layers.?.self_attn.q_proj", l));
  EXPECT_TRUE(modelopt_excluded("model.layers.[0-9]0.*", l));
  EXPECT_FALSE(modelopt_excluded("model.layers.[!1]0.*", l));
  EXPECT_TRUE(modelopt_excluded("model.layers.[]1]0.*", l));  // `]` first is a member
  EXPECT_TRUE(modelopt_excluded("a[b", "a[b"));               // no `]`: a literal `[`
  EXPECT_TRUE(modelopt_excluded("a*b*c", "axxbyybc"));
  EXPECT_FALSE(modelopt_excluded("a*b*c", "axxbyyb"));
  EXPECT_TRUE(modelopt_excluded("*", ""));
  EXPECT_FALSE(modelopt_excluded("?", ""));
  EXPECT_TRUE(modelopt_excluded(std::string(40, '*') + "x", std::string(60, 'a') + "x"));
  EXPECT_FALSE(modelopt_excluded(std::string(40, '*') + "x", std::string(60, 'a')));
}

TEST(Importers, RejectsBadModelOptTensors) {
  const Fp4Truth t = make_fp4(8, 64, true, 25);
  const std::string dir = write_modelopt(temp_dir(), t, 0.25f);
  const std::string file = dir + "/model.safetensors";
  const safetensors::File good = safetensors::read(file);
  auto with = [&](const std::function<void(safetensors::File&)>& edit) {
    safetensors::File f = good;
    edit(f);
    safetensors::write(file, f);
    return error_of([&] { unpack_linear(Checkpoint::open(dir), kQ); });
  };
  const std::string tq = file + ": tensor '" + kQ;
  EXPECT_THAT(with([&](safetensors::File& f) { f.tensors[kQ + ".weight"].dtype = DType::I8; }),
              HasSubstr(tq + ".weight' has dtype I8, expected U8"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                std::vector<std::uint8_t> b(8 * 12);
                f.tensors[kQ + ".weight"] = raw(DType::U8, {8, 12}, b.data(), b.size());
              }),
              HasSubstr(tq + ".weight' has shape [8, 12]: K = 24 (two codes a byte) is not a "
                             "multiple of the NVFP4 block (16)"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                std::vector<std::uint8_t> b(2 * 8 * 32);
                f.tensors[kQ + ".weight"] = raw(DType::U8, {2, 8, 32}, b.data(), b.size());
              }),
              HasSubstr(tq + ".weight' has shape [2, 8, 32], expected 2 dimensions"));
  EXPECT_THAT(with([&](safetensors::File& f) { f.tensors.erase(kQ + ".weight"); }),
              HasSubstr(tq + ".weight' is missing"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                std::vector<float> v(8 * 4, 1.0f);
                f.tensors[kQ + ".weight_scale"] = raw(DType::F32, {8, 4}, v.data(), 4 * v.size());
              }),
              HasSubstr(tq + ".weight_scale' has dtype F32, expected F8_E4M3"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                f.tensors[kQ + ".weight_scale"] = raw(DType::F8_E4M3, {8, 3}, t.scale.data(), 24);
              }),
              HasSubstr(tq + ".weight_scale' has shape [8, 3], expected [N, K/16] = [8, 4]"));
  auto bad_scale = [&](std::uint8_t code) {
    return with([&](safetensors::File& f) {
      std::vector<std::uint8_t> s = t.scale;
      s[4 * 2 + 1] = code;  // row 2, block 1
      f.tensors[kQ + ".weight_scale"] = raw(DType::F8_E4M3, {8, 4}, s.data(), s.size());
    });
  };
  EXPECT_THAT(bad_scale(0x7f), HasSubstr(tq + ".weight_scale' block [2, 1] (K 16..31) = 0x7f is "
                                              "the E4M3 NaN"));
  EXPECT_THAT(bad_scale(0xff), HasSubstr(tq + ".weight_scale' block [2, 1] (K 16..31) = 0xff is "
                                              "the E4M3 NaN"));
  EXPECT_THAT(bad_scale(0xb8), HasSubstr(tq + ".weight_scale' block [2, 1] (K 16..31) = 0xb8 has "
                                              "its sign bit set"));
  auto ws2 = [&](float v) {
    return with([&](safetensors::File& f) { f.tensors[kQ + ".weight_scale_2"] = f32_0d(v); });
  };
  EXPECT_THAT(ws2(std::nanf("")),
              HasSubstr(tq + ".weight_scale_2' is nan; a global scale must be finite and > 0"));
  EXPECT_THAT(ws2(0.0f), HasSubstr(tq + ".weight_scale_2' is 0.000000; a global scale must be "
                                        "finite and > 0"));
  EXPECT_THAT(ws2(-0.25f), HasSubstr(tq + ".weight_scale_2' is -0.250000; a global scale"));
  EXPECT_THAT(ws2(std::numeric_limits<float>::infinity()),
              HasSubstr(tq + ".weight_scale_2' is inf"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                const float two[2] = {0.25f, 0.5f};
                f.tensors[kQ + ".weight_scale_2"] = raw(DType::F32, {2}, two, 8);
              }),
              HasSubstr(tq + ".weight_scale_2' has shape [2], expected [1]"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                const std::int32_t one = 1;
                f.tensors[kQ + ".weight_scale_2"] = raw(DType::I32, {}, &one, 4);
              }),
              HasSubstr(tq + ".weight_scale_2' has dtype I32, expected F32"));
  EXPECT_THAT(with([&](safetensors::File& f) { f.tensors.erase(kQ + ".weight_scale_2"); }),
              HasSubstr(tq + ".weight_scale_2' is missing"));
  EXPECT_THAT(with([&](safetensors::File& f) { f.tensors.erase(kQ + ".input_scale"); }),
              HasSubstr(tq + ".input_scale' is missing"));
  EXPECT_THAT(with([&](safetensors::File& f) { f.tensors[kQ + ".input_scale"] = f32_0d(-1.0f); }),
              HasSubstr(tq + ".input_scale' is -1.000000; a global scale must be finite"));
  EXPECT_THAT(with([&](safetensors::File& f) {
                f.tensors[kQ + ".pre_quant_scale"] = half({64}, std::vector<float>(64, 1.0f));
              }),
              HasSubstr(tq + ".pre_quant_scale' is present: ModelOpt multiplies this layer's "
                             "activations by it before quantizing them"));
  // A module with only part of its tensors is still found, and named by what it lacks.
  EXPECT_THAT(with([&](safetensors::File& f) { f.tensors.erase(kQ + ".weight_scale"); }),
              HasSubstr(tq + ".weight_scale' is missing"));
}

TEST(Importers, RejectsBadModelOptConfigs) {
  const Fp4Truth t = make_fp4(8, 64, true, 26);
  const std::string dir = write_modelopt(temp_dir(), t, 0.25f);
  const std::string hf = dir + "/hf_quant_config.json";
  auto legacy = [&](const std::string& from, const std::string& to) {
    std::string c = modelopt_quant_config("NVFP4", R"(["lm_head"])");
    const auto at = c.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    c.replace(at, from.size(), to);
    write_text(hf, c);
    return error_of([&] { Checkpoint::open(dir); });
  };
  for (const char* algo : {"FP8", "NVFP4_AWQ", "W4A8_NVFP4_FP8", "MIXED_PRECISION", "MXFP8"}) {
    EXPECT_THAT(legacy(R"("NVFP4")", std::string("\"") + algo + "\""),
                HasSubstr(hf + ": quantization.quant_algo '" + algo +
                          "' is not supported; accepted: NVFP4, W4A16_NVFP4"));
  }
  EXPECT_THAT(legacy(R"("quant_algo": "NVFP4", )", ""),
              HasSubstr(hf + ": quantization.quant_algo is missing"));
  EXPECT_THAT(legacy(R"("group_size": 16)", R"("group_size": 32)"),
              HasSubstr(hf + ": quantization.group_size = 32 is not supported with NVFP4; "
                             "accepted: 16 (the NVFP4 block)"));
  EXPECT_THAT(legacy(R"(["lm_head"])", R"("lm_head")"),
              HasSubstr(hf + ": quantization.exclude_modules must be a list"));
  EXPECT_THAT(legacy(R"(["lm_head"])", R"(["lm_head", 3])"),
              HasSubstr(hf + ": quantization.exclude_modules[1] must be a string"));
  write_text(hf, R"({"producer": {"name": "modelopt"}, "quantization": "NVFP4"})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr(hf + ": quantization must be an object"));
  write_text(hf, R"({"producer": {"name": "modelopt"}, "quant_algo": "NVFP4"})");
  EXPECT_THAT(error_of([&] { Checkpoint::open(dir); }),
              HasSubstr(hf + ": quantization is missing; ModelOpt's hf_quant_config.json holds "
                             "{\"quantization\": {\"quant_algo\": ...}}"));
  // config.json's form.
  fs::remove(hf);
  const std::string config = dir + "/config.json";
  auto inside = [&](const std::string& from, const std::string& to) {
    std::string c = modelopt_config_json("NVFP4", R"(["lm_head"])");
    const auto at = c.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    c.replace(at, from.size(), to);
    write_text(config, c);
    return error_of([&] { Checkpoint::open(dir); });
  };
  EXPECT_THAT(inside(R"("type": "float", "group_size": 16}, "targets")",
                     R"("type": "float", "group_size": 32}, "targets")"),
              HasSubstr(config + ": quantization_config.config_groups.group_0.weights.group_size "
                                 "= 32 is not supported with NVFP4"));
  EXPECT_THAT(inside(R"("quant_algo": "NVFP4")", R"("quant_algo": "FP8")"),
              HasSubstr(config + ": quantization_config.quant_algo 'FP8' is not supported"));
  EXPECT_THAT(inside(R"("ignore": ["lm_head"])", R"("ignore": {"lm_head": 1})"),
              HasSubstr(config + ": quantization_config.ignore must be a list"));
  EXPECT_THAT(inside(R"("quant_method": "modelopt")", R"("quant_method": "modelopt_fp8")"),
              HasSubstr("quant_method 'modelopt_fp8' is not supported; accepted: gptq, awq, "
                        "compressed-tensors, mxfp4, modelopt"));
}

}  // namespace
}  // namespace quasar::trace
