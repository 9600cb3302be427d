#include "kernels.hpp"

#include <cstdlib>
#include <string>

#include "numerics/error.hpp"

namespace quasar::cpu {

std::string_view isa_name(KernelIsa isa) {
  switch (isa) {
    case KernelIsa::portable:
      return "portable";
    case KernelIsa::avx2:
      return "avx2";
    case KernelIsa::avx512_vnni:
      return "avx512-vnni";
  }
  return "?";
}

bool isa_supported(KernelIsa isa) {
#ifdef QUASAR_CPU_X86
  // libgcc's CPU probe also checks that the OS saves the AVX/AVX-512 registers (XGETBV).
  __builtin_cpu_init();
  switch (isa) {
    case KernelIsa::portable:
      return true;
    case KernelIsa::avx2:
      return __builtin_cpu_supports("avx2");
    case KernelIsa::avx512_vnni:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni") && __builtin_cpu_supports("f16c");
  }
  return false;
#else
  return isa == KernelIsa::portable;
#endif
}

const KernelSet& kernels(KernelIsa isa) {
  if (!isa_supported(isa)) {
    throw Error("fast CPU kernels '" + std::string(isa_name(isa)) +
                "': this CPU does not support them");
  }
#ifdef QUASAR_CPU_X86
  switch (isa) {
    case KernelIsa::avx512_vnni:
      return detail::avx512_vnni_kernels();
    case KernelIsa::avx2:
      return detail::avx2_kernels();
    case KernelIsa::portable:
      break;
  }
#endif
  return detail::portable_kernels();
}

KernelIsa best_isa() {
  KernelIsa best = KernelIsa::portable;
  for (KernelIsa i : {KernelIsa::avx2, KernelIsa::avx512_vnni})
    if (isa_supported(i)) best = i;
  if (const char* env = std::getenv("QUASAR_CPU_ISA")) {
    const std::string v = env;
    KernelIsa want;
    if (v == "portable") {
      want = KernelIsa::portable;
    } else if (v == "avx2") {
      want = KernelIsa::avx2;
    } else if (v == "avx512-vnni") {
      want = KernelIsa::avx512_vnni;
    } else {
      throw Error("QUASAR_CPU_ISA='" + v + "'; accepted: portable, avx2, avx512-vnni");
    }
    if (!isa_supported(want)) throw Error("QUASAR_CPU_ISA=" + v + ": this CPU does not support it");
    best = want;
  }
  return best;
}

}  // namespace quasar::cpu
