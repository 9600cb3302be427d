#include "trace_report.hpp"

#include <fmt/format.h>

namespace quasar {

void print_trace_summary(std::ostream& os, const trace::Trace& t) {
  os << "trace " << t.name << "\n";
  for (const auto& [k, v] : t.meta) os << fmt::format("  {:<15} {}\n", k, v);
  if (!t.payload.empty()) os << fmt::format("  {:<15} {}\n", "payload", t.payload);
  os << fmt::format("\n{:<32} {:<20} {:>6} {:>8} {:>8} {:>8} {:>6}  {:<12} {:>11}\n", "layer", "op",
                    "batch", "M", "K", "N", "x", "scheme", "GMAC");
  std::size_t data_layers = 0;
  for (const trace::Layer& l : t.layers) {
    const std::string op =
        trace::op_name(l.op) + (l.function.empty() ? "" : "(" + l.function + ")");
    os << fmt::format(
        "{:<32} {:<20} {:>6} {:>8} {:>8} {:>8} {:>6}  {:<12} {:>11}\n", l.name, op, l.batch, l.m,
        trace::is_gemm(l.op) ? std::to_string(l.k) : "-", l.n, l.repeat,
        l.scheme ? std::string(scheme_name(l.scheme->scheme)) : "-",
        trace::is_gemm(l.op) ? fmt::format("{:.3f}", static_cast<double>(l.macs()) / 1e9) : "-");
    if (!l.tensors.empty()) ++data_layers;
  }
  os << fmt::format("\n{} layer records, {} data-bearing; total {:.3f} G MACs ({:.3f} TFLOP)\n",
                    t.layers.size(), data_layers, static_cast<double>(t.total_macs()) / 1e9,
                    2.0 * static_cast<double>(t.total_macs()) / 1e12);
}

}  // namespace quasar
