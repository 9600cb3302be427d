#include "safetensors.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>

#include "io/input_file.hpp"
#include "io/output_file.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"

namespace quasar::safetensors {
namespace {

struct DTypeInfo {
  DType dtype;
  std::string_view name;
  std::size_t size;
};

constexpr std::array<DTypeInfo, 15> kDTypes{{
    {DType::BOOL, "BOOL", 1},
    {DType::U8, "U8", 1},
    {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},
    {DType::U16, "U16", 2},
    {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2},
    {DType::I32, "I32", 4},
    {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},
    {DType::F64, "F64", 8},
    {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
    {DType::F8_E5M2, "F8_E5M2", 1},
    {DType::F8_E4M3, "F8_E4M3", 1},
}};

const DTypeInfo& info(DType d) {
  for (const auto& i : kDTypes) {
    if (i.dtype == d) return i;
  }
  return kDTypes[0];
}

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw Error(source + ": " + what);
}

std::uint64_t checked_numel(const std::vector<std::int64_t>& shape, const std::string& source,
                            const std::string& name) {
  std::uint64_t n = 1;
  for (std::int64_t d : shape) {
    if (d < 0) fail(source, "tensor '" + name + "': negative dimension in shape");
    const auto ud = static_cast<std::uint64_t>(d);
    if (ud != 0 && n > std::numeric_limits<std::uint64_t>::max() / ud) {
      fail(source, "tensor '" + name + "': shape has too many elements");
    }
    n *= ud;
  }
  return n;
}

// Rejects duplicate keys, which nlohmann::json would otherwise silently merge.
nlohmann::json parse_header_json(const std::string& text, const std::string& source) {
  std::vector<std::set<std::string>> keys_at_depth;
  std::string duplicate;
  auto cb = [&](int depth, nlohmann::json::parse_event_t ev, nlohmann::json& parsed) {
    const auto d = static_cast<std::size_t>(depth);
    if (ev == nlohmann::json::parse_event_t::object_start) {
      if (keys_at_depth.size() <= d + 1) keys_at_depth.resize(d + 2);
      keys_at_depth[d + 1].clear();
    } else if (ev == nlohmann::json::parse_event_t::key) {
      if (keys_at_depth.size() <= d) keys_at_depth.resize(d + 1);
      if (!keys_at_depth[d].insert(parsed.get<std::string>()).second && duplicate.empty()) {
        duplicate = parsed.get<std::string>();
      }
    }
    return true;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text, cb);
  } catch (const nlohmann::json::exception& e) {
    fail(source, std::string("header is not valid JSON: ") + e.what());
  }
  if (!duplicate.empty()) fail(source, "header repeats the key '" + duplicate + "'");
  return j;
}

}  // namespace

std::string_view dtype_name(DType d) { return info(d).name; }
std::size_t dtype_size(DType d) { return info(d).size; }

std::string accepted_dtypes() {
  std::string s;
  for (const auto& i : kDTypes) s += (s.empty() ? "" : ", ") + std::string(i.name);
  return s;
}

std::size_t Tensor::numel() const {
  std::size_t n = 1;
  for (std::int64_t d : shape) n *= static_cast<std::size_t>(d);
  return n;
}

const Tensor& File::get(const std::string& name, const std::string& source) const {
  const auto it = tensors.find(name);
  if (it == tensors.end()) {
    std::string have;
    for (const auto& kv : tensors) have += (have.empty() ? "" : ", ") + kv.first;
    fail(source,
         "tensor '" + name + "' is missing (the file has: " + (have.empty() ? "none" : have) + ")");
  }
  return it->second;
}

std::uint64_t header_length(const std::uint8_t* first8, std::uint64_t file_size,
                            const std::string& source) {
  if (file_size < 8) {
    fail(source,
         "file is " + std::to_string(file_size) + " bytes, shorter than the 8-byte header length");
  }
  std::uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | first8[i];
  if (header_len > kMaxHeaderBytes) {
    fail(source,
         "header length " + std::to_string(header_len) + " exceeds the 100,000,000-byte limit");
  }
  if (header_len > file_size - 8) {
    fail(source, "header length " + std::to_string(header_len) + " runs past the end of the " +
                     std::to_string(file_size) + "-byte file");
  }
  return header_len;
}

