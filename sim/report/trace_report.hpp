// A readable summary of a trace: its layers with shapes, schemes and MACs, and the totals.
#pragma once

#include <ostream>

#include "trace/trace.hpp"

namespace quasar {

void print_trace_summary(std::ostream& os, const trace::Trace& t);

}  // namespace quasar
