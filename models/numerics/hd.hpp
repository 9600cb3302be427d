// QUASAR_HD marks the few numerics functions that CUDA device code calls too (fp16 conversion,
// fixed-width wraps), so the GPU path runs the very same bit-level code as the reference.
#pragma once

#if defined(__CUDACC__)
#define QUASAR_HD __host__ __device__
#else
#define QUASAR_HD
#endif
