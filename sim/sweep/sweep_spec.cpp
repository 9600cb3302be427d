#include "sweep/sweep_spec.hpp"

namespace quasar::sweep {

std::string Workload::label() const {
  if (!file.empty()) return "file:" + file;
  std::string s = model + ":" + phase;
  s += phase == "prefill" ? ":seq=" + std::to_string(seq) : ":context=" + std::to_string(context);
  s += ":batch=" + std::to_string(batch) + ":layers=" + std::to_string(decoder_layers) +
       ":group=" + std::to_string(group);
  return s;
}

bool Constraint::holds(double x) const {
  if (op == "<=") return x <= value;
  if (op == "<") return x < value;
  if (op == ">=") return x >= value;
  if (op == ">") return x > value;
  return x == value;
}

std::string Constraint::text() const {
  std::string v = std::to_string(value);
  while (!v.empty() && v.back() == '0') v.pop_back();
  if (!v.empty() && v.back() == '.') v.pop_back();
  return metric + " " + op + " " + v;
}

namespace {

// Every metric a point reports, with its label for plots (what it is, in which unit).
struct MetricInfo {
  const char* name;
  const char* label;
};
const std::vector<MetricInfo>& metric_table() {
  static const std::vector<MetricInfo> t = {
      {"cycles", "cycles"},
      {"latency_ms", "latency (ms)"},
      {"energy_mj", "energy (mJ)"},
      {"uj_per_token", "energy per token (uJ)"},
      {"area_mm2", "area (mm²)"},
      {"tops_per_w", "TOPS/W"},
      {"tops_per_mm2", "TOPS/mm²"},
      {"utilization", "array utilization (0-1)"},
      {"dram_mb", "DRAM traffic (MB)"},
      {"avg_power_w", "average power (W)"},
      {"pes", "PEs"},
      {"sram_kib", "on-chip SRAM (KiB)"},
      {"sqnr_db", "SQNR of the first linear layer (dB)"}};
  return t;
}

}  // namespace

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> m = [] {
    std::vector<std::string> v;
    for (const MetricInfo& i : metric_table()) v.emplace_back(i.name);
    return v;
  }();
  return m;
}

std::string metric_label(const std::string& metric) {
  for (const MetricInfo& i : metric_table())
    if (metric == i.name) return i.label;
  return metric;
}

const std::vector<std::string>& presim_metric_names() {
  static const std::vector<std::string> m = {"area_mm2", "pes", "sram_kib"};
  return m;
}

}  // namespace quasar::sweep
