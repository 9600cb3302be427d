// Golden regression (`quasar regress`): each case folder holds a data-bearing trace (its
// payload carries the inputs and the expected outputs) and stats.json (the expected counters);
// a run recomputes every layer and must reproduce both exactly. `--bless` regenerates the
// expected outputs and statistics of one case from the current code, for review in the diff.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace quasar {

struct CaseResult {
  std::string dir;
  bool passed = false;
  std::string detail;  // what differed
};

// `root` is one case folder (holding trace.yaml) or a folder of case folders.
std::vector<std::string> find_golden_cases(const std::string& root);
CaseResult run_golden_case(const std::string& case_dir);
// "" when `file` holds exactly `got`, else its first differing line ("timing.json line 7:
// expected '...', got '...'") or that it is missing.
std::string golden_file_difference(const std::string& file, const std::string& got);
// Rewrites the case's expected outputs (role y of every data-bearing layer) and stats.json.
void bless_golden_case(const std::string& case_dir, std::ostream& log);

}  // namespace quasar
