#include "io/output_file.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <system_error>

#include "numerics/error.hpp"

namespace quasar::io {

void write_file(const std::string& path, const std::string& bytes) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!ec && fs::is_character_file(st)) {
    // /dev/null, /dev/stdout, a terminal: written in place (renaming over a device would
    // replace it), still checked.
    std::ofstream out(path, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw Error(path + ": write failed");
    return;
  }
  if (!ec && fs::exists(st) && !fs::is_regular_file(st))
    throw Error(path + ": exists and is not a regular file or a device (a folder? a FIFO?)");
  const std::string tmp = path + ".partial";
  bool ok = false;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw Error(path + ": cannot open for writing");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    out.close();
    ok = !out.fail();
  }
  if (!ok) {
    std::remove(tmp.c_str());
    throw Error(path + ": write failed (disk full or not writable?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw Error(path + ": cannot rename " + tmp + " over it");
  }
}

void finish_stdout() {
  std::cout.flush();
  if (!std::cout || std::fflush(stdout) != 0 || std::ferror(stdout))
    throw Error("writing to standard output failed (disk full or closed pipe?)");
}

}  // namespace quasar::io
