// Writes the safetensors inputs the CLI tests feed to `quasar gemm --input`: one valid file
// and one per kind of bad input. Built with the project's own writer for valid framing; the
// malformed-framing case is written byte by byte.
#include <cmath>
#include <fstream>
#include <iostream>
#include <string>

#include "numerics/float_formats.hpp"
#include "trace/safetensors.hpp"

using namespace quasar;

namespace {

MatrixF ramp(std::size_t r, std::size_t c, float step) {
  MatrixF m(r, c);
  for (std::size_t i = 0; i < m.size(); ++i) {
    m.values()[i] = step * static_cast<float>(static_cast<int>(i % 7) - 3);
  }
  return m;
}

void put(const std::string& dir, const std::string& name, const MatrixF& x, const MatrixF& w) {
  safetensors::File f;
  f.tensors["x"] = safetensors::from_matrix(x);
  f.tensors["w"] = safetensors::from_matrix(w);
  safetensors::write(dir + "/" + name, f);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_inputs DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  const MatrixF x = ramp(4, 256, 0.5f), w = ramp(3, 256, 0.01f);
  put(dir, "good.safetensors", x, w);

  MatrixF nan_x = x;
  nan_x(2, 5) = NAN;
  put(dir, "nan.safetensors", nan_x, w);
  put(dir, "mismatch.safetensors", x, ramp(3, 128, 0.01f));

  safetensors::File only_x;
  only_x.tensors["x"] = safetensors::from_matrix(x);
  safetensors::write(dir + "/missing_w.safetensors", only_x);

  safetensors::File int_x;
  int_x.tensors["x"] = safetensors::from_matrix(MatrixI8(4, 256));
  int_x.tensors["w"] = safetensors::from_matrix(w);
  safetensors::write(dir + "/int_x.safetensors", int_x);

  MatrixH xh(4, 256);
  for (std::size_t i = 0; i < xh.size(); ++i) xh.values()[i] = f32_to_f16(x.values()[i]);
  safetensors::File half;
  half.tensors["x"] = safetensors::from_matrix(xh);
  half.tensors["w"] = safetensors::from_matrix(w);
  safetensors::write(dir + "/half.safetensors", half);

  // Header claims 4096 bytes of JSON in a 20-byte file.
  std::ofstream t(dir + "/truncated.safetensors", std::ios::binary);
  const unsigned char len[8] = {0x00, 0x10, 0, 0, 0, 0, 0, 0};
  t.write(reinterpret_cast<const char*>(len), 8);
  t << "{\"x\":{\"dtyp";
  return 0;
}
