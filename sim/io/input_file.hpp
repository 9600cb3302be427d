// Every file quasar reads goes through here, so that no input can hang a command or take
// unbounded memory: inputs are read only from regular files, and only up to a stated size
// (docs/limits.md). A device (/dev/zero, /dev/urandom), a FIFO, a socket or a folder where a
// file is expected is an error naming the path and what is accepted, never a hang, a read that
// grows forever or an "internal error".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace quasar::io {

// Size limits of whole-file reads [choice: generous for real inputs, far below the machine's
// memory; docs/limits.md gives the reasons]. Text inputs: YAML designs, sweeps, technology
// tables and trace manifests, JSON reports and model configs, CSV topologies.
inline constexpr std::uint64_t kMaxTextBytes = std::uint64_t{64} << 20;     // 64 MiB
// Binary payloads read whole (trace payloads, gemm --input, activations): safetensors.
inline constexpr std::uint64_t kMaxPayloadBytes = std::uint64_t{32} << 30;  // 32 GiB

// Opens `path` for reading and checks that it is a regular file. Never blocks (a FIFO is
// opened non-blocking, then refused). Throws quasar::Error: "PATH: does not exist",
// "PATH: is a folder, not a file", "PATH: is not a regular file (a device, FIFO or socket)...".
// `what` names the input in messages ("design", "trace manifest", ...).
class InputFile {
 public:
  InputFile(const std::string& path, const std::string& what);
  ~InputFile();
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::uint64_t size() const { return size_; }
  // Reads exactly `n` bytes at `offset`; throws naming the file when it has fewer (it changed
  // or was truncated since it was opened).
  void read_at(std::uint64_t offset, void* dst, std::uint64_t n) const;

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// The whole of a regular file of at most `max_bytes`, as text or bytes. Throws quasar::Error
// as InputFile does, and "PATH: is N bytes, above the limit of M for a WHAT" when too large.
std::string read_text_file(const std::string& path, const std::string& what,
                           std::uint64_t max_bytes = kMaxTextBytes);
std::vector<std::uint8_t> read_binary_file(const std::string& path, const std::string& what,
                                           std::uint64_t max_bytes = kMaxPayloadBytes);

// A byte count for messages: "1234 bytes (1.2 MiB)".
std::string byte_count(std::uint64_t bytes);

}  // namespace quasar::io
