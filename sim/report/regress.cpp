#include "regress.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/input_file.hpp"
#include "io/output_file.hpp"
#include "numerics/error.hpp"
#include "report/trace_check.hpp"
#include "trace/layer_data.hpp"
#include "trace/op_data.hpp"
#include "trace/safetensors.hpp"

namespace quasar {
namespace {

namespace fs = std::filesystem;

std::string read_text(const std::string& path) { return io::read_text_file(path, "golden file"); }

}  // namespace

std::string golden_file_difference(const std::string& file, const std::string& got) {
  if (!fs::exists(file)) return file + ": missing (bless the case)";
  const std::string want = read_text(file);
  const std::string label = fs::path(file).filename().string();
  std::istringstream a(want), b(got);
  std::string la, lb;
  for (int line = 1;; ++line) {
    const bool ha = static_cast<bool>(std::getline(a, la)),
               hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) return "";
    if (la != lb || ha != hb) {
      return label + " line " + std::to_string(line) + ": expected '" + (ha ? la : "<end>") +
             "', got '" + (hb ? lb : "<end>") + "'";
    }
  }
}

std::vector<std::string> find_golden_cases(const std::string& root) {
  if (fs::exists(fs::path(root) / "trace.yaml")) return {root};
  if (!fs::is_directory(root)) throw Error(root + ": not a folder of golden cases");
  std::vector<std::string> cases;
  for (const auto& e : fs::directory_iterator(root)) {
    if (e.is_directory() && fs::exists(e.path() / "trace.yaml")) cases.push_back(e.path().string());
  }
  std::sort(cases.begin(), cases.end());
  if (cases.empty()) throw Error(root + ": holds no golden case (a folder with trace.yaml)");
  return cases;
}

CaseResult run_golden_case(const std::string& dir) {
  CaseResult r;
  r.dir = dir;
  const TraceCheck c = check_trace(dir + "/trace.yaml", cpu_engine(), "device: cpu (reference)");
  for (const LayerCheck& l : c.layers) {
    if (!l.has_expected) {
      r.detail = "layer '" + l.layer + "' has no expected output (role y)";
      return r;
    }
    if (l.mismatches) {
      r.detail = "layer '" + l.layer + "': " + std::to_string(l.mismatches) +
                 " outputs differ, first at flat index " + std::to_string(l.first) + " (got " +
                 std::to_string(l.got) + ", want " + std::to_string(l.want) + ")";
      return r;
    }
  }
  const std::string diff = golden_file_difference(dir + "/stats.json", counters_json(c));
  if (!diff.empty()) {
    r.detail = diff;
    return r;
  }
  r.passed = true;
  r.detail = std::to_string(c.layers.size()) + " layers bit-exact, statistics equal";
  return r;
}

void bless_golden_case(const std::string& dir, std::ostream& log) {
  const std::string manifest = dir + "/trace.yaml";
  trace::Trace t = trace::read_manifest(manifest);
  const std::string payload_file = trace::payload_path(manifest, t);
  safetensors::File payload = safetensors::read(payload_file);
  const TraceCheck c = check_trace(manifest, cpu_engine(), "device: cpu (reference)");
  std::size_t i = 0;
  for (trace::Layer& l : t.layers) {
    if (l.tensors.empty()) continue;
    const LayerCheck& lc = c.layers[i++];
    const bool unchanged = lc.has_expected && lc.mismatches == 0;
    if (lc.gemm) {
      if (!l.tensors.count("y")) l.tensors["y"] = l.name + "/y";
      payload.tensors[l.tensors["y"]] = safetensors::from_matrix(lc.y);
    } else {
      // Every output role the reference gives (codes, scales, zeros, y, ...), from the inputs
      // as the payload holds them now (records are blessed in trace order, so a record reads
      // what the records before it were blessed to).
      const trace::OpResult out = trace::run_op_record(l, payload, payload_file);
      for (const auto& [role, tensor] : out.outputs) {
        if (!l.tensors.count(role)) l.tensors[role] = l.name + "/" + role;
        payload.tensors[l.tensors[role]] = tensor;
      }
    }
    log << l.name << ": " << (unchanged ? "output unchanged" : "output rewritten") << "\n";
  }
  safetensors::write(payload_file, payload);
  trace::write_manifest(manifest, t);
  io::write_file(dir + "/stats.json", counters_json(c));
  log << "blessed " << dir << "\n";
}

}  // namespace quasar
