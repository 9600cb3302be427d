#include "io/output_set.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "numerics/error.hpp"

namespace quasar::io {

namespace fs = std::filesystem;

namespace {

// DIR made absolute and normal without resolving symlinks in its last component (a symlinked
// DIR is refused by check()).
fs::path absolute_of(const std::string& dir) {
  fs::path p = fs::absolute(fs::path(dir)).lexically_normal();
  if (!p.has_filename() && p.has_parent_path() && p != p.root_path()) p = p.parent_path();
  return p;
}

std::string stage_prefix(const fs::path& dir) {
  return "." + dir.filename().string() + ".quasar-partial-";
}

// Staging folders of commands that are no longer running (killed mid-write) are removed; a
// running one's is left alone.
void remove_stale_stages(const fs::path& dir) {
  std::error_code ec;
  const fs::path parent = dir.parent_path();
  const std::string prefix = stage_prefix(dir);
  for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    std::string pid_text = name.substr(prefix.size());
    if (pid_text.size() > 4 && pid_text.compare(pid_text.size() - 4, 4, "-old") == 0)
      pid_text.resize(pid_text.size() - 4);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos)
      continue;
    const long pid = std::strtol(pid_text.c_str(), nullptr, 10);
    if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)) continue;
    std::error_code rm;
    fs::remove_all(it->path(), rm);
  }
}

// DIR (absolute, normal) must not be the working folder or a folder above it: the swap would
// move it away from under the shell.
void refuse_working_folder(const std::string& dir, const fs::path& p) {
  std::error_code ec;
  const fs::path cwd = fs::current_path(ec);
  if (ec) return;
  const fs::path c = cwd.lexically_normal();
  auto ci = c.begin();
  for (auto pi = p.begin(); pi != p.end(); ++pi, ++ci) {
    if (ci == c.end() || *pi != *ci) return;
  }
  throw Error(dir + ": is the working folder or a folder above it; write the output to a " +
              "folder of its own (the set is swapped in by renaming the folder)");
}

// Moves the staging folder `stage` into place as DIR (absolute `p`), exchanging it with an
// existing DIR (left at `stage`, for the caller to remove) or, where the file system cannot
// exchange, renaming DIR aside first and removing it. Returns whether `stage` still holds
// something to remove.
bool swap_in(const std::string& dir, const std::string& stage, const fs::path& p) {
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(p, ec))) {
    if (::rename(stage.c_str(), p.c_str()) != 0)
      throw Error(dir + ": cannot move the new output folder into place: " +
                  std::strerror(errno));
    return false;
  }
  if (::renameat2(AT_FDCWD, stage.c_str(), AT_FDCWD, p.c_str(), RENAME_EXCHANGE) == 0)
    return true;
  if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
    throw Error(dir + ": cannot swap the new output set in: " + std::strerror(errno));
  // No exchange on this file system: DIR aside, the new set in, then the old set removed.
  const std::string aside = stage + "-old";
  if (::rename(p.c_str(), aside.c_str()) != 0 || ::rename(stage.c_str(), p.c_str()) != 0)
    throw Error(dir + ": cannot swap the new output set in: " + std::strerror(errno));
  fs::remove_all(aside, ec);
  return false;
}

}  // namespace

void OutputSet::check(const std::string& dir) {
  if (dir.empty()) throw Error("an output folder needs a name");
  const fs::path p = absolute_of(dir);
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(p, ec);
  if (ec || !fs::exists(st)) return;  // created by publish()
  if (fs::is_symlink(st))
    throw Error(dir + ": is a symbolic link; give the output folder itself");
  if (!fs::is_directory(st))
    throw Error(dir + ": exists and is not a folder (the output is a folder of files)");
  refuse_working_folder(dir, p);
  for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::file_status s = it->symlink_status();
    if (fs::is_directory(s))
      throw Error(dir + ": holds a folder ('" + it->path().filename().string() +
                  "'); an output folder holds only files (give a new folder)");
  }
  if (ec) throw Error(dir + ": cannot list the output folder: " + ec.message());
}

OutputSet::OutputSet(std::string dir, std::vector<std::string> owned)
    : dir_(std::move(dir)), owned_(std::move(owned)) {
  check(dir_);
  const fs::path p = absolute_of(dir_);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) throw Error(dir_ + ": cannot create the folder above it: " + ec.message());
  remove_stale_stages(p);
  stage_ = (p.parent_path() / (stage_prefix(p) + std::to_string(::getpid()))).string();
  fs::remove_all(stage_, ec);
  if (!fs::create_directory(stage_, ec) || ec)
    throw Error(dir_ + ": cannot create the staging folder " + stage_ + ": " + ec.message());
}

