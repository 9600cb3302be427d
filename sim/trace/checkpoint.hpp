// A quantized Hugging Face checkpoint folder: its safetensors (model.safetensors, or the shards
// that model.safetensors.index.json names) and its quantization config (config.json's
// `quantization_config`, else ModelOpt's hf_quant_config.json, else quantize_config.json /
// quant_config.json). Layouts and field names: ../shared/docs/models-and-checkpoints.md.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "numerics/quantize_activations.hpp"

#include "trace/safetensors.hpp"

namespace quasar::trace {

// mxfp4: transformers' `quant_method: mxfp4` (GPT-OSS: `*_blocks` / `*_scales` tensors).
// modelopt: NVIDIA ModelOpt's unified HF export (hf_quant_config.json, or config.json's
// `quant_method: modelopt`), NVFP4 only.
enum class QuantMethod { gptq, awq, compressed_tensors, mxfp4, modelopt };

// Weight quantization arguments, as the config declares them.
struct QuantArgs {
  int bits = 4;
  long group_size = 128;  // -1: one group over K; 0: per output channel (compressed-tensors)
  bool symmetric = true;
  bool act_order = false;  // GPTQ desc_act / compressed-tensors actorder
  // compressed-tensors `type: float` with num_bits 4: E2M1 elements with block scales (the
  // nvfp4- and mxfp4-pack-quantized formats); group_size is then the block (16 or 32).
  bool fp4 = false;
};

// One compressed-tensors config group: which modules it covers and how they are stored.
struct CtGroup {
  std::string name;
  std::vector<std::string> targets;  // "Linear" (every linear), "re:REGEX", or a module name
  // pack-quantized | int-quantized | nvfp4-pack-quantized | mxfp4-pack-quantized
  std::string format;
  QuantArgs weights;
  int input_bits = 0;      // 0: weight-only (no input_activations); 4 with input_fp4
  bool input_fp4 = false;  // input_activations type float, num_bits 4 (the fp4 formats)
  ActQuantMode input_act = ActQuantMode::per_token;  // input_activations.strategy token | tensor
  // input_activations.dynamic: false, or "local" (fp4: block scales dynamic, the tensor scale
  // calibrated and stored as input_global_scale)
  bool input_static = false;
};

struct QuantConfig {
  QuantMethod method = QuantMethod::gptq;
  std::string source;  // the file the config was read from
  QuantArgs weights;   // GPTQ and AWQ
  bool gptq_v2 = false;
  std::vector<CtGroup> groups;      // compressed-tensors
  std::vector<std::string> ignore;  // compressed-tensors: modules left unquantized
  // ModelOpt: quant_algo, upper-cased (NVFP4: weights and activations; W4A16_NVFP4: weights
  // only), and exclude_modules (config.json: `ignore`), fnmatch wildcards of modules left
  // unquantized. weights is then E2M1 with group_size 16 (fp4).
  std::string modelopt_algo;
  std::vector<std::string> exclude;
};

// Parses a quantization config object (JSON text of config.json's `quantization_config`, or of
// a whole quantize_config.json); errors name `source` and the field, and say what is accepted.
QuantConfig parse_quant_config(const std::string& json_text, const std::string& source,
                               bool inside_config_json);
QuantConfig read_quant_config(const std::string& dir);

// compressed-tensors target matching: "Linear" matches any linear, "re:R" a module whose name
// R matches from its start (Python's re.match), anything else the exact module name.
bool ct_target_matches(const std::string& target, const std::string& module);

// ModelOpt exclude_modules matching, as Python's fnmatch (case-sensitive, POSIX): `*` any run
// of characters (dots included: "model.layers.1*" also matches model.layers.10), `?` one
// character, `[seq]` / `[!seq]` a character in / not in seq (ranges a-z), anything else
// itself; the whole name must match.
bool modelopt_excluded(const std::string& pattern, const std::string& module);

class Checkpoint {
 public:
  // Reads the config and every shard's header (tensor data stays on disk until get() asks for
  // it); errors name the folder, the file and the tensor.
  static Checkpoint open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const QuantConfig& config() const { return config_; }
  bool has(const std::string& tensor) const { return where_.count(tensor) != 0; }
  // Reads the tensor from its shard on first use and keeps it until release(). Throws
  // quasar::Error naming the tensor and the file it should be in.
  const safetensors::Tensor& get(const std::string& tensor) const;
  // Forgets the tensors get() has read (references from get() become invalid): an importer
  // calls it after each module, so memory holds one module's tensors, not the checkpoint's.
  void release() const { loaded_.clear(); }
  std::size_t loaded_count() const { return loaded_.size(); }
  // A tensor's dtype and shape from its shard's header, without reading its data (throws like
  // get() when it is missing).
  const safetensors::TensorInfo& info(const std::string& tensor) const;
  // The file holding `tensor` (or the single file / index when it is missing), for errors.
  std::string file_of(const std::string& tensor) const;
  std::vector<std::string> tensor_names() const;

 private:
  std::string dir_;
  QuantConfig config_;
  std::vector<std::string> paths_;
  std::vector<safetensors::LazyFile> files_;
  mutable std::map<std::string, safetensors::Tensor> loaded_;
  std::map<std::string, std::size_t> where_;  // tensor -> index into files_
  std::string missing_in_;                    // what names a missing tensor's file
};

}  // namespace quasar::trace
