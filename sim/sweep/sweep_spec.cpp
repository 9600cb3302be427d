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

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> m = {
      "cycles",     "latency_ms",   "energy_mj",   "uj_per_token", "area_mm2",
      "tops_per_w", "tops_per_mm2", "utilization", "dram_mb",      "avg_power_w",
      "pes",        "sram_kib",     "sqnr_db"};
  return m;
}

const std::vector<std::string>& presim_metric_names() {
  static const std::vector<std::string> m = {"area_mm2", "pes", "sram_kib"};
  return m;
}

}  // namespace quasar::sweep
