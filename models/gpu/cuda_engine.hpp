// Entry points of the CUDA translation unit (built only when nvcc is found).
#pragma once

#include <memory>
#include <string>

#include "numerics/engine.hpp"

namespace quasar::gpu {

// True when the CUDA runtime finds a device; `description` names it, or says why not.
bool cuda_usable(std::string& description);
std::unique_ptr<GemmEngine> make_cuda_engine();
// Kernel time of this thread's last integer-GEMM launch, in ms (0 if none); for a block-scaled
// GEMM, its decode, scale-count and GEMM kernels together (no transfers, no host checks).
double last_kernel_ms();
// Which kernel ran this thread's last integer GEMM: "tensor cores", "simple" (int_gemm) or
// "none" (an empty output).
const char* last_int_kernel();

}  // namespace quasar::gpu
