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

// A folder written as a whole, sub-folders included (an export laid out as another tool's
// tree), published the same way: files are written into a staging folder beside DIR, which
// then replaces DIR by one rename exchange. Nothing of an existing DIR is carried over, so DIR
// must not exist, be empty, or hold `marker` (a file every output of this kind writes: an
// earlier one, replaced whole); any other folder is refused rather than replaced.
class OutputTree {
 public:
  // Checks DIR first (see check()), so a long command fails before its work, not after.
  OutputTree(std::string dir, std::string marker);
  ~OutputTree();  // removes the staging folder unless published
  OutputTree(const OutputTree&) = delete;
  OutputTree& operator=(const OutputTree&) = delete;

  // Where to write `relative` (a path below DIR, '/'-separated, no "." or ".." parts) before
  // publish(); its folders are created in the staging folder.
  std::string path(const std::string& relative) const;
  // Swaps the staged tree in. Throws quasar::Error naming DIR when it cannot.
  void publish();

  // Throws quasar::Error unless DIR can be replaced by the tree: it does not exist, or it is
  // an empty folder or one holding `marker`, and it is not the working folder or above it.
  static void check(const std::string& dir, const std::string& marker);

 private:
  std::string dir_, marker_, stage_;
  bool published_ = false;
};

}  // namespace quasar::io
