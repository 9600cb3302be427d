// Writes the tiny quantized checkpoints the `quasar trace import` CLI tests read: one folder per
// layout (GPTQ v1 act-order, GPTQ v2 symmetric, AutoAWQ GEMM, compressed-tensors pack-quantized,
// int-quantized W8A8 and nvfp4-pack-quantized, transformers mxfp4 experts as GPT-OSS stores
// them, NVIDIA ModelOpt NVFP4, a sharded GPTQ) and a sharded one whose index names a missing
// shard.
// The packing is checked value by value in tests/unit/test_importers.cpp; here it only has to
// be well-formed.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "numerics/float_formats.hpp"
#include "trace/safetensors.hpp"

using namespace quasar;
using safetensors::DType;
using safetensors::Tensor;

namespace {

std::mt19937 rng(7);

int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); }

template <class T>
Tensor tensor(DType d, std::vector<std::int64_t> shape, const std::vector<T>& v) {
  Tensor t;
  t.dtype = d;
  t.shape = std::move(shape);
  t.bytes.resize(v.size() * sizeof(T));
  std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

// Words of random nibbles in lo..hi.
Tensor nibbles(std::vector<std::int64_t> shape, int lo, int hi) {
  std::vector<std::uint32_t> w(static_cast<std::size_t>(shape[0] * shape[1]));
  for (auto& word : w) {
    for (unsigned i = 0; i < 8; ++i) word |= static_cast<std::uint32_t>(uniform(lo, hi)) << (4 * i);
  }
  return tensor(DType::I32, std::move(shape), w);
}

Tensor scales(std::vector<std::int64_t> shape) {
  std::vector<std::uint16_t> h(static_cast<std::size_t>(shape[0] * shape[1]));
  for (auto& v : h) v = f32_to_f16(static_cast<float>(uniform(1, 100)) / 4096.0f);
  return tensor(DType::F16, std::move(shape), h);
}

void text(const std::string& path, const std::string& s) { std::ofstream(path) << s; }

// Random bytes in lo..hi: packed E2M1 pairs (any byte), E4M3 or E8M0 block scales.
Tensor bytes(DType d, std::vector<std::int64_t> shape, int lo, int hi) {
  std::size_t n = 1;
  for (std::int64_t v : shape) n *= static_cast<std::size_t>(v);
  std::vector<std::uint8_t> b(n);
  for (auto& v : b) v = static_cast<std::uint8_t>(uniform(lo, hi));
  return tensor(d, std::move(shape), b);
}

const char* kModules[] = {"model.layers.0.self_attn.q_proj", "model.layers.0.mlp.down_proj"};

// GPTQ: K = 64, N = 16, group 32 (or one group), act-order as a random permutation.
safetensors::File gptq(bool sym, bool v2, bool act_order, int group) {
  safetensors::File f;
  const int K = 64, N = 16, gs = group < 0 ? K : group, G = K / gs;
  for (const char* m : kModules) {
    const std::string p = m;
    f.tensors[p + ".qweight"] = nibbles({K / 8, N}, 0, 15);
    const int zero = sym ? (v2 ? 8 : 7) : -1;
    f.tensors[p + ".qzeros"] =
        zero < 0 ? nibbles({G, N / 8}, 1, 14) : nibbles({G, N / 8}, zero, zero);
    f.tensors[p + ".scales"] = scales({G, N});
    std::vector<std::int32_t> perm(K);
    for (int k = 0; k < K; ++k) perm[static_cast<std::size_t>(k)] = k;
    if (act_order) std::shuffle(perm.begin(), perm.end(), rng);
    for (auto& v : perm) v /= gs;
    f.tensors[p + ".g_idx"] = tensor(DType::I32, {K}, perm);
  }
  return f;
}

std::string gptq_config(bool sym, bool v2, bool act_order, int group) {
  return std::string(
             R"({"model_type": "llama", "quantization_config": {"quant_method": "gptq", )") +
         R"("bits": 4, "group_size": )" + std::to_string(group) + R"(, "desc_act": )" +
         (act_order ? "true" : "false") + R"(, "sym": )" + (sym ? "true" : "false") +
         R"(, "checkpoint_format": ")" + (v2 ? "gptq_v2" : "gptq") + R"("}})";
}

void write_dir(const std::string& dir, const safetensors::File& f, const std::string& config) {
  std::filesystem::create_directories(dir);
  safetensors::write(dir + "/model.safetensors", f);
  text(dir + "/config.json", config);
}

void shard(const std::string& dir, const safetensors::File& f, const std::string& config) {
  std::filesystem::create_directories(dir);
  safetensors::File a, b;
  std::string map;
  for (const auto& [name, t] : f.tensors) {
    const bool first = name.find("self_attn") != std::string::npos;
    (first ? a : b).tensors[name] = t;
    map += std::string(map.empty() ? "" : ", ") + "\"" + name + "\": \"model-0000" +
           (first ? "1" : "2") + "-of-00002.safetensors\"";
  }
  safetensors::write(dir + "/model-00001-of-00002.safetensors", a);
  safetensors::write(dir + "/model-00002-of-00002.safetensors", b);
  text(dir + "/model.safetensors.index.json",
       R"({"metadata": {"total_size": 0}, "weight_map": {)" + map + "}}");
  text(dir + "/config.json", config);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_checkpoints DIR\n";
    return 2;
  }
  const std::string dir = std::string(argv[1]) + "/checkpoints";
  write_dir(dir + "/gptq-actorder", gptq(false, false, true, 32),
            gptq_config(false, false, true, 32));
  write_dir(dir + "/gptq-v2-sym", gptq(true, true, false, -1), gptq_config(true, true, false, -1));
  shard(dir + "/gptq-sharded", gptq(true, false, true, 16), gptq_config(true, false, true, 16));
  shard(dir + "/gptq-missing-shard", gptq(true, false, false, 32),
        gptq_config(true, false, false, 32));
  std::filesystem::remove(dir + "/gptq-missing-shard/model-00002-of-00002.safetensors");

  safetensors::File awq;  // K = 64, N = 16, group 32
  for (const char* m : kModules) {
    const std::string p = m;
    awq.tensors[p + ".qweight"] = nibbles({64, 2}, 0, 15);
    awq.tensors[p + ".qzeros"] = nibbles({2, 2}, 0, 15);
    awq.tensors[p + ".scales"] = scales({2, 16});
  }
  write_dir(dir + "/awq", awq,
            R"({"quantization_config": {"quant_method": "awq", "bits": 4, "group_size": 32,
                "zero_point": true, "version": "gemm"}})");

  const std::string ct = R"({"quantization_config": {"quant_method": "compressed-tensors",
      "format": "FORMAT", "ignore": ["lm_head"], "config_groups": {"group_0": {
      "targets": ["Linear"], "weights": WEIGHTS, "input_activations": INPUT}}}})";
  auto ct_config = [&](const std::string& format, const std::string& w, const std::string& in) {
    std::string s = ct;
    s.replace(s.find("FORMAT"), 6, format);
    s.replace(s.find("WEIGHTS"), 7, w);
    s.replace(s.find("INPUT"), 5, in);
    return s;
  };
  safetensors::File packed;  // asymmetric, K = 36 (not a multiple of 8), N = 12, group 12
  for (const char* m : kModules) {
    const std::string p = m;
    packed.tensors[p + ".weight_packed"] = nibbles({12, 5}, 0, 15);
    packed.tensors[p + ".weight_shape"] =
        tensor(DType::I32, {2}, std::vector<std::int32_t>{12, 36});
    packed.tensors[p + ".weight_scale"] = scales({12, 3});
    packed.tensors[p + ".weight_zero_point"] = nibbles({2, 3}, 0, 15);
  }
  write_dir(dir + "/ct-packed", packed,
            ct_config("pack-quantized",
                      R"({"num_bits": 4, "type": "int", "symmetric": false, "strategy": "group",
                          "group_size": 12})",
                      "null"));

  safetensors::File w8a8;  // int8 per channel, K = 48, N = 8
  for (const char* m : kModules) {
    const std::string p = m;
    std::vector<std::int8_t> w(8 * 48);
    for (auto& v : w) v = static_cast<std::int8_t>(uniform(-128, 127));
    w8a8.tensors[p + ".weight"] = tensor(DType::I8, {8, 48}, w);
    w8a8.tensors[p + ".weight_scale"] = scales({8, 1});
  }
  write_dir(dir + "/ct-w8a8", w8a8,
            ct_config("int-quantized",
                      R"({"num_bits": 8, "type": "int", "symmetric": true, "strategy": "channel"})",
                      R"({"num_bits": 8, "type": "int", "symmetric": true, "strategy": "token",
                          "dynamic": true})"));

  safetensors::File nvfp4;  // K = 64, N = 16; global scales stored as 1/s_t
  for (const char* m : kModules) {
    const std::string p = m;
    nvfp4.tensors[p + ".weight_packed"] = bytes(DType::U8, {16, 32}, 0, 255);
    nvfp4.tensors[p + ".weight_scale"] = bytes(DType::F8_E4M3, {16, 4}, 0x08, 0x70);
    nvfp4.tensors[p + ".weight_global_scale"] = tensor(DType::F32, {1}, std::vector<float>{700.0f});
    nvfp4.tensors[p + ".input_global_scale"] = tensor(DType::F32, {1}, std::vector<float>{90.0f});
  }
  const std::string fp4_args = R"("num_bits": 4, "type": "float", "symmetric": true,
      "strategy": "tensor_group", "group_size": 16)";
  write_dir(dir + "/ct-nvfp4", nvfp4,
            ct_config("nvfp4-pack-quantized", "{" + fp4_args + R"(, "dynamic": false})",
                      "{" + fp4_args + R"(, "dynamic": "local"})"));

  // NVIDIA ModelOpt NVFP4, K = 64, N = 16, as its unified HF export writes it: `weight` packed
  // like weight_packed, weight_scale_2 = s_t itself and input_scale as 0-d F32 scalars, and
  // hf_quant_config.json beside a config.json without quantization_config (exports before
  // ModelOpt also wrote it there); lm_head left unquantized and excluded.
  safetensors::File modelopt;
  for (const char* m : kModules) {
    const std::string p = m;
    modelopt.tensors[p + ".weight"] = bytes(DType::U8, {16, 32}, 0, 255);
    modelopt.tensors[p + ".weight_scale"] = bytes(DType::F8_E4M3, {16, 4}, 0x08, 0x70);
    modelopt.tensors[p + ".weight_scale_2"] =
        tensor(DType::F32, {}, std::vector<float>{1.0f / 700.0f});
    modelopt.tensors[p + ".input_scale"] = tensor(DType::F32, {}, std::vector<float>{0.01f});
  }
  modelopt.tensors["lm_head.weight"] = scales({4, 64});
  write_dir(dir + "/modelopt-nvfp4", modelopt, R"({"model_type": "llama"})");
  text(dir + "/modelopt-nvfp4/hf_quant_config.json",
       R"({"producer": {"name": "modelopt", "version": "0.23.0"}, "quantization": {
           "quant_algo": "NVFP4", "kv_cache_quant_algo": null, "group_size": 16,
           "exclude_modules": ["lm_head"]}})");

  // transformers mxfp4 (GPT-OSS): 2 experts; gate_up N = 16, K = 64; down N = 8, K = 32.
  safetensors::File oss;
  const std::string experts = "model.layers.0.mlp.experts";
  oss.tensors[experts + ".gate_up_proj_blocks"] = bytes(DType::U8, {2, 16, 2, 16}, 0, 255);
  oss.tensors[experts + ".gate_up_proj_scales"] = bytes(DType::U8, {2, 16, 2}, 115, 130);
  oss.tensors[experts + ".down_proj_blocks"] = bytes(DType::U8, {2, 8, 1, 16}, 0, 255);
  oss.tensors[experts + ".down_proj_scales"] = bytes(DType::U8, {2, 8, 1}, 115, 130);
  write_dir(dir + "/gpt-oss-mxfp4", oss,
            R"({"model_type": "gpt_oss", "quantization_config": {"quant_method": "mxfp4",
                "modules_to_not_convert": ["model.layers.*.self_attn", "lm_head"]}})");
  return 0;
}