Header parse_header(const std::string& text, std::uint64_t file_size, const std::string& source) {
  if (text.size() < 2 || text[0] != '{') fail(source, "header does not start with '{'");
  const nlohmann::json j = parse_header_json(text, source);
  if (!j.is_object()) fail(source, "header is not a JSON object");

  Header h;
  h.buffer_begin = 8 + text.size();
  const std::uint64_t buffer_size = file_size - h.buffer_begin;
  struct Span {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  for (const auto& [name, entry] : j.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) fail(source, "__metadata__ must be an object of strings");
      for (const auto& [k, v] : entry.items()) {
        if (!v.is_string()) fail(source, "__metadata__ key '" + k + "' is not a string");
        h.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    const std::string where = "tensor '" + name + "'";
    if (!entry.is_object()) fail(source, where + ": entry is not an object");
    for (const auto& [k, v] : entry.items()) {
      (void)v;
      if (k != "dtype" && k != "shape" && k != "data_offsets") {
        fail(source, where + ": unknown key '" + k + "' (accepted: dtype, shape, data_offsets)");
      }
    }
    if (!entry.contains("dtype") || !entry["dtype"].is_string()) {
      fail(source, where + ": missing string 'dtype'");
    }
    const std::string dt = entry["dtype"].get<std::string>();
    const auto it = std::find_if(kDTypes.begin(), kDTypes.end(),
                                 [&](const DTypeInfo& i) { return i.name == dt; });
    if (it == kDTypes.end()) {
      fail(source, where + ": unknown dtype '" + dt + "' (accepted: " + accepted_dtypes() + ")");
    }
    if (!entry.contains("shape") || !entry["shape"].is_array()) {
      fail(source, where + ": missing array 'shape'");
    }
    TensorInfo t;
    t.dtype = it->dtype;
    for (const auto& d : entry["shape"]) {
      if (!d.is_number_integer()) fail(source, where + ": shape entries must be integers");
      t.shape.push_back(d.get<std::int64_t>());
    }
    const std::uint64_t numel = checked_numel(t.shape, source, name);
    const auto& off = entry.contains("data_offsets") ? entry["data_offsets"] : nlohmann::json();
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned()) {
      fail(source, where + ": 'data_offsets' must be [begin, end] of non-negative integers");
    }
    t.begin = off[0].get<std::uint64_t>();
    t.end = off[1].get<std::uint64_t>();
    if (t.end < t.begin) fail(source, where + ": data_offsets end < begin");
    if (numel > std::numeric_limits<std::uint64_t>::max() / it->size ||
        t.end - t.begin != numel * it->size) {
      fail(source, where + ": data_offsets span " + std::to_string(t.end - t.begin) +
                       " bytes, but shape and dtype need " + std::to_string(numel) + " x " +
                       std::to_string(it->size) + " bytes");
    }
    if (t.end > buffer_size) {
      fail(source, where + ": data_offsets end " + std::to_string(t.end) +
                       " is beyond the data buffer of " + std::to_string(buffer_size) + " bytes");
    }
    spans.push_back({t.begin, t.end, name});
    h.tensors.emplace(name, std::move(t));
  }
  // The tensors must tile the buffer: no holes, no overlaps, nothing after the last one.
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  std::uint64_t cursor = 0;
  for (const Span& sp : spans) {
    if (sp.begin < cursor)
      fail(source, "tensor '" + sp.name + "' overlaps the previous tensor's data");
    if (sp.begin > cursor) {
      fail(source, "tensor '" + sp.name + "' starts at " + std::to_string(sp.begin) +
                       ", leaving a hole after byte " + std::to_string(cursor));
    }
    cursor = sp.end;
  }
  if (cursor != buffer_size) {
    fail(source, "data buffer is " + std::to_string(buffer_size) + " bytes but the tensors cover " +
                     std::to_string(cursor) + " (trailing or missing bytes)");
  }
  return h;
}

File parse(const std::vector<std::uint8_t>& image, const std::string& source) {
  const std::uint64_t header_len = header_length(image.data(), image.size(), source);
  const std::string text(reinterpret_cast<const char*>(image.data()) + 8, header_len);
  Header h = parse_header(text, image.size(), source);
  File file;
  file.metadata = std::move(h.metadata);
  for (auto& [name, info] : h.tensors) {
    Tensor t;
    t.dtype = info.dtype;
    t.shape = std::move(info.shape);
    const auto at = static_cast<std::ptrdiff_t>(h.buffer_begin);
    t.bytes.assign(image.begin() + at + static_cast<std::ptrdiff_t>(info.begin),
                   image.begin() + at + static_cast<std::ptrdiff_t>(info.end));
    file.tensors.emplace(name, std::move(t));
  }
  return file;
}

LazyFile LazyFile::open(const std::string& path) {
  LazyFile f;
  f.path_ = path;
  // Checkpoints are read lazily, a tensor at a time, so only the header's size is bounded here
  // (kMaxHeaderBytes); each tensor's bytes are checked against the file's size.
  const io::InputFile in(path, "safetensors file");
  const std::uint64_t size = in.size();
  std::uint8_t first8[8] = {};
  if (size >= 8) in.read_at(0, first8, 8);
  const std::uint64_t header_len = header_length(first8, size, path);
  std::string text(header_len, '\0');
  in.read_at(8, text.data(), header_len);
  f.header_ = parse_header(text, size, path);
  return f;
}

Tensor LazyFile::load(const std::string& name) const {
  const auto it = header_.tensors.find(name);
  if (it == header_.tensors.end()) fail(path_, "tensor '" + name + "' is missing");
  const TensorInfo& info = it->second;
  Tensor t;
  t.dtype = info.dtype;
  t.shape = info.shape;
  t.bytes.resize(info.end - info.begin);
  const io::InputFile in(path_, "safetensors file");
  if (in.size() < header_.buffer_begin + info.end)
    fail(path_, "tensor '" + name + "': could not read its bytes (file changed or truncated?)");
  in.read_at(header_.buffer_begin + info.begin, t.bytes.data(), t.bytes.size());
  return t;
}

