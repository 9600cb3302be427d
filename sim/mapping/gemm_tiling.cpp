#include "gemm_tiling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "numerics/error.hpp"

namespace quasar::mapping {
namespace {

bool per_group(Scheme s) {
  return s == Scheme::w4a8_fs || s == Scheme::w4a8_is || s == Scheme::w4a16 ||
         s == Scheme::w4a8_dgq || s == Scheme::w4a8_qserve;
}

// Bytes of scale/zero metadata per (group, output channel) pair, and per output channel.
double group_meta_bytes(Scheme s) {
  switch (s) {
    case Scheme::w4a8_fs:
      return 2.0;  // fp16 scale
    case Scheme::w4a8_is:
      return 2.0;  // integer scale (S < 2^16 at alpha = 2^10)
    case Scheme::w4a16:
      return 2.0 + 0.5;  // fp16 scale + uint4 zero
    case Scheme::w4a8_dgq:
      return 1.0 + 0.5;  // int8 S2 + uint4 zero
    case Scheme::w4a8_qserve:
      return 1.0 + 0.5;
    default:
      return 0.0;
  }
}
double channel_meta_bytes(Scheme s) {
  switch (s) {
    case Scheme::w8a8:
    case Scheme::w4a8_dint:
    case Scheme::w4a8_dgq:
    case Scheme::w4a8_qserve:
      return 2.0;  // fp16 per-channel scale
    default:
      return 0.0;
  }
}

std::uint64_t ceil_bytes(double b) { return static_cast<std::uint64_t>(std::ceil(b)); }

}  // namespace

double weight_bytes_per_element(Scheme s) {
  switch (s) {
    case Scheme::fp16:
      return 2.0;
    case Scheme::w8a8:
      return 1.0;
    default:
      return 0.5;  // 4-bit codes, two per byte
  }
}

double activation_bytes_per_element(Scheme s) {
  return s == Scheme::fp16 || s == Scheme::w4a16 ? 2.0 : 1.0;
}

std::uint64_t GemmPlan::macs() const {
  std::uint64_t t = 0;
  for (const Tile& x : tiles) t += x.m * x.rows_used * x.cols_used;
  return t;
}

std::uint64_t GemmPlan::dram_bytes() const {
  std::uint64_t t = materialize_bytes;
  for (const Tile& x : tiles) t += x.weight_bytes + x.act_bytes + x.out_bytes;
  return t;
}

GemmPlan plan_gemm_ws(const arch::ArchSpec& a, const trace::Layer& l) {
  if (!trace::is_gemm(l.op) || !l.scheme) throw Error("layer '" + l.name + "' is not a GEMM");
  const Scheme s = l.scheme->scheme;
  if (std::find(a.schemes.begin(), a.schemes.end(), s) == a.schemes.end()) {
    throw Error("layer '" + l.name + "' uses scheme " + std::string(scheme_name(s)) +
                ", which design '" + a.name + "' does not run");
  }
  GemmPlan p;
  p.layer = l.name;
  p.scheme = s;
  p.instances = l.batch * l.repeat;
  const std::uint64_t R = a.array.rows, C = a.array.cols, M = l.m, K = l.k, N = l.n;
  const std::uint64_t G = per_group(s) ? l.scheme->group_size : K;
  // A column's partial sum cannot mix two groups: with groups shorter than the array, or not a
  // multiple of it, each tile holds whole sub-groups only (rows beyond gcd(R, G) stay idle).
  p.k_tile = per_group(s) ? std::gcd(R, G) : R;
  const bool rescales = s == Scheme::w4a8_fs || s == Scheme::w4a8_is;
  const bool fused_dequant = s == Scheme::w4a16 || s == Scheme::w4a8_qserve ||
                             (s == Scheme::w4a8_dgq && l.scheme->dequant == DequantMode::fused);
  if (s == Scheme::w4a8_dgq && l.scheme->dequant == DequantMode::materialized) {
    p.materialize_bytes = 2 * N * K;  // the int8 copy written once and read back
  }
  const double wb =
      (s == Scheme::w4a8_dgq && p.materialize_bytes) ? 1.0 : weight_bytes_per_element(s);
  const double ab = activation_bytes_per_element(s);
  // fp16 PEs accumulate in fp32: 4 bytes per partial sum either way.
  const std::uint64_t psum_bytes =
      s == Scheme::fp16 || s == Scheme::w4a16 ? 4 : (a.array.acc_bits + 7) / 8;
  // Activations stay resident across n-tiles when all of X fits the ifmap buffer (half of it
  // when double buffered); otherwise every n-tile streams them again.
  const std::uint64_t ifmap_cap =
      a.buffers.ifmap.double_buffered ? a.buffers.ifmap.size_bytes / 2 : a.buffers.ifmap.size_bytes;
  const bool x_resident = ceil_bytes(static_cast<double>(M * K) * ab) <= ifmap_cap;
  for (std::uint64_t n0 = 0; n0 < N; n0 += C) {
    const std::uint64_t nc = std::min(C, N - n0);
    for (std::uint64_t k0 = 0; k0 < K; k0 += p.k_tile) {
      Tile t;
      t.n0 = n0, t.cols_used = nc, t.k0 = k0, t.rows_used = std::min(p.k_tile, K - k0), t.m = M;
      t.first_k = k0 == 0;
      t.last_k = k0 + t.rows_used >= K;
      double w = static_cast<double>(t.rows_used * nc) * wb;
      const bool group_starts = per_group(s) && k0 % G == 0;
      if (group_starts) w += static_cast<double>(nc) * group_meta_bytes(s);
      if (t.first_k) w += static_cast<double>(nc) * channel_meta_bytes(s);
      t.weight_bytes = ceil_bytes(w);
      t.act_bytes =
          (x_resident && n0 > 0) ? 0 : ceil_bytes(static_cast<double>(M * t.rows_used) * ab);
      if (t.first_k && (!x_resident || n0 == 0) && ab == 1.0)
        t.act_bytes += M * 4;  // per-token fp32 scales
      if (fused_dequant) t.dequant_ops = t.rows_used * nc;
      if (rescales && (k0 + t.rows_used) % G == 0) t.rescale_ops = M * nc;
      t.rescale_int = s == Scheme::w4a8_is;
      t.x_bytes_per_token = ceil_bytes(static_cast<double>(t.rows_used) * ab);
      // Partial sums chain from k-tile to k-tile over K, and restart from 0 at each group
      // where groups are rescaled at the edge (w4a8-fs/is); dequantized schemes chain over K.
      const bool chain_starts = t.first_k || (rescales && group_starts);
      t.psum_in_bytes_per_token = chain_starts ? 0 : nc * psum_bytes;
      t.psum_out_bytes_per_token = nc * psum_bytes;
      t.edge_acc_bytes = rescales ? (t.rescale_int ? (a.edge.intscale_acc_bits + 7) / 8 : 4) : 0;
      if (t.last_k) {
        t.out_bytes = M * nc * 2;
        t.epilogue_ops = M * nc;
      }
      p.tiles.push_back(t);
    }
  }
  return p;
}

}  // namespace quasar::mapping
