#include "vector_engine.hpp"

#include <memory>
#include <mutex>

#include "numerics/error.hpp"

#ifdef QUASAR_HAVE_CUDA
#include "cuda_vector_ops.hpp"
#endif

namespace quasar {

double last_gpu_vector_kernel_ms() {
#ifdef QUASAR_HAVE_CUDA
  return gpu::last_vector_kernel_ms();
#else
  return 0.0;
#endif
}

VectorEngineChoice choose_vector_engine(DeviceChoice choice) {
  if (choice == DeviceChoice::cpu) return {&cpu_vector_engine(), "device: cpu (reference)"};
  bool usable = false;
  const std::string status = gpu_status(usable);
  if (!usable) {
    if (choice == DeviceChoice::gpu) throw Error("--device gpu: " + status);
    return {&cpu_vector_engine(), "device: cpu (fallback: " + status + ")"};
  }
#ifdef QUASAR_HAVE_CUDA
  static std::once_flag once;
  static std::unique_ptr<VectorEngine> engine;
  std::call_once(once, [] { engine = gpu::make_cuda_vector_engine(); });
  return {engine.get(), "device: gpu, " + status};
#else
  return {&cpu_vector_engine(), "device: cpu"};
#endif
}

}  // namespace quasar
