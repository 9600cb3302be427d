#include "cost/node_scaling.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "numerics/error.hpp"

namespace quasar::cost {

const std::vector<NodeFit>& node_fits() {
  // Coefficients: Stillmaker & Baas 2017, Table 4 (delay, cubic) and Table 5 (energy,
  // quadratic), read from the transcription in nodeScale.py (W. Romaszkan, UCLA NanoCAD, MIT
  // licence, github.com/wromaszkan/nodeScale, commit a912c607), whose 65 nm and HP32 energy
  // rows reproduce the authors' published erratum example exactly (0.4571, 2.604;
  // tests/unit/test_node_scaling.cpp). Area: the paper's area table, the 45 nm row. Nominal
  // supplies: the PTM model cards the paper simulated (bulk 180-32 nm; PTM-MG 20-7 nm, HP).
  // The paper has no 22 nm row: 20 nm is the nearest.
  static const std::vector<NodeFit> t = [] {
    std::vector<NodeFit> v = {
        {180, "180", {0, 97.09, -356.7, 406.5}, {0, 24.64, -17.98}, 19, 1.8, 0},
        {130, "130", {-76.65, 334.9, -493.4, 275.8}, {7.171, -6.709, 2.904}, 6.4, 1.3, 0},
        {90, "90", {-60.34, 262.5, -384.2, 210.9}, {4.762, -4.781, 2.092}, 2.8, 1.2, 0},
        {65, "65", {-53.3, 230.4, -333.9, 178.6}, {3.755, -4.398, 1.975}, 1.5, 1.1, 0},
        {45, "HP45", {-501.6, 1567, -1619, 566.1}, {1.018, -0.3107, 0.1539}, 1.0, 1.0, 0},
        {32, "HP32", {-1047, 2982, -2797, 873.5}, {0.8367, -0.4341, 0.1701}, 0.46, 0.9, 0},
        {20, "HP20", {0, 34.63, -66.37, 41.15}, {0.373, -0.1582, 0.04104}, 0.21, 0.9, 0},
        {16, "HP16", {0, 24.8, -47.52, 28.87}, {0.2958, -0.1241, 0.03024}, 0.19, 0.85, 0},
        {14, "HP14", {-40.66, 109.2, -100.6, 35.92}, {0.2363, -0.09675, 0.02239}, 0.17, 0.8, 0},
        {10, "HP10", {-34.95, 93.65, -85.99, 30.4}, {0.2068, -0.09311, 0.02375}, 0.1, 0.75, 0},
        {7, "HP7", {-28.58, 76.6, -70.26, 24.69}, {0.1776, -0.09097, 0.02447}, 0.059, 0.7, 0},
    };
    // [choice] Down to 0.7 x nominal: every fit is monotone there (delay falling and energy
    // rising with the supply, but for the HP45/HP32 flat spot delay_factor() smooths), and
    // near-threshold operation is outside what a design synthesized at nominal should claim.
    for (NodeFit& f : v) f.v_min = std::round(0.7 * f.v_nominal * 1000.0) / 1000.0;
    return v;
  }();
  return t;
}

std::string node_list() {
  std::string s;
  for (const NodeFit& f : node_fits()) s += (s.empty() ? "" : ", ") + std::to_string(f.nm);
  return s;
}

const NodeFit& node_fit(int nm) {
  for (const NodeFit& f : node_fits())
    if (f.nm == nm) return f;
  throw Error("no technology node " + std::to_string(nm) + " nm (the scaling table has " +
              node_list() + " nm; Stillmaker & Baas 2017 has no 22 nm row, 20 is the nearest)");
}

std::string voltage_problem(int nm, double v) {
  const NodeFit& f = node_fit(nm);
  if (std::isfinite(v) && v >= f.v_min - 1e-9 && v <= f.v_nominal + 1e-9) return "";
  char buf[160];
  std::snprintf(buf, sizeof buf, "%g V is outside the %d nm node's range [%g, %g] V", v, nm,
                f.v_min, f.v_nominal);
  return buf;
}

namespace {
double cubic(const double c[4], double v) { return ((c[0] * v + c[1]) * v + c[2]) * v + c[3]; }
}  // namespace

double delay_factor(int nm, double v) {
  const NodeFit& f = node_fit(nm);
  // Running minimum of the cubic from v_min to v, on a 1 mV grid (and at v itself).
  double best = cubic(f.delay, f.v_min);
  for (double u = f.v_min; u < v; u += 0.001) best = std::min(best, cubic(f.delay, u));
  return std::min(best, cubic(f.delay, v));
}

double energy_factor(int nm, double v) {
  const NodeFit& f = node_fit(nm);
  return (f.energy[0] * v + f.energy[1]) * v + f.energy[2];
}

NodeFactors node_factors(int from_nm, double from_v, int nm, double v) {
  if (const std::string p = voltage_problem(nm, v); !p.empty()) throw Error(p);
  if (from_nm == nm && from_v == v) return {};
  const NodeFit& f = node_fit(nm);
  const NodeFit& from = node_fit(from_nm);
  NodeFactors k;
  k.energy = energy_factor(nm, v) / energy_factor(from_nm, from_v);
  k.delay = delay_factor(nm, v) / delay_factor(from_nm, from_v);
  k.area = f.area_from_45 / from.area_from_45;
  // [choice] leakage power per unit of area held across nodes, linear in the supply.
  k.leakage = k.area * v / from_v;
  return k;
}

}  // namespace quasar::cost
