#include "report/html_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <utility>

#include "io/output_file.hpp"
#include "numerics/error.hpp"
#include "report/cost_report.hpp"
#include "report/text_format.hpp"

namespace quasar {
namespace {

using text::joules;

constexpr double kPi = 3.14159265358979323846;
constexpr double kWidth = 1000.0;  // every chart's width in CSS pixels

// Distinguishable colours (Tableau 10, then Tableau 20's dark teal), one per cost component in
// report order (as many as cost_components(), or two components would share a colour).
const char* const kPalette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
                                "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#499894"};
constexpr std::size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

const char* palette(std::size_t i) { return kPalette[i % kPaletteSize]; }

const char* component_colour(const std::string& comp) {
  const auto& all = cost::cost_components();
  const auto it = std::find(all.begin(), all.end(), comp);
  return it == all.end() ? "#79706e" : palette(static_cast<std::size_t>(it - all.begin()));
}

// Fixed number formatting (no locale, no stream state): SVG coordinates with two decimals.
std::string px(double v) { return fmt::format("{:.2f}", v); }

std::string time_str(double s) {
  if (s >= 1) return fmt::format("{:.4g} s", s);
  if (s >= 1e-3) return fmt::format("{:.4g} ms", s * 1e3);
  if (s >= 1e-6) return fmt::format("{:.4g} us", s * 1e6);
  return fmt::format("{:.4g} ns", s * 1e9);
}

std::string mm2(double um2) { return fmt::format("{:.4f} mm\xc2\xb2", um2 * 1e-6); }

std::string pct(double part, double whole) {
  return fmt::format("{:.1f}%", whole > 0 ? 100.0 * part / whole : 0.0);
}

double ratio(double x, double b) { return ratio_to(x, b); }

// At most `n` characters of a label (whole UTF-8 sequences), with an ellipsis when cut.
std::string clip(const std::string& s, std::size_t n) {
  std::size_t chars = 0, i = 0;
  while (i < s.size()) {
    if (chars == n) return s.substr(0, i) + "\xe2\x80\xa6";
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    ++chars;
  }
  return s;
}

// Component totals in report order (components the model does not list go last, as found).
std::vector<std::pair<std::string, double>> by_component(const std::vector<cost::CostLine>& ls) {
  std::vector<std::pair<std::string, double>> out;
  for (const std::string& comp : cost::cost_components()) out.emplace_back(comp, 0.0);
  for (const cost::CostLine& l : ls) {
    auto it =
        std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == l.component; });
    if (it == out.end()) {
      out.emplace_back(l.component, 0.0);
      it = out.end() - 1;
    }
    it->second += l.total;
  }
  std::vector<std::pair<std::string, double>> nonzero;
  for (const auto& p : out)
    if (p.second > 0) nonzero.push_back(p);
  return nonzero;
}

const char* const kStyle =
    R"(body{font-family:sans-serif;color:#222222;background:#ffffff;margin:24px auto;max-width:1040px;padding:0 12px}
