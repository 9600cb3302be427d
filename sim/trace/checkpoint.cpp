#include "checkpoint.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "io/input_file.hpp"
#include "numerics/error.hpp"

namespace quasar::trace {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_text(const std::string& path) { return io::read_text_file(path, "JSON file"); }

json parse_json(const std::string& text, const std::string& source) {
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    throw Error(source + ": not valid JSON: " + e.what());
  }
}

class Fields {
 public:
  Fields(const json& j, std::string source, std::string prefix)
      : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {}

  bool has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }

  long integer(const char* key, long fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_number_integer()) fail(key, "must be an integer");
    return j_[key].get<long>();
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_boolean()) fail(key, "must be true or false");
    return j_[key].get<bool>();
  }
  std::string text(const char* key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!j_[key].is_string()) fail(key, "must be a string");
    return j_[key].get<std::string>();
  }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(source_ + ": " + prefix_ + key + " " + what);
  }

 private:
  const json& j_;
  std::string source_, prefix_;
};

int checked_bits(const Fields& f, const char* key, long bits) {
  if (bits != 4 && bits != 8) {
    f.fail(key, "= " + std::to_string(bits) + " is not supported; accepted: 4 or 8");
  }
  return static_cast<int>(bits);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

QuantConfig parse_gptq(const Fields& f, QuantConfig c) {
  c.weights.bits = checked_bits(f, "bits", f.integer("bits", 4));
  c.weights.group_size = f.integer("group_size", 128);
  if (c.weights.group_size == 0 || c.weights.group_size < -1) {
    f.fail("group_size", "must be -1 (one group over K) or a positive group size");
  }
  c.weights.symmetric = f.boolean("sym", true);
  c.weights.act_order = f.boolean("desc_act", false);
  const std::string format = f.text("checkpoint_format", "gptq");
  if (format != "gptq" && format != "gptq_v2") {
    f.fail("checkpoint_format", "'" + format + "' is not supported; accepted: gptq, gptq_v2");
  }
  c.gptq_v2 = format == "gptq_v2";
  return c;
}

QuantConfig parse_awq(const Fields& f, QuantConfig c) {
  const char* bits_key = f.has("w_bit") ? "w_bit" : "bits";
  c.weights.bits = checked_bits(f, bits_key, f.integer(bits_key, 4));
  const char* group_key = f.has("q_group_size") ? "q_group_size" : "group_size";
  c.weights.group_size = f.integer(group_key, 128);
  if (c.weights.group_size == 0 || c.weights.group_size < -1) {
    f.fail(group_key, "must be -1 (one group over K) or a positive group size");
  }
  if (!f.boolean("zero_point", true)) {
    f.fail("zero_point", "false is not supported; accepted: AutoAWQ GEMM with zero points");
  }
  c.weights.symmetric = false;
  const std::string version = lower(f.text("version", "gemm"));
  if (version != "gemm") {
    f.fail("version", "'" + version + "' is not supported; accepted: gemm");
  }
  return c;
}

QuantConfig parse_ct(const json& j, const Fields& f, const std::string& source, QuantConfig c) {
  const std::string top_format = f.text("format", "");
  if (j.contains("ignore") && j["ignore"].is_array()) {
    for (const json& v : j["ignore"]) {
      if (v.is_string()) c.ignore.push_back(v.get<std::string>());
    }
  }
  if (!j.contains("config_groups") || !j["config_groups"].is_object() ||
      j["config_groups"].empty()) {
    f.fail("config_groups", "is missing or empty; a compressed-tensors config needs one");
  }
  for (const auto& [name, g] : j["config_groups"].items()) {
    const std::string where = "config_groups." + name + ".";
    if (!g.is_object()) f.fail(where, "must be an object");
    CtGroup group;
    group.name = name;
    const Fields gf(g, source, where);
    group.format = gf.text("format", top_format);
    const bool nvfp4 = group.format == "nvfp4-pack-quantized";
    const bool mxfp4 = group.format == "mxfp4-pack-quantized";
    if (group.format != "pack-quantized" && group.format != "int-quantized" && !nvfp4 && !mxfp4) {
      gf.fail("format", "'" + group.format +
                            "' is not supported; accepted: pack-quantized, int-quantized, "
                            "nvfp4-pack-quantized, mxfp4-pack-quantized");
    }
    if (g.contains("targets") && g["targets"].is_array()) {
      for (const json& t : g["targets"]) {
        if (t.is_string()) group.targets.push_back(t.get<std::string>());
      }
    }
    if (!g.contains("weights") || !g["weights"].is_object())
      f.fail(where + "weights", "is missing");
    const Fields w(g["weights"], source, where + "weights.");
    const std::string type = w.text("type", "int");
    if (nvfp4 || mxfp4) {
      // The fp4 formats (compressed-tensors' NVFP4 and MXFP4 presets): E2M1 elements, one
      // block along K, symmetric (compressed-tensors refuses asymmetric fp4 itself).
      const char* fmt = nvfp4 ? "nvfp4-pack-quantized" : "mxfp4-pack-quantized";
      const std::string strategy = nvfp4 ? "tensor_group" : "group";
      const long block = nvfp4 ? 16 : 32;
      if (type != "float")
        w.fail("type", "'" + type + "' is not supported with format " + fmt + "; accepted: float");
      if (w.integer("num_bits", 4) != 4)
        w.fail("num_bits", "must be 4 with format " + std::string(fmt) + " (E2M1 elements)");
      if (!w.boolean("symmetric", true))
        w.fail("symmetric", "must be true with format " + std::string(fmt));
      if (w.text("strategy", strategy) != strategy)
        w.fail("strategy", "'" + w.text("strategy", strategy) + "' is not supported with format " +
                               fmt + "; accepted: " + strategy);
      group.weights.group_size = w.integer("group_size", block);
      if (group.weights.group_size != block) {
        w.fail("group_size", "= " + std::to_string(group.weights.group_size) +
                                 " is not supported with format " + fmt +
                                 "; accepted: " + std::to_string(block) + " (the " +
                                 (nvfp4 ? "NVFP4" : "MX") + " block)");
      }
      group.weights.bits = 4;
      group.weights.fp4 = true;
    } else {
      if (type != "int") {
        w.fail("type", "'" + type +
                           "' is not supported; accepted: int (type float: formats "
                           "nvfp4-pack-quantized, mxfp4-pack-quantized)");
      }
      group.weights.bits = checked_bits(w, "num_bits", w.integer("num_bits", 4));
      group.weights.symmetric = w.boolean("symmetric", true);
      const std::string strategy = w.text("strategy", "group");
      if (strategy == "group") {
        group.weights.group_size = w.integer("group_size", 128);
        if (group.weights.group_size <= 0) w.fail("group_size", "must be positive");
      } else if (strategy == "channel" || strategy == "tensor") {
        group.weights.group_size = 0;
      } else {
        w.fail("strategy", "'" + strategy + "' is not supported; accepted: group, channel, tensor");
      }
    }
    if (g["weights"].contains("actorder")) {
      // "group": groups follow activation order, so weight_g_idx is required; "weight": only
      // the quantization ran in that order, groups stay contiguous (no permutation).
      const json& a = g["weights"]["actorder"];
      if (a.is_string()) {
        const std::string v = a.get<std::string>();
        if (v != "group" && v != "weight")
          w.fail("actorder", "'" + v + "' is not supported; accepted: group, weight, null");
        group.weights.act_order = v == "group";
      } else if (a.is_boolean()) {
        group.weights.act_order = a.get<bool>();
      } else if (!a.is_null()) {
        w.fail("actorder", "must be \"group\", \"weight\", true, false or null");
      }
      if (group.weights.fp4 && group.weights.act_order)
        w.fail("actorder", "\"group\" is not supported with the fp4 formats; accepted: null");
    }
    if (g.contains("input_activations") && g["input_activations"].is_object()) {
      const Fields in(g["input_activations"], source, where + "input_activations.");
      const std::string in_type = in.text("type", "int");
      if (nvfp4 || mxfp4) {
        // fp4 weights run with fp4 activations of the same block format, or weight-only.
        const std::string strategy = nvfp4 ? "tensor_group" : "group";
        const long block = nvfp4 ? 16 : 32;
        if (in_type != "float" || in.integer("num_bits", 4) != 4) {
          in.fail("type", "'" + in_type + "' with num_bits " +
                              std::to_string(in.integer("num_bits", 4)) +
                              " is not supported with format " + group.format +
                              "; accepted: float, num_bits 4 (or no input_activations)");
        }
        if (in.text("strategy", strategy) != strategy || in.integer("group_size", block) != block) {
          in.fail("strategy", "'" + in.text("strategy", strategy) + "' with group_size " +
                                  std::to_string(in.integer("group_size", block)) +
                                  " is not supported with format " + group.format + "; accepted: " +
                                  strategy + " with group_size " + std::to_string(block));
        }
        group.input_bits = 4;
        group.input_fp4 = true;
      } else {
        if (in_type != "int")
          in.fail("type", "'" + in_type + "' activations are not supported; accepted: int");
        group.input_bits = static_cast<int>(in.integer("num_bits", 8));
        if (group.input_bits != 8)
          in.fail("num_bits", std::to_string(group.input_bits) + " is not supported; accepted: 8");
        const std::string in_strategy = in.text("strategy", "token");
        if (in_strategy == "token") {
          group.input_act = ActQuantMode::per_token;
        } else if (in_strategy == "tensor") {
          group.input_act = ActQuantMode::per_tensor;
        } else {
          in.fail("strategy", "'" + in_strategy + "' is not supported; accepted: token, tensor");
        }
      }
      // dynamic: true / false, or "local" (compressed-tensors' NVFP4 preset: the block scales
      // are computed at run time and the tensor scale is calibrated, stored as
      // input_global_scale).
      const json& dyn =
          g["input_activations"].contains("dynamic") ? g["input_activations"]["dynamic"] : json();
      if (dyn.is_string() && dyn.get<std::string>() == "local" && group.input_fp4) {
        group.input_static = true;
      } else if (dyn.is_string()) {
        in.fail("dynamic", "'" + dyn.get<std::string>() + "' is not supported; accepted: true, " +
                               "false" + (group.input_fp4 ? ", \"local\"" : ""));
      } else {
        group.input_static = !in.boolean("dynamic", false);
      }
    }
    c.groups.push_back(group);
  }
  return c;
}

// ModelOpt's unified HF export (NVIDIA/Model-Optimizer, modelopt/torch/export/): quant_utils.py
// `get_quant_config` / `process_layer_quant_config` write hf_quant_config.json as
// {"producer": {"name": "modelopt", ...}, "quantization": {"quant_algo": "NVFP4",
// "kv_cache_quant_algo": ..., "group_size": 16, "exclude_modules": [...]}}, and
// convert_hf_config.py `convert_hf_quant_config_format` puts the same into config.json as
// `quantization_config` {"quant_method": "modelopt", "quant_algo": "NVFP4", "ignore": [the
// exclude_modules], "config_groups": {"group_0": {"weights": {"group_size": 16, ...}, ...}}}.
// vLLM reads both (vllm/model_executor/layers/quantization/modelopt.py,
// `ModelOptQuantConfigBase.from_config`), upper-casing quant_algo. `legacy`: q is
// hf_quant_config.json's `quantization` object; else config.json's `quantization_config`.
// `prefix` is q's path in its file, for errors.
QuantConfig parse_modelopt(const json& q, const std::string& source, const std::string& prefix,
                           QuantConfig c, bool legacy) {
  const Fields f(q, source, prefix);
  c.method = QuantMethod::modelopt;
  if (!f.has("quant_algo")) f.fail("quant_algo", "is missing; a ModelOpt config needs one");
  std::string algo = f.text("quant_algo", "");
  std::transform(algo.begin(), algo.end(), algo.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
  if (algo != "NVFP4" && algo != "W4A16_NVFP4") {
    f.fail("quant_algo", "'" + f.text("quant_algo", "") +
                             "' is not supported; accepted: NVFP4, W4A16_NVFP4 (ModelOpt's NVFP4 "
                             "with and without fp4 activations)");
  }
  c.modelopt_algo = algo;
  // The block: the top-level group_size (hf_quant_config.json), else each config group's
  // weights.group_size (config.json); 16 when neither says.
  auto check_block = [](const Fields& g, const char* key) {
    const long gs = g.integer(key, 16);
    if (gs != 16) {
      g.fail(key, "= " + std::to_string(gs) +
                      " is not supported with NVFP4; accepted: 16 (the NVFP4 block)");
    }
  };
  check_block(f, "group_size");
  if (!legacy && q.contains("config_groups") && q["config_groups"].is_object()) {
    for (const auto& [name, g] : q["config_groups"].items()) {
      if (g.is_object() && g.contains("weights") && g["weights"].is_object()) {
        check_block(Fields(g["weights"], source, prefix + "config_groups." + name + ".weights."),
                    "group_size");
      }
    }
  }
  const char* key = legacy ? "exclude_modules" : "ignore";
  if (f.has(key)) {
    const json& list = q[key];
    if (!list.is_array()) f.fail(key, "must be a list of module names or wildcards");
    for (std::size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_string()) {
        f.fail(std::string(key) + "[" + std::to_string(i) + "]",
               "must be a string (a module name or wildcard)");
      }
      c.exclude.push_back(list[i].get<std::string>());
    }
  }
  c.weights.bits = 4;
  c.weights.group_size = 16;
  c.weights.symmetric = true;
  c.weights.fp4 = true;
  return c;
}

// The path of the shard that an index's weight_map names for `tensor`. The index is input like
// any other file, so its shard names are held to what Hugging Face writes, a file inside the
// checkpoint folder; otherwise an index could make the importer open any file on the machine
// ("../../etc/passwd"). Symbolic links are resolved before the comparison (weakly_canonical),
// so a link inside the folder that leads out of it is refused as well.
std::string shard_path(const std::string& dir, const std::string& index, const std::string& tensor,
                       const std::string& name) {
  const auto refuse = [&](const std::string& why) {
    throw Error(index + ": weight_map['" + tensor + "'] = '" + name + "' " + why +
                "; accepted: the name of a file inside the checkpoint folder " + dir +
                " (such as model-00001-of-00002.safetensors)");
  };
  const fs::path rel(name);
  if (name.empty()) refuse("is empty");
  if (rel.has_root_path()) refuse("is an absolute path");
  for (const fs::path& part : rel) {
    if (part == "..") refuse("has a '..' component");
  }
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(fs::path(dir), ec);
  if (ec) refuse("cannot be checked: the folder cannot be resolved (" + ec.message() + ")");
  const fs::path full = fs::weakly_canonical(fs::path(dir) / rel, ec);
  if (ec) refuse("cannot be resolved (" + ec.message() + ")");
  // Inside means: root's components are a proper prefix of full's.
  const auto [r, f] = std::mismatch(root.begin(), root.end(), full.begin(), full.end());
  if (r != root.end() || f == full.end() || f->empty()) {
    refuse("resolves to " + full.string() + ", which is not a file inside the checkpoint folder");
  }
  return dir + "/" + name;
}

}  // namespace

