// safetensors reader and writer (the format of Hugging Face checkpoints): an 8-byte
// little-endian header length N, N bytes of JSON, then one contiguous data buffer. Reading
// validates everything and rejects what is malformed, naming the file and tensor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "numerics/matrix.hpp"

namespace quasar::safetensors {

enum class DType {
  BOOL,
  U8,
  I8,
  I16,
  U16,
  F16,
  BF16,
  I32,
  U32,
  F32,
  F64,
  I64,
  U64,
  F8_E5M2,
  F8_E4M3
};
std::string_view dtype_name(DType d);
std::size_t dtype_size(DType d);
// Every dtype name the reader accepts, for error messages.
std::string accepted_dtypes();

inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;

struct Tensor {
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::vector<std::uint8_t> bytes;  // C order, little-endian
  std::size_t numel() const;
};

// Tensors are kept in name order (the JSON header's own order is not meaningful), so writing
// is deterministic.
struct File {
  std::map<std::string, Tensor> tensors;
  std::map<std::string, std::string> metadata;

  bool has(const std::string& name) const { return tensors.count(name) != 0; }
  // Throws quasar::Error naming the tensor and `source` when it is missing.
  const Tensor& get(const std::string& name, const std::string& source) const;
};

// Parses a whole file image; `source` names it in errors.
File parse(const std::vector<std::uint8_t>& image, const std::string& source);
File read(const std::string& path);

// A tensor's place in the file, as the header gives it (offsets into the data buffer).
struct TensorInfo {
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0, end = 0;
};

struct Header {
  std::map<std::string, TensorInfo> tensors;
  std::map<std::string, std::string> metadata;
  std::uint64_t buffer_begin = 0;  // file offset of the data buffer
};

// A file whose header is read and validated (the same checks as parse, against the file's
// size) and whose tensors are read from disk one at a time, when asked: a checkpoint shard of
// tens of GB costs only what the chosen tensors hold.
class LazyFile {
 public:
  static LazyFile open(const std::string& path);
  const std::string& path() const { return path_; }
  const Header& header() const { return header_; }
  bool has(const std::string& name) const { return header_.tensors.count(name) != 0; }
  Tensor load(const std::string& name) const;

 private:
  std::string path_;
  Header header_;
};

// One line per tensor (dtype, shape, name) in name order, then the metadata.
void print_summary(std::ostream& os, const Header& h);

std::vector<std::uint8_t> serialize(const File& f);
// Writes to path + ".partial" then renames, so a reader never sees half a file.
void write(const std::string& path, const File& f);

// Typed views for the numerics. Float conversions accept F32, F16, BF16 and F64; integer ones
// the matching integer dtypes. A 2-D shape is required for matrices; errors name the tensor.
MatrixF to_matrix_f32(const Tensor& t, const std::string& name, const std::string& source);
Tensor from_matrix(const MatrixF& m);
Tensor from_matrix(const MatrixH& m);             // F16
Tensor from_matrix(const MatrixI8& m);            // I8
Tensor from_matrix(const MatrixU8& m);            // U8
Tensor from_matrix(const MatrixI32& m);           // I32
Tensor from_vector(const std::vector<float>& v);  // F32, 1-D

}  // namespace quasar::safetensors