OutputSet::~OutputSet() {
  if (published_) return;
  std::error_code ec;
  fs::remove_all(stage_, ec);
}

std::string OutputSet::path(const std::string& name) const {
  if (std::find(owned_.begin(), owned_.end(), name) == owned_.end())
    throw Error("internal: '" + name + "' is not a file of this output set");
  return stage_ + "/" + name;
}

void OutputSet::publish() {
  const fs::path p = absolute_of(dir_);
  std::error_code ec;
  const bool exists = fs::exists(fs::symlink_status(p, ec));
  if (!exists) {
    if (::rename(stage_.c_str(), p.c_str()) != 0)
      throw Error(dir_ + ": cannot move the new output folder into place: " +
                  std::strerror(errno));
    published_ = true;
    return;
  }
  check(dir_);  // unchanged since the constructor, unless someone else wrote there
  // Carry over the files this output does not own, as hard links (copies where links fail).
  for (fs::directory_iterator it(p, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (std::find(owned_.begin(), owned_.end(), name) != owned_.end()) continue;
    const fs::path to = fs::path(stage_) / name;
    std::error_code lk;
    if (fs::is_symlink(it->symlink_status()))
      fs::copy_symlink(it->path(), to, lk);
    else if (::link(it->path().c_str(), to.c_str()) != 0)
      fs::copy_file(it->path(), to, lk);
    if (lk) throw Error(dir_ + ": cannot carry '" + name + "' over to the new set: " + lk.message());
  }
  if (ec) throw Error(dir_ + ": cannot list the output folder: " + ec.message());
  const bool old_left = swap_in(dir_, stage_, p);
  published_ = true;
  if (old_left) fs::remove_all(stage_, ec);  // now the old set
}

void OutputTree::check(const std::string& dir, const std::string& marker) {
  if (dir.empty()) throw Error("an output folder needs a name");
  const fs::path p = absolute_of(dir);
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(p, ec);
  if (ec || !fs::exists(st)) return;  // created by publish()
  if (fs::is_symlink(st))
    throw Error(dir + ": is a symbolic link; give the output folder itself");
  if (!fs::is_directory(st))
    throw Error(dir + ": exists and is not a folder (the output is a folder of files)");
  refuse_working_folder(dir, p);
  const bool empty = fs::is_empty(p, ec);
  if (ec) throw Error(dir + ": cannot list the output folder: " + ec.message());
  if (!empty && !fs::is_regular_file(fs::symlink_status(p / marker, ec)))
    throw Error(dir + ": exists and is not an earlier output of this command (no " + marker +
                "); it would be replaced whole, so give a new or empty folder");
}

OutputTree::OutputTree(std::string dir, std::string marker)
    : dir_(std::move(dir)), marker_(std::move(marker)) {
  check(dir_, marker_);
  const fs::path p = absolute_of(dir_);
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  if (ec) throw Error(dir_ + ": cannot create the folder above it: " + ec.message());
  remove_stale_stages(p);
  stage_ = (p.parent_path() / (stage_prefix(p) + std::to_string(::getpid()))).string();
  fs::remove_all(stage_, ec);
  if (!fs::create_directory(stage_, ec) || ec)
    throw Error(dir_ + ": cannot create the staging folder " + stage_ + ": " +
                (ec ? ec.message() : std::string("it exists")));
}

OutputTree::~OutputTree() {
  if (published_) return;
  std::error_code ec;
  fs::remove_all(stage_, ec);
}

std::string OutputTree::path(const std::string& relative) const {
  const fs::path rel(relative);
  bool ok = !relative.empty() && rel.is_relative();
  for (const fs::path& part : rel) ok = ok && part != "." && part != ".." && !part.empty();
  if (!ok) throw Error("internal: '" + relative + "' is not a path below the output folder");
  const fs::path to = fs::path(stage_) / rel;
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec)
    throw Error(dir_ + ": cannot create the folder for " + relative + ": " + ec.message());
  return to.string();
}

void OutputTree::publish() {
  check(dir_, marker_);  // unchanged since the constructor, unless someone else wrote there
  std::error_code ec;
  const bool old_left = swap_in(dir_, stage_, absolute_of(dir_));
  published_ = true;
  if (old_left) fs::remove_all(stage_, ec);  // now the old tree
}

}  // namespace quasar::io