QuantConfig parse_quant_config(const std::string& json_text, const std::string& source,
                               bool inside_config_json) {
  const json whole = parse_json(json_text, source);
  if (!whole.is_object()) throw Error(source + ": expected a JSON object");
  const json& j = inside_config_json ? whole["quantization_config"] : whole;
  const std::string prefix = inside_config_json ? "quantization_config." : "";
  if (!j.is_object()) throw Error(source + ": " + prefix + " must be an object");
  const Fields f(j, source, prefix);
  QuantConfig c;
  c.source = source;
  std::string method = f.text("quant_method", "");
  if (method.empty() && !inside_config_json && j.contains("quantization")) {
    // ModelOpt's hf_quant_config.json: {"producer": ..., "quantization": {...}}.
    if (!j["quantization"].is_object()) f.fail("quantization", "must be an object");
    return parse_modelopt(j["quantization"], source, "quantization.", c, true);
  }
  if (method.empty() && !inside_config_json) {
    method = j.contains("w_bit") || j.contains("version") ? "awq" : "gptq";
  }
  if (method == "gptq") {
    c.method = QuantMethod::gptq;
    return parse_gptq(f, c);
  }
  if (method == "awq") {
    c.method = QuantMethod::awq;
    return parse_awq(f, c);
  }
  if (method == "compressed-tensors") {
    c.method = QuantMethod::compressed_tensors;
    return parse_ct(j, f, source, c);
  }
  if (method == "mxfp4") {
    // transformers' Mxfp4Config (GPT-OSS): no fields that change the layout. Its
    // modules_to_not_convert needs no reading: the modules it names store plain weights, and
    // only *_blocks / *_scales pairs are imported.
    c.method = QuantMethod::mxfp4;
    return c;
  }
  if (method == "modelopt") return parse_modelopt(j, source, prefix, c, false);
  f.fail("quant_method", "'" + method +
                             "' is not supported; accepted: gptq, awq, compressed-tensors, "
                             "mxfp4, modelopt");
}

