// A data-bearing record's tensors read from the payload by role, each checked against the dtype
// and shape the record implies; every error names the payload, the record, the tensor and its
// role. Shared by the GEMM layers (layer_data.cpp) and the non-GEMM records (op_data.cpp).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "numerics/error.hpp"
#include "numerics/matrix.hpp"
#include "trace/safetensors.hpp"
#include "trace/trace.hpp"

namespace quasar::trace {

class TensorLoader {
 public:
  using DType = safetensors::DType;
  using Tensor = safetensors::Tensor;

  TensorLoader(const Layer& l, const safetensors::File& f, const std::string& source)
      : layer_(l), file_(f), source_(source) {}

  bool has(const std::string& role) const { return layer_.tensors.count(role) != 0; }

  // The role's tensor, unchecked (for a shape that the tensor itself decides, e.g. the number of
  // kv-heads of a cache); it must exist in the payload.
  const Tensor& raw(const std::string& role) const {
    return file_.get(layer_.tensors.at(role), source_);
  }

  const Tensor& get(const std::string& role, DType dtype,
                    const std::vector<std::int64_t>& shape) const {
    const std::string& name = layer_.tensors.at(role);
    const Tensor& t = file_.get(name, source_);
    if (t.dtype != dtype) {
      fail(role, "has dtype " + std::string(safetensors::dtype_name(t.dtype)) + ", expected " +
                     std::string(safetensors::dtype_name(dtype)));
    }
    if (t.shape != shape) fail(role, "has shape " + str(t.shape) + ", expected " + str(shape));
    return t;
  }

  template <class T>
  Matrix<T> matrix(const std::string& role, DType dtype, std::uint64_t rows,
                   std::uint64_t cols) const {
    const Tensor& t =
        get(role, dtype, {static_cast<std::int64_t>(rows), static_cast<std::int64_t>(cols)});
    Matrix<T> m(rows, cols);
    if (!t.bytes.empty()) std::memcpy(m.values().data(), t.bytes.data(), t.bytes.size());
    return m;
  }

  // The values of a tensor of any shape, checked against `shape`.
  template <class T>
  std::vector<T> values(const std::string& role, DType dtype,
                        const std::vector<std::int64_t>& shape) const {
    const Tensor& t = get(role, dtype, shape);
    std::vector<T> v(t.bytes.size() / sizeof(T));
    if (!t.bytes.empty()) std::memcpy(v.data(), t.bytes.data(), t.bytes.size());
    return v;
  }

  std::vector<float> vector(const std::string& role, std::uint64_t size) const {
    return values<float>(role, DType::F32, {static_cast<std::int64_t>(size)});
  }

  // A per-channel or per-group scale matrix whose row count is N, or 1 for per tensor.
  std::uint64_t scale_rows(const std::string& role) const {
    const Tensor& t = raw(role);
    return t.shape.size() == 2 && t.shape[0] == 1 ? 1 : layer_.n;
  }

  [[noreturn]] void fail(const std::string& role, const std::string& what) const {
    throw Error(source_ + ": layer '" + layer_.name + "': tensor '" + layer_.tensors.at(role) +
                "' (role " + role + ") " + what);
  }

  static std::string str(const std::vector<std::int64_t>& s) {
    std::string out = "[";
    for (std::size_t i = 0; i < s.size(); ++i) out += (i ? ", " : "") + std::to_string(s[i]);
    return out + "]";
  }

 private:
  const Layer& layer_;
  const safetensors::File& file_;
  const std::string& source_;
};

}  // namespace quasar::trace