h1{font-size:24px;margin:0 0 4px 0}
h2{font-size:18px;margin:28px 0 8px 0;border-bottom:1px solid #dddddd;padding-bottom:4px}
p.sub{color:#555555;margin:0 0 12px 0}
.kpis{display:flex;flex-wrap:wrap;gap:8px}
.kpi{border:1px solid #dddddd;border-radius:4px;padding:6px 10px;min-width:140px}
.kpi .k{font-size:12px;color:#666666}
.kpi .v{font-size:16px;font-weight:bold}
svg{display:block;margin:4px 0}
svg text{font-family:sans-serif;font-size:12px;fill:#222222}
table{border-collapse:collapse;font-size:13px;margin:4px 0}
th,td{border:1px solid #dddddd;padding:3px 6px;text-align:left}
td.n{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
th{background:#f4f4f4}
.note{color:#555555;font-size:13px}
div.wide{overflow-x:auto;max-width:100%})";

void page_start(std::ostream& os, const std::string& title) {
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
     << "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
     << "<title>" << html_escape(title) << "</title>\n<style>\n"
     << kStyle << "\n</style>\n</head>\n<body>\n";
}

void page_end(std::ostream& os) { os << "</body>\n</html>\n"; }

void kpi(std::ostream& os, const std::string& k, const std::string& v) {
  os << "<div class=\"kpi\"><div class=\"k\">" << html_escape(k) << "</div><div class=\"v\">"
     << html_escape(v) << "</div></div>\n";
}

void svg_start(std::ostream& os, const char* chart, double height, const std::string& label) {
  os << "<svg data-chart=\"" << chart << "\" width=\"" << px(kWidth) << "\" height=\"" << px(height)
     << "\" viewBox=\"0 0 " << px(kWidth) << " " << px(height) << "\" role=\"img\" aria-label=\""
     << html_escape(label) << "\">\n";
}

void rect(std::ostream& os, double x, double y, double w, double h, const char* fill,
          const std::string& title) {
  os << "<rect x=\"" << px(x) << "\" y=\"" << px(y) << "\" width=\"" << px(w) << "\" height=\""
     << px(h) << "\" fill=\"" << fill << "\"><title>" << html_escape(title) << "</title></rect>\n";
}

void text(std::ostream& os, double x, double y, const std::string& s,
          const char* anchor = "start") {
  os << "<text x=\"" << px(x) << "\" y=\"" << px(y) << "\" text-anchor=\"" << anchor << "\">"
     << html_escape(s) << "</text>\n";
}

// A legend row of swatches and labels, `per_row` entries of `w` pixels each; returns its height.
double legend(std::ostream& os, double x0, double y0,
              const std::vector<std::pair<std::string, const char*>>& entries, std::size_t per_row,
              double w) {
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const double x = x0 + static_cast<double>(i % per_row) * w;
    const double y = y0 + static_cast<double>(i / per_row) * 20.0;
    os << "<rect x=\"" << px(x) << "\" y=\"" << px(y)
       << "\" width=\"12.00\" height=\"12.00\" fill=\"" << entries[i].second << "\"/>\n";
    text(os, x + 18, y + 11, entries[i].first);
  }
  const std::size_t rows = (entries.size() + per_row - 1) / per_row;
  return static_cast<double>(rows) * 20.0;
}

struct Phase {
  const char* name;
  const char* colour;
  std::uint64_t (*get)(const arch::LayerStats&);
};

const std::vector<Phase>& phases() {
  static const std::vector<Phase> p = {
      {"load", "#4e79a7", [](const arch::LayerStats& l) { return l.load; }},
      {"stream", "#59a14f", [](const arch::LayerStats& l) { return l.stream; }},
      {"drain", "#f28e2b", [](const arch::LayerStats& l) { return l.drain; }},
      {"stall: DRAM", "#e15759", [](const arch::LayerStats& l) { return l.stall_dram; }},
      {"stall: edge units", "#b07aa1", [](const arch::LayerStats& l) { return l.stall_edge; }},
  };
  return p;
}

// Per layer: the array's phases and idle stalls stacked, and a tick at the layer's share of
// the timeline (phases overlap the write-back of outputs, so the two need not be equal).
void latency_chart(std::ostream& os, const RunRecord& r) {
  const auto& layers = r.stats.layers;
  const double label_w = 190, right = 110, bar_w = kWidth - label_w - right, row = 26;
  const double top = 34, height = top + row * static_cast<double>(layers.size()) + 26;
  double scale = 0;
  for (const arch::LayerStats& l : layers) {
    std::uint64_t sum = 0;
    for (const Phase& p : phases()) sum += p.get(l);
    scale = std::max(scale, static_cast<double>(std::max(sum, l.cycles)));
  }
  svg_start(os, "latency", height, "Latency breakdown per layer");
  std::vector<std::pair<std::string, const char*>> entries;
  for (const Phase& p : phases()) entries.emplace_back(p.name, p.colour);
  entries.emplace_back("tick: timeline share", "#222222");
  legend(os, 0, 4, entries, 6, 165);
  if (layers.empty() || scale <= 0) {
    text(os, label_w, top + 16, "no simulated layers");
    os << "</svg>\n";
    return;
  }
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const arch::LayerStats& l = layers[i];
    const double y = top + row * static_cast<double>(i);
    os << "<g><title>" << html_escape(l.name) << "</title>\n";
    text(os, label_w - 8, y + 13, clip(l.name, 22), "end");
    os << "</g>\n";
    double x = label_w;
    for (const Phase& p : phases()) {
      const double v = static_cast<double>(p.get(l));
      if (v <= 0) continue;
      const double w = v / scale * bar_w;
      rect(os, x, y, w, 18, p.colour, fmt::format("{}: {}: {} cycles", l.name, p.name, p.get(l)));
      x += w;
    }
    const double tx = label_w + static_cast<double>(l.cycles) / scale * bar_w;
    os << "<line x1=\"" << px(tx) << "\" y1=\"" << px(y - 3) << "\" x2=\"" << px(tx) << "\" y2=\""
       << px(y + 21) << "\" stroke=\"#222222\" stroke-width=\"2\"><title>"
       << html_escape(fmt::format("{}: {} cycles of the timeline", l.name, l.cycles))
       << "</title></line>\n";
    text(os, kWidth - right + 8, y + 13, fmt::format("{} cycles", l.cycles));
  }
  const double axis_y = top + row * static_cast<double>(layers.size()) + 14;
  text(os, label_w, axis_y, "0");
  text(os, label_w + bar_w, axis_y, fmt::format("{:.0f} cycles", scale), "end");
  os << "</svg>\n";
}

void energy_chart(std::ostream& os, const cost::CostReport& c) {
  const auto comps = by_component(c.energy);
  const std::size_t per_row = 3;
  const double legend_h = 20.0 * static_cast<double>((comps.size() + per_row - 1) / per_row);
  svg_start(os, "energy", 10 + 36 + 16 + legend_h + 4, "Energy by component");
  if (c.energy_pj <= 0 || comps.empty()) {
    text(os, 0, 30, "no energy priced");
    os << "</svg>\n";
    return;
  }
  double x = 0;
  std::vector<std::pair<std::string, const char*>> entries;
  for (const auto& [comp, pj] : comps) {
    const double w = pj / c.energy_pj * kWidth;
    rect(os, x, 10, w, 36, component_colour(comp),
         fmt::format("{}: {} ({})", comp, joules(pj), pct(pj, c.energy_pj)));
    x += w;
    entries.emplace_back(fmt::format("{}: {} ({})", comp, joules(pj), pct(pj, c.energy_pj)),
                         component_colour(comp));
  }
  legend(os, 0, 62, entries, per_row, kWidth / static_cast<double>(per_row));
  os << "</svg>\n";
}

// Layers in order along the time axis, each as wide as its cycles.
void timeline_chart(std::ostream& os, const RunRecord& r) {
  const auto& layers = r.stats.layers;
  double total = 0;
  for (const arch::LayerStats& l : layers) total += static_cast<double>(l.cycles);
  const double left = 10, w = kWidth - 2 * left;
  svg_start(os, "timeline", 100, "Per-layer timeline");
  if (layers.empty() || total <= 0) {
    text(os, left, 40, "no simulated layers");
    os << "</svg>\n";
    return;
  }
  double start = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const arch::LayerStats& l = layers[i];
    const double cyc = static_cast<double>(l.cycles);
    const double x = left + start / total * w, bw = cyc / total * w;
    rect(os, x, 14, bw, 40, palette(i),
         fmt::format("{}: cycles {:.0f} to {:.0f} ({} cycles)", l.name, start, start + cyc,
                     l.cycles));
    // A label only where it fits (about 7 px per character at 12 px).
    const std::string label = clip(l.name, 40);
    if (bw > 7.0 * static_cast<double>(label.size()) + 8) text(os, x + 4, 38, label);
    start += cyc;
  }
  for (int t = 0; t <= 4; ++t) {
    const double v = std::round(total * t / 4.0);
    const double x = left + v / total * w;
    os << "<line x1=\"" << px(x) << "\" y1=\"56.00\" x2=\"" << px(x)
       << "\" y2=\"62.00\" stroke=\"#222222\" stroke-width=\"1\"/>\n";
    text(os, x, 76, fmt::format("{:.0f}", v), t == 0 ? "start" : t == 4 ? "end" : "middle");
  }
  text(os, kWidth / 2, 94,
       fmt::format("cycles ({} layers, {} in all)", layers.size(), r.stats.cycles), "middle");
  os << "</svg>\n";
}

void area_chart(std::ostream& os, const cost::CostReport& c) {
  const auto comps = by_component(c.area);
  const double cx = 130, cy = 130, rad = 120;
  svg_start(os, "area", std::max(270.0, 20.0 * static_cast<double>(comps.size()) + 30),
            "Area by component");
  if (c.area_um2 <= 0 || comps.empty()) {
    text(os, 0, 30, "no area priced");
    os << "</svg>\n";
    return;
  }
  double angle = -kPi / 2;  // from the top, clockwise
  std::vector<std::pair<std::string, const char*>> entries;
  for (const auto& [comp, um2] : comps) {
    const double frac = um2 / c.area_um2;
    const std::string title = fmt::format("{}: {} ({})", comp, mm2(um2), pct(um2, c.area_um2));
    if (frac >= 0.999999) {
      os << "<circle cx=\"" << px(cx) << "\" cy=\"" << px(cy) << "\" r=\"" << px(rad)
         << "\" fill=\"" << component_colour(comp) << "\"><title>" << html_escape(title)
         << "</title></circle>\n";
    } else {
      const double a1 = angle + frac * 2 * kPi;
      os << "<path d=\"M " << px(cx) << " " << px(cy) << " L " << px(cx + rad * std::cos(angle))
         << " " << px(cy + rad * std::sin(angle)) << " A " << px(rad) << " " << px(rad) << " 0 "
         << (frac > 0.5 ? 1 : 0) << " 1 " << px(cx + rad * std::cos(a1)) << " "
         << px(cy + rad * std::sin(a1)) << " Z\" fill=\"" << component_colour(comp)
         << "\" stroke=\"#ffffff\" stroke-width=\"1\"><title>" << html_escape(title)
         << "</title></path>\n";
      angle = a1;
    }
    entries.emplace_back(title, component_colour(comp));
  }
  legend(os, 290, 20, entries, 1, 400);
  os << "</svg>\n";
}

void cost_tables(std::ostream& os, const cost::CostReport& c) {
  os << "<h2>Area</h2>\n<table>\n<tr><th>component</th><th>item</th><th>count</"
        "th><th>\xc2\xb5m\xc2\xb2"
        " each</th><th>mm\xc2\xb2</th><th>share</th><th>source</th></tr>\n";
  for (const cost::CostLine& l : c.area) {
    os << "<tr><td>" << html_escape(l.component) << "</td><td>" << html_escape(l.item)
       << "</td><td class=\"n\">" << fmt::format("{:.6g}", l.count) << "</td><td class=\"n\">"
       << fmt::format("{:.6g}", l.each) << "</td><td class=\"n\">"
       << fmt::format("{:.4f}", l.total * 1e-6) << "</td><td class=\"n\">"
       << pct(l.total, c.area_um2) << "</td><td>" << html_escape(l.source) << "</td></tr>\n";
  }
  os << "<tr><th>total</th><th></th><th></th><th></th><th>"
     << fmt::format("{:.4f}", c.area_um2 * 1e-6) << "</th><th></th><th></th></tr>\n</table>\n";
  os << "<h2>Energy</h2>\n<table>\n<tr><th>component</th><th>action</th><th>count</th><th>pJ "
        "each</th><th>total</th><th>share</th><th>source</th></tr>\n";
  for (const cost::CostLine& l : c.energy) {
    os << "<tr><td>" << html_escape(l.component) << "</td><td>" << html_escape(l.item)
       << "</td><td class=\"n\">" << fmt::format("{:.6g}", l.count) << "</td><td class=\"n\">"
       << fmt::format("{:.6g}", l.each) << "</td><td class=\"n\">" << html_escape(joules(l.total))
       << "</td><td class=\"n\">" << pct(l.total, c.energy_pj) << "</td><td>"
       << html_escape(l.source) << "</td></tr>\n";
  }
  os << "<tr><th>total</th><th></th><th></th><th></th><th>" << html_escape(joules(c.energy_pj))
     << "</th><th></th><th></th></tr>\n</table>\n";
  os << "<h2>Not priced</h2>\n";
  if (c.unpriced.empty()) {
    os << "<p class=\"note\">The tables priced every part of this run.</p>\n";
  } else {
    os << "<ul class=\"note\">\n";
    for (const std::string& u : c.unpriced) os << "<li>" << html_escape(u) << "</li>\n";
    os << "</ul>\n";
  }
}

void layer_table(std::ostream& os, const RunRecord& r, const cost::CostReport& c) {
  os << "<h2>Per layer</h2>\n<table>\n<tr><th>layer</th><th>cycles</th><th>load</th><th>stream</"
        "th><th>drain</th><th>stall DRAM</th><th>stall edge</th><th>stall port</th><th>stall "
        "dequant</th><th>MACs</th><th>time</th><th>energy</th></tr>\n";
  for (std::size_t i = 0; i < r.stats.layers.size(); ++i) {
    const arch::LayerStats& l = r.stats.layers[i];
    os << "<tr><td>" << html_escape(l.name) << "</td>";
    for (std::uint64_t v : {l.cycles, l.load, l.stream, l.drain, l.stall_dram, l.stall_edge,
                            l.stall_port, l.stall_dequant, l.macs})
      os << "<td class=\"n\">" << v << "</td>";
    if (i < c.layers.size()) {
      os << "<td class=\"n\">" << html_escape(time_str(c.layers[i].seconds))
         << "</td><td class=\"n\">" << html_escape(joules(c.layers[i].pj)) << "</td>";
    } else {
      os << "<td></td><td></td>";
    }
    os << "</tr>\n";
  }
  os << "</table>\n<p class=\"note\">Stall port and stall dequant cycles are part of load and "
        "stream; stall DRAM and stall edge are cycles the array sat idle.</p>\n";
}

using Row = CompareRow;  // one design's line (cost_report: the same numbers in every format)

Row row_of(const RunRecord& r, const cost::CostReport& c) { return compare_row(r, c); }

// Grouped bars: one group per metric, one bar per run, heights = ratio to the first run.
void compare_chart(std::ostream& os, const std::vector<Row>& rows) {
  const Row& base = rows.front();
  const std::vector<std::pair<std::string, std::vector<double>>> groups = [&] {
    std::vector<std::pair<std::string, std::vector<double>>> g = {
        {"latency", {}}, {"energy", {}}, {"area", {}}};
    for (const Row& r : rows) {
      g[0].second.push_back(ratio(r.ms, base.ms));
      g[1].second.push_back(ratio(r.uj, base.uj));
      g[2].second.push_back(ratio(r.mm2, base.mm2));
    }
    return g;
  }();
  // The axis runs to a whole number of steps of 1, 2.5 or 5 times a power of ten, at most 6.
  double largest = 1.0;
  for (const auto& grp : groups)
    for (double v : grp.second) largest = std::max(largest, v);
  double step = 0.25;
  for (double decade = 0.1; largest * 1.1 / step > 6; decade *= 10) {
    for (double m : {2.5, 5.0, 10.0}) {
      step = m * decade;
      if (largest * 1.1 / step <= 6) break;
    }
  }
  const int steps = static_cast<int>(std::ceil(largest * 1.1 / step));
  const double top_v = step * steps;
  const double plot_w0 = kWidth - 60 - 20;
  // Bars too narrow for a label over them get it turned upright (and room above the plot).
  const bool upright = plot_w0 / 3 * 0.8 / static_cast<double>(rows.size()) < 48;
  const double left = 60, right = 20,
               top = 20.0 * static_cast<double>(rows.size()) + 20 + (upright ? 30 : 0),
               plot_h = 240, bottom = 50;
  const double plot_w = kWidth - left - right;
  const double height = top + plot_h + bottom;
  svg_start(os, "compare", height, "Latency, energy and area relative to the first design");
  std::vector<std::pair<std::string, const char*>> entries;
  for (std::size_t i = 0; i < rows.size(); ++i)
    entries.emplace_back(rows[i].design + " (" + rows[i].file + ")", palette(i));
  legend(os, left, 6, entries, 1, plot_w);
  const double y0 = top + plot_h;
  // Axis with gridlines at quarter steps of the largest ratio, and the baseline 1.0 dashed.
  for (int t = 0; t <= steps; ++t) {
    const double v = step * t;
    const double y = y0 - v / top_v * plot_h;
    os << "<line x1=\"" << px(left) << "\" y1=\"" << px(y) << "\" x2=\"" << px(left + plot_w)
       << "\" y2=\"" << px(y) << "\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>\n";
    text(os, left - 6, y + 4, fmt::format("{:.2f}x", v), "end");
  }
  const double y1 = y0 - 1.0 / top_v * plot_h;
  os << "<line x1=\"" << px(left) << "\" y1=\"" << px(y1) << "\" x2=\"" << px(left + plot_w)
     << "\" y2=\"" << px(y1)
     << "\" stroke=\"#222222\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\n";
  const double group_w = plot_w / static_cast<double>(groups.size());
  const double bar_w = group_w * 0.8 / static_cast<double>(rows.size());
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const double gx = left + group_w * static_cast<double>(g) + group_w * 0.1;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const double v = groups[g].second[i];
      const double h = v / top_v * plot_h;
      const double x = gx + bar_w * static_cast<double>(i);
      rect(os, x + 2, y0 - h, bar_w - 4, h, palette(i),
           fmt::format("{} {}: {:.3f}x of {}", rows[i].design, groups[g].first, v, base.design));
      if (upright) {
        const double tx = x + bar_w / 2 + 4, ty = y0 - h - 4;
        os << "<text x=\"" << px(tx) << "\" y=\"" << px(ty) << "\" text-anchor=\"start\" "
           << "transform=\"rotate(-90 " << px(tx) << " " << px(ty) << ")\">"
           << fmt::format("{:.3f}x", v) << "</text>\n";
      } else {
        text(os, x + bar_w / 2, y0 - h - 4, fmt::format("{:.3f}x", v), "middle");
      }
    }
    text(os, left + group_w * (static_cast<double>(g) + 0.5), y0 + 20, groups[g].first, "middle");
  }
  os << "<line x1=\"" << px(left) << "\" y1=\"" << px(y0) << "\" x2=\"" << px(left + plot_w)
     << "\" y2=\"" << px(y0) << "\" stroke=\"#222222\" stroke-width=\"1\"/>\n";
  text(os, left + plot_w / 2, y0 + 40, "ratio to " + base.design + " (lower is better)", "middle");
  os << "</svg>\n";
}

}  // namespace

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

void write_run_html(std::ostream& os, const RunRecord& r, const cost::CostReport& c) {
  page_start(os, "quasar: " + r.design + " on " + r.trace);
  os << "<header>\n<h1>quasar run report: " << html_escape(r.design) << " on "
     << html_escape(r.trace) << "</h1>\n";
  os << "<p class=\"sub\">"
     << html_escape(fmt::format(
            "{}x{} {} array of {} PEs at {} MHz; {} mode, {} accounting; "
            "report {}",
            r.arch.array.rows, r.arch.array.cols, arch::dataflow_name(r.arch.array.dataflow),
            arch::pe_kind_name(r.arch.array.pe), r.arch.clock_mhz, r.mode, r.accounting, r.file))
     << "</p>\n<div class=\"kpis\">\n";
  kpi(os, "design", r.design);
  kpi(os, "trace", r.trace);
  kpi(os, "node", fmt::format("{} nm", c.node_nm));
  kpi(os, "stream", c.stream);
  kpi(os, "latency", fmt::format("{} ({} cycles)", time_str(c.seconds), r.stats.cycles));
  kpi(os, "energy", joules(c.energy_pj));
  kpi(os, "energy/token",
      c.tokens ? fmt::format("{} (the run's energy / its {} tokens)", joules(c.pj_per_token()),
                             c.tokens)
               : std::string("n/a (tokens unknown)"));
  kpi(os, "area", mm2(c.area_um2));
  kpi(os, "TOPS/W", fmt::format("{:.4g}", c.tops_per_w()));
  os << "</div>\n</header>\n";
  // What the figures cover, before any of them: nothing dropped silently.
  os << "<h2>What this run covers</h2>\n<p>"
     << html_escape(fmt::format("{} records simulated, {} not.", r.stats.layers.size(),
                                r.not_simulated.size()));
  if (r.decoder_layers && r.model_layers)
    os << html_escape(fmt::format(" {} of the model's {} decoder layers: a whole-model figure is "
                                  "not this run's.",
                                  r.decoder_layers, r.model_layers));
  os << "</p>\n";
  if (!r.not_simulated.empty()) {
    os << "<table class=\"notsim\"><tr><th>record not simulated</th><th>why</th></tr>\n";
    for (const auto& [name, why] : r.not_simulated)
      os << "<tr><td>" << html_escape(name) << "</td><td>" << html_escape(why) << "</td></tr>\n";
    os << "</table>\n";
  }

  os << "<h2>Latency breakdown</h2>\n";
  latency_chart(os, r);
  os << "<h2>Energy breakdown</h2>\n";
  energy_chart(os, c);
  os << "<h2>Timeline</h2>\n";
  timeline_chart(os, r);
  os << "<h2>Area breakdown</h2>\n";
  area_chart(os, c);
  cost_tables(os, c);
  layer_table(os, r, c);
  page_end(os);
}

void write_run_html_file(const std::string& path, const RunRecord& r, const cost::CostReport& c) {
  io::write_file_with(path, [&](std::ostream& os) { write_run_html(os, r, c); });
}

void write_compare_html(std::ostream& os, const std::vector<RunRecord>& runs,
                        const std::vector<cost::CostReport>& costs) {
  if (runs.size() < 2) throw Error("compare needs at least two run reports");
  if (costs.size() != runs.size()) throw Error("compare: one cost report per run is needed");
  std::vector<Row> rows;
  for (std::size_t i = 0; i < runs.size(); ++i) rows.push_back(row_of(runs[i], costs[i]));
  const Row& base = rows.front();
  page_start(os, "quasar compare: " + runs.front().trace);
  os << "<header>\n<h1>quasar compare: " << html_escape(runs.front().trace) << "</h1>\n";
  os << "<p class=\"sub\">"
     << html_escape(fmt::format("{} runs compared with {} ({}), at {} nm, {} operand stream",
                                runs.size(), base.design, base.file, costs.front().node_nm,
                                costs.front().stream))
     << "</p>\n</header>\n";
  os << "<h2>Relative to " << html_escape(base.design) << "</h2>\n";
  compare_chart(os, rows);
  os << "<h2>Comparison</h2>\n<table>\n<tr><th>design</th><th>latency (ms)</th><th>x</th><th>"
        "tokens/s</th><th>energy (uJ)</th><th>x</th><th>uJ/token</th><th>area (mm2)</th><th>x</"
        "th><th>TOPS/W</th><th>TOPS/mm2</th></tr>\n";
  for (const Row& r : rows) {
    os << "<tr><td>" << html_escape(r.design) << "</td>";
    for (const std::string& v :
         {fmt::format("{:.4g}", r.ms), fmt::format("{:.3f}", ratio(r.ms, base.ms)),
          fmt::format("{:.4g}", r.tok_s), fmt::format("{:.4g}", r.uj),
          fmt::format("{:.3f}", ratio(r.uj, base.uj)), fmt::format("{:.4g}", r.uj_tok),
          fmt::format("{:.4f}", r.mm2), fmt::format("{:.3f}", ratio(r.mm2, base.mm2)),
          fmt::format("{:.4g}", r.tops_w), fmt::format("{:.4g}", r.tops_mm2)})
      os << "<td class=\"n\">" << v << "</td>";
    os << "</tr>\n";
  }
  os << "</table>\n";
  if (const auto notes = not_simulated_notes(runs); !notes.empty()) {
    os << "<p class=\"note\">Not in these numbers:</p>\n<ul class=\"note\">\n";
    for (const std::string& n : notes) os << "<li>" << html_escape(n) << "</li>\n";
    os << "</ul>\n";
  }
  if (!same_layers(runs)) {
    os << "<h2>Per layer</h2>\n<p class=\"note\">Not shown: the runs do not have the same "
          "layers.</p>\n";
    page_end(os);
    return;
  }
  os << "<h2>Per layer</h2>\n<p class=\"note\">Cycles and energy, ratio to "
     << html_escape(base.design) << ".</p>\n<div class=\"wide\"><table>\n<tr><th>layer</th>";
  for (const Row& r : rows)
    os << "<th>" << html_escape(r.design) << " cycles</th><th>" << html_escape(r.design)
       << " energy</th>";
  os << "</tr>\n";
  const RunRecord& first = runs.front();
  for (std::size_t l = 0; l < first.stats.layers.size(); ++l) {
    os << "<tr><td>" << html_escape(first.stats.layers[l].name) << "</td>";
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (l >= runs[i].stats.layers.size() || l >= costs[i].layers.size() ||
          l >= costs.front().layers.size()) {
        os << "<td>-</td><td>-</td>";
        continue;
      }
      const double cyc = static_cast<double>(runs[i].stats.layers[l].cycles);
      const double b = static_cast<double>(first.stats.layers[l].cycles);
      os << "<td class=\"n\">"
         << html_escape(fmt::format("{} ({:.3f}x)", runs[i].stats.layers[l].cycles, ratio(cyc, b)))
         << "</td><td class=\"n\">"
         << html_escape(fmt::format("{} ({:.3f}x)", joules(costs[i].layers[l].pj),
                                    ratio(costs[i].layers[l].pj, costs.front().layers[l].pj)))
         << "</td>";
    }
    os << "</tr>\n";
  }
  os << "</table></div>\n";
  page_end(os);
}

void compare_runs_html(std::ostream& os, const std::vector<RunRecord>& runs,
                       const std::vector<cost::CostReport>& costs, bool allow_different_traces) {
  if (runs.size() < 2) throw Error("compare needs at least two run reports");
  if (!allow_different_traces) require_same_workload(runs);
  write_compare_html(os, runs, costs);
}

}  // namespace quasar
