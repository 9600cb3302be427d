#include "io/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace quasar::io {

std::string format_duration(double s) {
  char b[48];
  if (!(s >= 0) || s > 1e9) return "?";
  const auto t = static_cast<long long>(std::llround(s));
  if (t < 60) {
    std::snprintf(b, sizeof b, "%lld s", t);
  } else if (t < 3600) {
    std::snprintf(b, sizeof b, "%lld min %02lld s", t / 60, t % 60);
  } else {
    std::snprintf(b, sizeof b, "%lld h %02lld min", t / 3600, (t % 3600) / 60);
  }
  return b;
}

ProgressLine::ProgressLine(std::string what, Mode mode)
    : what_(std::move(what)), mode_(mode), t0_(std::chrono::steady_clock::now()), last_(t0_) {
  if (mode_ == Mode::automatic) mode_ = isatty(STDERR_FILENO) ? Mode::terminal : Mode::log;
  if (const char* p = std::getenv("QUASAR_PROGRESS_PERIOD_S")) {
    char* end = nullptr;
    const double v = std::strtod(p, &end);
    if (end != p && v >= 0) period_s_ = v;
  }
}

void ProgressLine::update(double fraction, const std::string& detail) {
  if (mode_ == Mode::off) return;
  const auto now = std::chrono::steady_clock::now();
  const double since_last = std::chrono::duration<double>(now - last_).count();
  const bool done = fraction >= 1.0;
  if (mode_ == Mode::terminal ? (since_last < 0.25 && !done) : since_last < period_s_) return;
  last_ = now;
  const double elapsed = std::chrono::duration<double>(now - t0_).count();
  std::string eta;
  if (done) {
    eta = "done";
  } else if (fraction > 0) {
    eta = "ETA " + format_duration(elapsed * (1 - fraction) / fraction);
  } else {
    eta = "ETA ?";
  }
  const std::string line =
      what_ + ": " + detail + ", " + format_duration(elapsed) + " elapsed, " + eta;
  if (mode_ == Mode::terminal) {
    std::fprintf(stderr, "\r%s\033[K", line.c_str());
    shown_ = true;
  } else {
    std::fprintf(stderr, "%s\n", line.c_str());
  }
  std::fflush(stderr);
}

void ProgressLine::finish() {
  if (mode_ == Mode::terminal && shown_) {
    std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }
  shown_ = false;
}

}  // namespace quasar::io
