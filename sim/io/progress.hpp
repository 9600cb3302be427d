// Progress of a long job on stderr, the same for `quasar run` and `quasar sweep` (issue 21):
//   terminal  one line rewritten in place (at most about four times a second): the job's own
//             detail, the time so far and an ETA from the rate so far;
//   log       (stderr is a file or a pipe: a batch job) a line every `period` seconds, the
//             first after one period, so a long job's log shows life and a short job's log
//             stays empty; QUASAR_PROGRESS_PERIOD_S overrides the 30 s default (tests set 0);
//   off       nothing (--no-progress).
// stdout is never touched: reports stay byte for byte the same.
#pragma once

#include <chrono>
#include <string>

namespace quasar::io {

class ProgressLine {
 public:
  enum class Mode { automatic, terminal, log, off };
  // `what`: the line's prefix ("quasar run"). automatic: terminal when stderr is one, else log.
  ProgressLine(std::string what, Mode mode = Mode::automatic);
  // fraction in [0, 1]; detail: what is done ("42% of tiles", "120/1000 points, 3 failed").
  void update(double fraction, const std::string& detail);
  // Ends a terminal line (a newline after the last update); nothing in the other modes.
  void finish();
  Mode mode() const { return mode_; }

 private:
  std::string what_;
  Mode mode_;
  double period_s_ = 30;
  std::chrono::steady_clock::time_point t0_, last_;
  bool shown_ = false;
};

// "12 s", "3 min 05 s", "2 h 07 min".
std::string format_duration(double seconds);

}  // namespace quasar::io
