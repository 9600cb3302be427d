// A dense row-major matrix: the only tensor container the numerics need (GEMM operands are
// 2-D; per-group and per-channel parameters are 2-D or vectors).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quasar {

template <class T>
class Matrix {
 public:
  Matrix() = default;
  Matrix(std::size_t rows, std::size_t cols, T fill = T{})
      : rows_(rows), cols_(cols), data_(rows * cols, fill) {}

  std::size_t rows() const { return rows_; }
  std::size_t cols() const { return cols_; }
  std::size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }

  T& operator()(std::size_t r, std::size_t c) { return data_[r * cols_ + c]; }
  const T& operator()(std::size_t r, std::size_t c) const { return data_[r * cols_ + c]; }
  T* row(std::size_t r) { return data_.data() + r * cols_; }
  const T* row(std::size_t r) const { return data_.data() + r * cols_; }

  std::vector<T>& values() { return data_; }
  const std::vector<T>& values() const { return data_; }

  bool operator==(const Matrix& o) const {
    return rows_ == o.rows_ && cols_ == o.cols_ && data_ == o.data_;
  }
  bool operator!=(const Matrix& o) const { return !(*this == o); }

 private:
  std::size_t rows_ = 0;
  std::size_t cols_ = 0;
  std::vector<T> data_;
};

using MatrixF = Matrix<float>;
using MatrixI8 = Matrix<std::int8_t>;
using MatrixU8 = Matrix<std::uint8_t>;
using MatrixI32 = Matrix<std::int32_t>;
// IEEE binary16 values kept as their 16-bit codes, so no host half type is needed.
using MatrixH = Matrix<std::uint16_t>;

}  // namespace quasar
