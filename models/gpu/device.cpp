#include "device.hpp"

#include <memory>
#include <mutex>

#include "cpu/fast_engine.hpp"
#include "numerics/error.hpp"

#ifdef QUASAR_HAVE_CUDA
#include "cuda_engine.hpp"
#endif

namespace quasar {

std::string gpu_status(bool& usable) {
#ifdef QUASAR_HAVE_CUDA
  std::string description;
  usable = gpu::cuda_usable(description);
  return description;
#else
  usable = false;
  return "quasar was built without CUDA (no nvcc at configure time)";
#endif
}

double last_gpu_kernel_ms() {
#ifdef QUASAR_HAVE_CUDA
  return gpu::last_kernel_ms();
#else
  return 0.0;
#endif
}

std::string last_gpu_int_kernel() {
#ifdef QUASAR_HAVE_CUDA
  return gpu::last_int_kernel();
#else
  return "none";
#endif
}

EngineChoice choose_engine(DeviceChoice choice) {
  // The CPU runs the fast kernels (models/cpu, bit-exact with the reference) unless
  // QUASAR_CPU_ENGINE=reference asks for the reference itself.
  std::string cpu_note;
  if (choice == DeviceChoice::cpu) {
    const GemmEngine& cpu = cpu::default_cpu_engine(cpu_note);
    return {&cpu, "device: cpu, " + cpu_note};
  }
  bool usable = false;
  const std::string status = gpu_status(usable);
  if (!usable) {
    if (choice == DeviceChoice::gpu) throw Error("--device gpu: " + status);
    const GemmEngine& cpu = cpu::default_cpu_engine(cpu_note);
    return {&cpu, "device: cpu (fallback: " + status + "), " + cpu_note};
  }
#ifdef QUASAR_HAVE_CUDA
  // One engine per process: it holds the dint4 tables in constant memory.
  static std::once_flag once;
  static std::unique_ptr<GemmEngine> engine;
  std::call_once(once, [] { engine = gpu::make_cuda_engine(); });
  return {engine.get(), "device: gpu, " + status};
#else
  const GemmEngine& cpu = cpu::default_cpu_engine(cpu_note);
  return {&cpu, "device: cpu, " + cpu_note};
#endif
}

}  // namespace quasar
