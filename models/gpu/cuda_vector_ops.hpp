// Entry points of the CUDA vector-operations translation unit (vector_ops.cu, built only when
// nvcc is found). Callers go through vector_engine.hpp.
#pragma once

#include <memory>

#include "vector_engine.hpp"

namespace quasar::gpu {

std::unique_ptr<VectorEngine> make_cuda_vector_engine();
// Kernel time of this thread's last vector operation, in ms (0 if none).
double last_vector_kernel_ms();

}  // namespace quasar::gpu