QuantConfig read_quant_config(const std::string& dir) {
  const std::string config = dir + "/config.json";
  // ModelOpt writes hf_quant_config.json, and newer versions the same config into config.json
  // too; config.json is read first, and the two must then name the same quant_algo.
  const std::string hf_quant = dir + "/hf_quant_config.json";
  const auto read_hf_quant = [&] {
    const std::string text = read_text(hf_quant);
    const json j = parse_json(text, hf_quant);
    if (!j.is_object() || !j.contains("quantization")) {
      throw Error(hf_quant +
                  ": quantization is missing; ModelOpt's hf_quant_config.json holds "
                  "{\"quantization\": {\"quant_algo\": ...}}");
    }
    return parse_quant_config(text, hf_quant, false);
  };
  if (fs::exists(config)) {
    const std::string text = read_text(config);
    const json j = parse_json(text, config);
    if (j.is_object() && j.contains("quantization_config")) {
      QuantConfig c = parse_quant_config(text, config, true);
      if (c.method == QuantMethod::modelopt && fs::exists(hf_quant)) {
        const QuantConfig h = read_hf_quant();
        if (h.modelopt_algo != c.modelopt_algo) {
          throw Error(hf_quant + ": quantization.quant_algo '" + h.modelopt_algo +
                      "' contradicts " + config + ": quantization_config.quant_algo '" +
                      c.modelopt_algo + "'; accepted: the same quant_algo in both");
        }
      }
      return c;
    }
  }
  if (fs::exists(hf_quant)) return read_hf_quant();
  for (const char* name : {"quantize_config.json", "quant_config.json"}) {
    const std::string path = dir + "/" + name;
    if (fs::exists(path)) return parse_quant_config(read_text(path), path, false);
  }
  throw Error(dir +
              ": no quantization config (config.json has no quantization_config and there is no "
              "hf_quant_config.json or quantize_config.json); accepted: GPTQ, AutoAWQ, "
              "compressed-tensors, transformers mxfp4 (GPT-OSS) and ModelOpt NVFP4 checkpoints");
}

