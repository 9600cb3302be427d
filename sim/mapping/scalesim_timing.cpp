#include "scalesim_timing.hpp"

#include "numerics/error.hpp"

namespace quasar::mapping {
namespace {
std::uint64_t ceil_div(std::uint64_t a, std::uint64_t b) { return (a + b - 1) / b; }
}  // namespace

std::uint64_t scalesim_gemm_cycles(ScalesimDataflow d, std::uint64_t R, std::uint64_t C,
                                   std::uint64_t M, std::uint64_t K, std::uint64_t N) {
  if (R == 0 || C == 0 || M == 0 || K == 0 || N == 0)
    throw Error("scalesim_gemm_cycles: every dimension must be >= 1");
  std::uint64_t folds = 0, per_fold = 0;
  switch (d) {
    case ScalesimDataflow::ws:
      folds = ceil_div(K, R) * ceil_div(N, C);
      per_fold = 2 * R + C + M - 2;
      break;
    case ScalesimDataflow::os:
      folds = ceil_div(M, R) * ceil_div(N, C);
      per_fold = R + C + K - 2;
      break;
    case ScalesimDataflow::is:
      folds = ceil_div(K, R) * ceil_div(M, C);
      per_fold = 2 * R + C + N - 2;
      break;
  }
  return folds * per_fold - 1;
}

}  // namespace quasar::mapping
