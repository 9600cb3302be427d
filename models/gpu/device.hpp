// Which engine runs the GEMMs: the CUDA path when a GPU is usable, else the CPU (models/cpu's
// fast engine, or the reference with QUASAR_CPU_ENGINE=reference).
// This part builds with or without CUDA, so every caller has the same interface everywhere.
#pragma once

#include <string>

#include "numerics/engine.hpp"

namespace quasar {

enum class DeviceChoice { automatic, gpu, cpu };

struct EngineChoice {
  const GemmEngine* engine = nullptr;
  std::string note;  // what was chosen and, for a fallback, why (to say once to the user)
};

// automatic: the GPU when usable, else the CPU with a note saying why; gpu: the GPU, or
// quasar::Error saying why it cannot be used; cpu: the CPU. The CPU engine is
// cpu::default_cpu_engine(): the fast kernels, or the reference under
// QUASAR_CPU_ENGINE=reference; the note names it.
EngineChoice choose_engine(DeviceChoice choice);

// Milliseconds the last integer-GEMM kernel of this thread ran on the GPU (kernel only, no
// transfers); 0 without CUDA or before any GPU GEMM. For benchmarks.
double last_gpu_kernel_ms();
// The kernel of this thread's last integer or block-scaled GEMM on the GPU: "tensor cores"
// (mma.sync), "simple" (the CUDA-core kernel, where the tensor-core path does not apply or
// QUASAR_GPU_KERNELS=simple) or "none" (no GPU GEMM yet, an empty output, or no CUDA).
std::string last_gpu_int_kernel();

// "NVIDIA H100 ... (sm_90, ...)" or the reason no GPU can be used.
std::string gpu_status(bool& usable);

}  // namespace quasar