bool modelopt_excluded(const std::string& pattern, const std::string& module) {
  // Iterative wildcard matching with one backtrack point (the last `*`), as glob matchers do:
  // linear in practice, and never recursive on hostile patterns.
  const auto one = [&](std::size_t& p, char ch) {  // pattern item at p against ch; advances p
    if (pattern[p] == '?') return ++p, true;
    if (pattern[p] == '[') {
      // fnmatch: a `[` without its `]` is a literal character.
      std::size_t q = p + 1;
      if (q < pattern.size() && pattern[q] == '!') ++q;
      if (q < pattern.size() && pattern[q] == ']') ++q;  // `]` first is a member
      while (q < pattern.size() && pattern[q] != ']') ++q;
      if (q < pattern.size()) {
        std::size_t i = p + 1;
        const bool negate = pattern[i] == '!';
        if (negate) ++i;
        bool in = false;  // the members are pattern[i, q): a leading `]` is one of them
        while (i < q) {
          if (i + 2 < q && pattern[i + 1] == '-') {
            in = in || (pattern[i] <= ch && ch <= pattern[i + 2]);
            i += 3;
          } else {
            in = in || pattern[i] == ch;
            ++i;
          }
        }
        p = q + 1;
        return in != negate;
      }
    }
    return pattern[p++] == ch;
  };
  std::size_t p = 0, m = 0, star = std::string::npos, star_m = 0;
  while (m < module.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = ++p, star_m = m;
      continue;
    }
    std::size_t next = p;
    if (p < pattern.size() && one(next, module[m])) {
      p = next, ++m;
    } else if (star != std::string::npos) {
      p = star, m = ++star_m;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

bool ct_target_matches(const std::string& target, const std::string& module) {
  if (target == "Linear") return true;
  if (target.rfind("re:", 0) == 0) {
    try {
      return std::regex_search(module, std::regex(target.substr(3)),
                               std::regex_constants::match_continuous);
    } catch (const std::regex_error&) {
      throw Error("compressed-tensors target '" + target + "' is not a valid regular expression");
    }
  }
  return target == module;
}

Checkpoint Checkpoint::open(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error(dir + ": not a checkpoint folder (no such directory)");
  Checkpoint c;
  c.dir_ = dir;
  c.config_ = read_quant_config(dir);
  const std::string index = dir + "/model.safetensors.index.json";
  const std::string single = dir + "/model.safetensors";
  if (fs::exists(index)) {
    const json j = parse_json(read_text(index), index);
    if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object()) {
      throw Error(index + ": weight_map is missing; expected {\"weight_map\": {tensor: file}}");
    }
    std::map<std::string, std::size_t> shard_of_file;
    for (const auto& [tensor, file] : j["weight_map"].items()) {
      if (!file.is_string()) throw Error(index + ": weight_map." + tensor + " must be a file name");
      const std::string name = file.get<std::string>();
      if (!shard_of_file.count(name)) {
        const std::string path = shard_path(dir, index, tensor, name);
        if (!fs::exists(path)) {
          throw Error(index + ": weight_map names shard '" + name + "' (for tensor '" + tensor +
                      "'), which does not exist in " + dir);
        }
        shard_of_file[name] = c.files_.size();
        c.paths_.push_back(path);
        c.files_.push_back(safetensors::LazyFile::open(path));
      }
      const std::size_t s = shard_of_file[name];
      if (!c.files_[s].has(tensor)) {
        throw Error(index + ": weight_map puts tensor '" + tensor + "' in " + name +
                    ", which does not hold it");
      }
      c.where_[tensor] = s;
    }
    c.missing_in_ = index;
  } else if (fs::exists(single)) {
    c.paths_.push_back(single);
    c.files_.push_back(safetensors::LazyFile::open(single));
    for (const auto& [name, t] : c.files_[0].header().tensors) c.where_[name] = 0;
    c.missing_in_ = single;
  } else {
    throw Error(dir + ": no model.safetensors or model.safetensors.index.json");
  }
  return c;
}

const safetensors::Tensor& Checkpoint::get(const std::string& tensor) const {
  const auto it = where_.find(tensor);
  if (it == where_.end()) throw Error(missing_in_ + ": tensor '" + tensor + "' is missing");
  const auto hit = loaded_.find(tensor);
  if (hit != loaded_.end()) return hit->second;
  return loaded_.emplace(tensor, files_[it->second].load(tensor)).first->second;
}

const safetensors::TensorInfo& Checkpoint::info(const std::string& tensor) const {
  const auto it = where_.find(tensor);
  if (it == where_.end()) throw Error(missing_in_ + ": tensor '" + tensor + "' is missing");
  return files_[it->second].header().tensors.at(tensor);
}

std::string Checkpoint::file_of(const std::string& tensor) const {
  const auto it = where_.find(tensor);
  return it == where_.end() ? missing_in_ : paths_[it->second];
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> names;
  for (const auto& [name, s] : where_) names.push_back(name);
  return names;
}

}  // namespace quasar::trace
