#include "io/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "numerics/error.hpp"

namespace quasar::io {

namespace {

std::string mib(std::uint64_t bytes) {
  char buf[64];
  const double v = static_cast<double>(bytes);
  if (bytes >= (std::uint64_t{1} << 30))
    std::snprintf(buf, sizeof buf, "%.1f GiB", v / (1 << 30));
  else
    std::snprintf(buf, sizeof buf, "%.1f MiB", v / (1 << 20));
  return buf;
}

}  // namespace

std::string byte_count(std::uint64_t bytes) {
  return std::to_string(bytes) + " bytes (" + mib(bytes) + ")";
}

InputFile::InputFile(const std::string& path, const std::string& what) : path_(path) {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. It has
  // no effect on regular files, the only kind read past the fstat below.
  fd_ = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) {
    const int e = errno;
    if (e == ENOENT) throw Error(path + ": " + what + " does not exist");
    throw Error(path + ": cannot open the " + what + " for reading: " + std::strerror(e));
  }
  struct stat st {};
  if (::fstat(fd_, &st) != 0) {
    const int e = errno;
    ::close(fd_);
    throw Error(path + ": cannot stat the " + what + ": " + std::strerror(e));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd_);
    throw Error(path + ": is a folder; a " + what + " is a file");
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd_);
    throw Error(path + ": is not a regular file (a device, FIFO or socket); quasar reads a " +
                what + " only from a regular file");
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

void InputFile::read_at(std::uint64_t offset, void* dst, std::uint64_t n) const {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(n, 1u << 30));
    const ssize_t got = ::pread(fd_, p, chunk, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) throw Error(path_ + ": read failed: " + std::strerror(errno));
    if (got == 0)
      throw Error(path_ + ": ended early (changed or truncated while being read?)");
    p += got, offset += static_cast<std::uint64_t>(got), n -= static_cast<std::uint64_t>(got);
  }
}

namespace {

template <class Buffer>
Buffer read_whole(const std::string& path, const std::string& what, std::uint64_t max_bytes) {
  const InputFile f(path, what);
  if (f.size() > max_bytes)
    throw Error(path + ": is " + byte_count(f.size()) + ", above the limit of " +
                byte_count(max_bytes) + " for a " + what + " (docs/limits.md)");
  Buffer b(static_cast<std::size_t>(f.size()), 0);
  f.read_at(0, b.data(), f.size());
  return b;
}

}  // namespace

std::string read_text_file(const std::string& path, const std::string& what,
                           std::uint64_t max_bytes) {
  return read_whole<std::string>(path, what, max_bytes);
}

std::vector<std::uint8_t> read_binary_file(const std::string& path, const std::string& what,
                                           std::uint64_t max_bytes) {
  return read_whole<std::vector<std::uint8_t>>(path, what, max_bytes);
}

}  // namespace quasar::io
