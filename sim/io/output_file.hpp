// Every file quasar writes goes through here, so that no failure passes silently: a full disk
// or an unwritable folder is an error naming the file (and a non-zero exit), never an empty or
// truncated file left behind with exit status 0.
#pragma once

#include <ostream>
#include <sstream>
#include <string>

namespace quasar::io {

// Writes `bytes` to `path` atomically: into path + ".partial", flushed and closed with every
// error checked, then renamed over `path`; a reader never sees half a file and a failure leaves
// no .partial behind. A character device (/dev/null) is written in place, since renaming over
// it would replace it; any other existing non-regular `path` (a folder, a FIFO) is refused.
// Throws quasar::Error.
void write_file(const std::string& path, const std::string& bytes);

// write_file with the content an ostream writer produces.
template <class Fill>
void write_file_with(const std::string& path, Fill&& fill) {
  std::ostringstream os;
  fill(static_cast<std::ostream&>(os));
  write_file(path, os.str());
}

// Flushes standard output and throws when anything written to it was lost (a full disk behind
// a redirection, a closed pipe): the command must then not exit 0.
void finish_stdout();

}  // namespace quasar::io
