// Does a sweep point's identity change with what its metrics depend on beyond the design and
// workload (the quasar version string, into which the CLI puts the counters' schema and the
// technology tables' hash), so that a resumed or merged store never reuses another model's
// results? (In tests/systemc because the sweep library links SystemC: this binary defines
// sc_main, trap 1.)
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <systemc>

#include "config/sweep_config.hpp"
#include "report/run_report.hpp"
#include "sweep/evaluate.hpp"
#include "sweep/points.hpp"

namespace quasar::sweep {
namespace {

TEST(SweepPoints, IdentityFollowsTheModel) {
  const std::string fp = model_fingerprint();
  EXPECT_TRUE(std::regex_match(fp, std::regex("report schema " + std::to_string(kReportSchema) +
                                              ", tables [0-9a-f]{16}")))
      << fp;
  EXPECT_EQ(fp, model_fingerprint());  // deterministic
  const SweepSpec s =
      config::read_sweep_spec(std::string(QUASAR_SOURCE_DIR) + "/tests/sweep/small.yaml");
  const std::vector<Point> a = enumerate_points(s, "0.1.0, " + fp);
  const std::vector<Point> b = enumerate_points(s, "0.1.0, report schema 2, tables 0");
  ASSERT_EQ(a.size(), 32u);
  ASSERT_EQ(a.size(), b.size());
  std::set<std::string> ids;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NE(a[i].id, b[i].id) << i;
    ids.insert(a[i].id);
  }
  EXPECT_EQ(ids.size(), a.size());  // and the points stay distinct from each other
  EXPECT_EQ(enumerate_points(s, "0.1.0, " + fp)[5].id, a[5].id);
}

}  // namespace
}  // namespace quasar::sweep

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
