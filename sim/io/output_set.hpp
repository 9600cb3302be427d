// The files one command writes into a folder (`run --out`, `cost --out`, `trace synth/import
// --out`) are published together: a reader of the folder sees either the old set or the new
// set, never a new report.json beside the previous run's layers.csv and report.html, however
// the command ends (kill -9 included).
//
// How: the files are written into a staging folder beside DIR (".NAME.quasar-partial-PID"),
// which also receives hard links to DIR's other files (those this output does not own, such
// as a run's report.json when `cost --out` writes into the run's folder); then one
// renameat2(RENAME_EXCHANGE) swaps the staging folder and DIR, and the old set is removed. A
// folder DIR that does not exist yet is created by one rename. Files of the set that this
// command did not write (a report.html when this run was not priced) are dropped, not kept
// from the old set. A staging folder left by a killed command is removed by the next one.
// docs/limits.md states the rules; where the file system cannot exchange two folders, DIR is
// renamed aside and the new folder renamed in (a moment with no DIR, still never a mix).
#pragma once

#include <string>
#include <vector>

namespace quasar::io {

class OutputSet {
 public:
  // `owned`: every file name this kind of output writes, whether or not it does this time.
  // Checks DIR first (see check()), so a long command fails before its work, not after.
  OutputSet(std::string dir, std::vector<std::string> owned);
  ~OutputSet();  // removes the staging folder unless published
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  // Where to write file `name` (one of `owned`) before publish().
  std::string path(const std::string& name) const;
  // Swaps the staged files in. Throws quasar::Error naming DIR when it cannot.
  void publish();

  // Throws quasar::Error unless DIR can take a published set: it does not exist, or it is a
  // folder holding only files (no sub-folders: they cannot be carried over by hard links),
  // and it is not the working folder or a folder above it (which the swap would move away
  // from under the shell).
  static void check(const std::string& dir);

 private:
  std::string dir_, stage_;
  std::vector<std::string> owned_;
  bool published_ = false;
};

}  // namespace quasar::io
