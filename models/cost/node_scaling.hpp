// Technology nodes and supply voltages: how a circuit's delay, dynamic energy, area and leakage
// move from one (node, voltage) to another. One table (node_scaling.cpp) with its sources:
//   delay and energy  A. Stillmaker, B. Baas, "Scaling equations for the accurate prediction of
//                     CMOS device performance from 180 nm to 7 nm", Integration 58 (2017) 74-81:
//                     per node a cubic fit of delay and a quadratic fit of energy per operation
//                     in the supply voltage (HSPICE on PTM models; bulk 180-32 nm, multi-gate
//                     20-7 nm; the high-performance (HP) rows below 65 nm);
//   area              the paper's node-to-node area table;
//   leakage           no sourced per-node factor: [choice] leakage power per unit of area is
//                     held at its 45 nm value and grows linearly with the supply (docs/cost-model.md,
//                     "Nodes and voltages").
// The cost model's tables price everything at 45 nm and 0.9 V (Horowitz's figures); a design at
// another node or voltage (ArchSpec::tech) is priced by the factors from there.
#pragma once

#include <string>
#include <vector>

namespace quasar::cost {

struct NodeFit {
  int nm = 0;
  const char* model = "";         // the paper's row: "180", "HP45", ...
  double delay[4] = {0, 0, 0, 0};  // a3 V^3 + a2 V^2 + a1 V + a0 (the paper's delay factor)
  double energy[3] = {0, 0, 0};    // b2 V^2 + b1 V + b0 (its energy factor)
  double area_from_45 = 1.0;       // area at this node / area at 45 nm
  double v_nominal = 0.0;          // the PTM model card's supply (V)
  double v_min = 0.0;              // the lowest supply a design may set: [choice] 0.7 x nominal
};

// Every node the table covers, largest first.
const std::vector<NodeFit>& node_fits();
// The node's row; throws quasar::Error listing the nodes when there is none.
const NodeFit& node_fit(int nm);
// "" when a design may run node `nm` at `v` volts, else why not (the node's range).
std::string voltage_problem(int nm, double v);
// The nodes, as "180, 130, ..., 7" (for messages).
std::string node_list();

// The reference every priced table is expressed at.
constexpr int kPriceNodeNm = 45;
constexpr double kPriceVoltage = 0.9;

// Factors that bring a figure at (from_nm, from_v) to (nm, v); throws quasar::Error when a
// voltage is outside its node's range or a node is not in the table.
struct NodeFactors {
  double energy = 1.0, area = 1.0, leakage = 1.0, delay = 1.0;
  bool identity() const { return energy == 1.0 && area == 1.0 && leakage == 1.0 && delay == 1.0; }
};
NodeFactors node_factors(int from_nm, double from_v, int nm, double v);
// The fitted delay factor at (nm, v): the cubic, never rising with the supply (its running
// minimum from v_min: the HP45 and HP32 cubics rise slightly just below nominal, a fit artefact
// of a few percent that would make a faster supply slower).
double delay_factor(int nm, double v);
double energy_factor(int nm, double v);

}  // namespace quasar::cost