File read(const std::string& path) {
  return parse(io::read_binary_file(path, "safetensors file"), path);
}

std::vector<std::uint8_t> serialize(const File& f) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!f.metadata.empty()) {
    nlohmann::ordered_json meta = nlohmann::ordered_json::object();
    for (const auto& [k, v] : f.metadata) meta[k] = v;
    header["__metadata__"] = meta;
  }
  std::uint64_t offset = 0;
  for (const auto& [name, t] : f.tensors) {
    if (t.bytes.size() != t.numel() * dtype_size(t.dtype)) {
      throw Error("safetensors writer: tensor '" + name + "' holds " +
                  std::to_string(t.bytes.size()) + " bytes, its shape and dtype need " +
                  std::to_string(t.numel() * dtype_size(t.dtype)));
    }
    header[name] = {{"dtype", std::string(dtype_name(t.dtype))},
                    {"shape", t.shape},
                    {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // pad so the buffer starts 8-byte aligned
  std::size_t total = 8 + text.size();
  for (const auto& kv : f.tensors) total += kv.second.bytes.size();
  // Filled by memcpy into a presized buffer (GCC 12 warns falsely on growing inserts here).
  std::vector<std::uint8_t> out(total);
  const std::uint64_t n = text.size();
  for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(n >> (8 * i));
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::size_t pos = 8 + text.size();
  for (const auto& kv : f.tensors) {
    if (!kv.second.bytes.empty())
      std::memcpy(out.data() + pos, kv.second.bytes.data(), kv.second.bytes.size());
    pos += kv.second.bytes.size();
  }
  return out;
}

void write(const std::string& path, const File& f) {
  const std::vector<std::uint8_t> image = serialize(f);
  io::write_file(path, std::string(image.begin(), image.end()));
}

void print_summary(std::ostream& os, const Header& f) {
  for (const auto& [name, t] : f.tensors) {
    std::string shape;
    for (std::int64_t d : t.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    std::string dt(dtype_name(t.dtype));
    dt.resize(std::max<std::size_t>(dt.size(), 8), ' ');
    std::string sh = "[" + shape + "]";
    sh.resize(std::max<std::size_t>(sh.size(), 14), ' ');
    os << dt << " " << sh << " " << name << "\n";
  }
  for (const auto& [k, v] : f.metadata) os << "metadata " << k << " = " << v << "\n";
}

namespace {

template <class T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // little-endian host (x86-64, aarch64)
  return v;
}

template <class T>
Tensor pack(const std::vector<T>& values, std::vector<std::int64_t> shape, DType dtype) {
  Tensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  t.bytes.resize(values.size() * sizeof(T));
  if (!values.empty()) std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

template <class T>
std::vector<std::int64_t> shape2(const Matrix<T>& m) {
  return {static_cast<std::int64_t>(m.rows()), static_cast<std::int64_t>(m.cols())};
}

}  // namespace

MatrixF to_matrix_f32(const Tensor& t, const std::string& name, const std::string& source) {
  if (t.shape.size() != 2) {
    fail(source, "tensor '" + name + "' has " + std::to_string(t.shape.size()) +
                     " dimensions; a 2-D matrix is required");
  }
  MatrixF m(static_cast<std::size_t>(t.shape[0]), static_cast<std::size_t>(t.shape[1]));
  const std::uint8_t* p = t.bytes.data();
  for (std::size_t i = 0; i < m.size(); ++i) {
    float v;
    switch (t.dtype) {
      case DType::F32:
        v = load<float>(p + 4 * i);
        break;
      case DType::F64:
        v = static_cast<float>(load<double>(p + 8 * i));
        break;
      case DType::F16:
        v = f16_to_f32(load<std::uint16_t>(p + 2 * i));
        break;
      case DType::BF16:
        v = bf16_to_f32(load<std::uint16_t>(p + 2 * i));
        break;
      default:
        fail(source, "tensor '" + name + "' has dtype " + std::string(dtype_name(t.dtype)) +
                         "; accepted for float data: F32, F16, BF16, F64");
    }
    m.values()[i] = v;
  }
  return m;
}

Tensor from_matrix(const MatrixF& m) { return pack(m.values(), shape2(m), DType::F32); }
Tensor from_matrix(const MatrixH& m) { return pack(m.values(), shape2(m), DType::F16); }
Tensor from_matrix(const MatrixI8& m) { return pack(m.values(), shape2(m), DType::I8); }
Tensor from_matrix(const MatrixU8& m) { return pack(m.values(), shape2(m), DType::U8); }
Tensor from_matrix(const MatrixI32& m) { return pack(m.values(), shape2(m), DType::I32); }
Tensor from_vector(const std::vector<float>& v) {
  return pack(v, {static_cast<std::int64_t>(v.size())}, DType::F32);
}

}  // namespace quasar::safetensors
