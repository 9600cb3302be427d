// Does the Verilog compute tile (rtl/tile/tile_ws.v: fetch DMA, buffer slots, a
// weight-stationary or output-stationary array of int8 or dint4 PEs (WS: of one or more register
// stages) with one or two weight (accumulator) banks,
// edge queue with integer-scale and float-scale units and epilogue, write DMA) run a GEMM layer
// in exactly the cycles of the SystemC accelerator model's cycle mode, tile by tile, and compute
// the reference GEMM's outputs bit for bit? (Issue 20.)
//
// One case: a layer of any of the tile's schemes, or a chain of them each reading the one before
// (seeded synthetic operands, quantized per token or per tensor, and per channel, per group or in
// two levels; a later layer's activations are the previous layer's outputs as the RTL wrote
// them, quantized by the harness when the layer's first fetch leaves) on a design of one core or
// several with the tile's parameters (spec_for; several cores: a Verilated tile each, each layer
// split by output channels, optionally an interconnect). sim/mapping plans it (plan_gemm: the
// arch::Tile commands); the SystemC model runs the commands in cycle (and fast) mode with its
// tile log on (SimJob::tile_log); the harness
// writes the same commands, one word per field, into the Verilated tile's command memory, lays
// the operands out in a memory image and serves the tile's memory port cycle by cycle with the
// model's own DRAM rules: arch::DramTiming for each request, the DramController's arbitration
// (requests of one cycle served in round-robin order of requester, fetch = 0 and write = 1, the
// first moving on every cycle that serves anything; completion at the first cycle boundary at
// or after the data is complete, and at least one cycle after the request). Compared, with
// every difference a failure:
//   - total cycles (the model's RunStats::cycles; the RTL's first cycle with `done`), and the
//     cycle each layer closed (the running sum of the model's LayerStats::cycles);
//   - per tile: fetch issued, operands in, start (load), load done, stream start, stream done
//     (slot released), drain done, edge accept, edge finish, write issued, write complete;
//   - the words written into and read from the integer scales' register files, against the
//     model's LayerStats::scale_writes, scale_reads (and intscale_ops);
//   - the integer-scale steps whose sum left 32 bits against the reference's intscale_acc
//     overflow events (two cases at the operands' extremes overflow);
//   - every layer's outputs the tile wrote to memory against the scheme's reference GEMM
//     (gemm_w8a8, gemm_w4a8_is, -fs, -dgq, -qserve, -dint; each layer reading the reference
//     outputs of the one before), bit for bit;
//   - the model's fast mode against its cycle mode (same tile log, same cycles).
// The tile's `error` bits must stay 0 (a command it cannot run is refused, never approximated;
// the array never overwrites a region the edge still reads), and every data beat must arrive
// before its request completes (the harness's check that the data path keeps up with the DRAM
// timing). QUASAR_TILE_DUMP=1 prints every tile's times, model against RTL.
//
// The cases must be plans the tile runs (checked, a failure otherwise): weights fetched with
// every tile or kept resident across m-blocks or OS m-tiles (the tile's resident store),
// activations resident after the first n-tile or fetched again with every n-tile, no spills,
// dequantizers only DGQ's and QServe's.
// The float conversions the epilogue adds are checked alone first (F16ToF32, F32ToF16).
#include <gtest/gtest.h>

#include <Vf16_to_f32.h>
#include <Vf32_to_f16.h>
#include <Vtile_ws_4x4.h>
#include <Vtile_ws_4x4_d1.h>
#include <Vtile_ws_4x4_d1_db.h>
#include <Vtile_ws_4x4_db.h>
#include <Vtile_ws_4x4_port.h>
#include <Vtile_ws_4x4_port_db.h>
#include <Vtile_ws_8x8.h>
#include <Vtile_ws_8x8_db.h>
#include <Vtile_os_4x4.h>
#include <Vtile_os_4x4_db.h>
#include <Vtile_os_4x4_port_db.h>
#include <Vtile_os_8x8_db.h>
#include <Vtile_ws_4x4_dint_db.h>
#include <Vtile_ws_4x4_mx.h>
#include <Vtile_ws_4x4_mx_fix.h>
#include <Vtile_os_4x4_mx.h>
#include <Vtile_ws_4x4_fp4_db.h>
#include <Vtile_os_4x4_fp4x8_db.h>
#include <Vtile_ws_4x4_fp4x8_fix.h>
#include <Vtile_ws_8x8_db_mx.h>
#include <Vtile_ws_4x4_fp4x8_db.h>
#include <Vtile_os_4x4_dint_b.h>
#include <Vtile_ws_4x4_p3.h>
#include <Vtile_ws_8x8_db_p2.h>
#include <verilated.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <ostream>
#include <sstream>
#include <string>
#include <systemc>
#include <type_traits>
#include <vector>

#include "arch/accelerator.hpp"
#include "arch/dram/dram_timing.hpp"
#include "arch/interconnect/interconnect.hpp"
#include "config/arch_config.hpp"
#include "mapping/gemm_tiling.hpp"
#include "mapping/workload.hpp"
#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "numerics/gemm.hpp"
#include "numerics/gemm_block.hpp"
#include "numerics/quantize_activations.hpp"
#include "numerics/quantize_two_level.hpp"
#include "numerics/quantize_weights.hpp"
#include "numerics/synthetic.hpp"
#include "rtl/port_fields.hpp"

namespace quasar::tile {
namespace {

using rtl::get_field;
using rtl::set_field;

// ---- the float conversions alone ----------------------------------------------------------------

std::uint32_t bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
float from_bits(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

TEST(F16ToF32, EveryInput) {
  VerilatedContext ctx;
  Vf16_to_f32 u(&ctx, "u");
  for (std::uint32_t h = 0; h < 65536; ++h) {
    u.h = static_cast<std::uint16_t>(h);
    u.eval();
    ASSERT_EQ(u.f, bits(f16_to_f32(static_cast<std::uint16_t>(h)))) << std::hex << "h 0x" << h;
  }
}

TEST(F32ToF16, BoundariesAndRandom) {
  VerilatedContext ctx;
  Vf32_to_f16 u(&ctx, "u");
  std::uint64_t n = 0;
  auto check = [&](std::uint32_t x) {
    u.f = x;
    u.eval();
    ++n;
    return u.h == f32_to_f16(from_bits(x));
  };
  // Every sign and exponent with fraction patterns around the rounding points of every shift
  // (normal: 13 bits dropped; subnormal: 14 .. 24), then random patterns.
  for (std::uint32_t se = 0; se < 512; ++se) {
    std::vector<std::uint32_t> fr = {0, 1, 0x7fffff, 0x400000, 0x3fffff};
    for (int s = 12; s <= 23; ++s) {
      const std::uint32_t half = 1u << s;
      for (std::uint32_t d : {half - 1, half, half + 1, 2 * half - 1, 3 * half, 3 * half - 1})
        fr.push_back(d & 0x7fffff);
    }
    for (std::uint32_t f : fr) {
      const std::uint32_t x = (se << 23) | f;
      ASSERT_TRUE(check(x)) << std::hex << "f 0x" << x;
    }
  }
  for (std::uint32_t x : {0x477fefffu, 0x477ff000u, 0x38800000u, 0x387fffffu, 0x33000000u,
                          0x33000001u, 0x7f800000u, 0x7f800001u, 0xffc00000u})
    ASSERT_TRUE(check(x)) << std::hex << "f 0x" << x;
  Rng rng(20);
  for (int i = 0; i < (1 << 22); ++i) {
    const auto x = static_cast<std::uint32_t>(rng.next());
    ASSERT_TRUE(check(x)) << std::hex << "f 0x" << x;
  }
  EXPECT_GT(n, std::uint64_t{1} << 22);
}

// ---- the tile --------------------------------------------------------------------------------------

// A Verilated design point: its parameters (tests/tile/CMakeLists.txt's -G arguments).
// units / lat: the epilogue's lanes and latency; is_units / is_lat: the integer-scale
// accumulators'; fs_units / fs_lat: the float-scale units'; wbanks: weight banks (2:
// double-buffered weights); x_bpc, w_bpc, o_bpc: the ifmap, weight and ofmap ports' bytes a
// cycle (the first five points' ports move a tile row a cycle: no port stalls).
struct Variant {
  const char* name;
  int rows, cols, depth, units, lat, beat, wbanks, is_units, is_lat, fs_units, fs_lat;
  int x_bpc = 64, w_bpc = 64, o_bpc = 128;
  bool os = false;  // output-stationary (OS=1; wbanks 2: shadow accumulators)
  int dq_units = 4;  // the fused DGQ dequantizers' lanes (DQ_UNITS; edge.dequant_units)
  // The PEs (PE; array.pe): 0 int8; 3 fp4xfp8 (the block schemes only); 4 fp4 (E2M1 x E2M1:
  // w4a4-mxfp4 and -nvfp4 only); 1 / 2 dint4 with value set A / B (the layers' dint_set), which
  // run w4a8-dint only.
  int pe = 0;
  int pe_stages = 1;  // the PEs' register stages (PE_STAGES; array.pe_stages)
  // Block-scale accumulators (BLK_UNITS, BLK_LAT; edge.block_units, block_latency_cycles, fp32):
  // the points that have them run w8a8-mxint8 besides the int8 schemes.
  int blk_units = 0, blk_lat = 1;
  // NVFP4 lanes beside them (BLK_NV; fp4xfp8 PEs only): the point also runs w4a4-nvfp4.
  bool blk_nv = false;
  // Fixed block accumulators (BLK_FIXED, BLK_FRAC, BLK_ACC; edge.block_acc fixed,
  // block_frac_bits, block_acc_bits): their fraction bits (-1: fp32 accumulators) and bits.
  int blk_frac = -1;
  int blk_acc = 32;
};
constexpr Variant kV4{"4x4", 4, 4, 2, 4, 2, 32, 1, 2, 1, 2, 1};
// (Dequantizer lanes: 4 on the 4 x 4, which keep up with its loads; 3 on the 8 x 8, 1 on the
// 4x4-d1 and 2 on the 4x4-db, which stretch them; 16 on the 8x8-db.)
constexpr Variant kV8{"8x8", 8, 8, 3, 2, 3, 32, 1, 4, 2, 2, 4, 64, 64, 128, false, 3};
constexpr Variant kV4d1{"4x4-d1", 4, 4, 1, 1, 1, 32, 1, 1, 3, 2, 1, 64, 64, 128, false, 1};
// One slot, two weight banks: fetches bind (the next leaves at this tile's stream end).
constexpr Variant kV4d1db{"4x4-d1-db", 4, 4, 1, 2, 1, 32, 2, 2, 2, 1, 1, 64, 64, 128, false, 3};
constexpr Variant kV4db{"4x4-db", 4, 4, 2, 4, 2, 32, 2, 2, 1, 1, 2, 64, 64, 128, false, 2};
constexpr Variant kV8db{"8x8-db", 8, 8, 3, 2, 3, 32, 2, 4, 2, 8, 3, 64, 64, 128, false, 16};
// Port-bound points: ports narrower than a tile row, so streams take bubbles and loads stretch
// (ArrayModel's port rules); odd widths on the double-buffered one, for the rounding.
constexpr Variant kV4p{"4x4-port", 4, 4, 2, 4, 2, 32, 1, 2, 1, 2, 1, 2, 4, 8, false, 2};
constexpr Variant kV4pdb{"4x4-port-db", 4, 4, 2, 4, 2, 32, 2, 2, 1, 1, 2, 3, 3, 12, false, 5};
// Output-stationary points: the 4 x 4 with one accumulator bank and two, the 8 x 8 with two,
// and the double-buffered 4 x 4 with ports of 3 / 2 bytes a cycle (tiles wait for them).
constexpr Variant kV4os{"4x4-os", 4, 4, 2, 4, 2, 32, 1, 2, 1, 2, 1, 64, 64, 128, true};
constexpr Variant kV4osdb{"4x4-os-db", 4, 4, 2, 4, 2, 32, 2, 2, 1, 1, 2, 64, 64, 128, true};
constexpr Variant kV8osdb{"8x8-os-db", 8, 8, 3, 2, 3, 32, 2, 4, 2, 8, 3, 64, 64, 128, true};
constexpr Variant kV4ospdb{"4x4-os-port-db", 4, 4, 2, 4, 2, 32, 2, 2, 1, 1, 2, 3, 2, 12, true};
// dINT points (dint4 PEs, w4a8-dint): weight-stationary with two banks and a 3-byte weight port
// (the nibble-packed loads stretch past ROWS at each n-tile's first k-tile), value set A; and
// output-stationary with one bank, value set B.
constexpr Variant kV4dintdb{"4x4-dint-db", 4, 4, 2, 4, 2, 32, 2, 2, 1, 1, 2, 64, 3, 128, false,
                            4, 1};
constexpr Variant kV4osdintb{"4x4-os-dint-b", 4, 4, 2, 4, 2, 32, 1, 2, 1, 2, 1, 64, 64, 128, true,
                             4, 2};
// Pipelined PEs (array.pe_stages): the 4 x 4 with one bank and three-stage PEs, the 8 x 8 with two
// banks and two-stage PEs (results (L - 1) ROWS cycles later: the model's retimed drain).
constexpr Variant kV4p3{"4x4-p3", 4, 4, 2, 4, 2, 32, 1, 2, 1, 2, 1, 64, 64, 128, false, 4, 0, 3};
constexpr Variant kV8dbp2{"8x8-db-p2", 8, 8, 3, 2, 3, 32, 2, 4, 2, 8, 3, 64, 64, 128, false, 16, 0,
                          2};
// Block-scaled points (w8a8-mxint8 on int8 PEs, its block sums rescaled by mx_fp32_acc lanes):
// the 4 x 4 with one bank and four block lanes of latency 2; the 8 x 8 with two banks and two of
// latency 4.
constexpr Variant kV4mx{"4x4-mx", 4, 4, 2, 4, 2, 32, 1, 2, 1, 2, 1, 64, 64, 128, false, 4, 0, 1,
                        4, 2};
constexpr Variant kV8dbmx{"8x8-db-mx", 8, 8, 3, 2, 3, 32, 2, 4, 2, 8, 3, 64, 64, 128, false, 16,
                          0, 1, 2, 4};
// fp4xfp8 PEs (PE 3: E2M1 weights x E4M3 activations, 4-bit weight registers; the block schemes):
// weight-stationary, two banks, a 2-byte weight port (the loads of a block's first k-tile, codes
// and scales, stretch past ROWS), two block lanes of latency 3.
constexpr Variant kV4fp4db{"4x4-fp4x8-db", 4, 4, 2, 4, 2, 32, 2, 2, 1, 1, 2, 64, 2, 128, false, 4,
                           3, 1, 2, 3, true};
// Fixed block accumulators: int8 PEs with 2 lanes of latency 1, 48 bits (the model's default)
// and 12 fraction bits (w8a8-mxint8), fp4xfp8 PEs with 4 of latency 2, 32 bits and 10 (w4a8-mx,
// w4a4-mxfp4); one bank. (The
// synthetic layers' terms then mostly shift right for MXINT8 and w4a8-mx, which rounds, and left
// for w4a4-mxfp4.)
constexpr Variant kV4mxfix{"4x4-mx-fix", 4, 4, 2, 2, 1, 32, 1, 2, 1, 2, 1, 64, 64, 128, false, 4,
                           0, 1, 2, 1, false, 12, 48};
constexpr Variant kV4fp4fix{"4x4-fp4x8-fix", 4, 4, 2, 4, 2, 32, 1, 2, 1, 2, 1, 64, 64, 128, false,
                            4, 3, 1, 4, 2, false, 10};
// The block schemes on output-stationary arrays (a k-chunk is one block, rescaled as it leaves):
// int8 PEs with one accumulator bank and two lanes of latency 2 (w8a8-mxint8); fp4xfp8 PEs with
// two banks, a 2-byte weight port (a step needs 3: the tiles wait for it) and two lanes of
// latency 1 with NVFP4's beside them (w4a8-mx, w4a4-mxfp4, w4a4-nvfp4).
constexpr Variant kV4osmx{"4x4-os-mx", 4, 4, 2, 4, 2, 32, 1, 2, 1, 2, 1, 64, 64, 128, true, 4, 0,
                          1, 2, 2};
constexpr Variant kV4osfp4db{"4x4-os-fp4x8-db", 4, 4, 2, 4, 2, 32, 2, 2, 1, 1, 2, 64, 2, 128, true,
                             4, 3, 1, 2, 1, true};
// fp4 PEs (PE 4: E2M1 x E2M1, the scheme's own, products in units of 2^-2; the block lanes' u is
// 2): two banks, a 3-byte weight port, two lanes of latency 2 with NVFP4's beside them.
constexpr Variant kV4fp4pedb{"4x4-fp4-db", 4, 4, 2, 4, 2, 32, 2, 2, 1, 1, 2, 64, 3, 128, false, 4,
                             4, 1, 2, 2, true};
constexpr std::uint64_t kMMax = 64, kKtMax = 32, kNtMax = 256, kSlotBytes = 32 * 32;
constexpr std::uint64_t kWres = 16384;  // the resident weight store's bytes (tile_common's WRES)
// A tile's command words: 32 a tile in the command memory, of which the first 28 are read
// (tile_ws.v's field table).
constexpr int kCmdStride = 32, kCmdWords = 30;

struct Dram {
  double gbps = 16;
  std::uint32_t channels = 1, burst = 64;
  double latency_ns = 50, turnaround_ns = 0, trefi_ns = 0, trfc_ns = 0;
};

struct Case {
  std::string name;
  const Variant* v;
  std::uint64_t m, k, n, seed;
  Dram dram;
  Scheme scheme = Scheme::w8a8;  // w8a8, w4a8_is, -fs, -dgq (fused), -qserve, -dint, w8a8_mxint8,
                                 // w4a8_mx
  std::uint64_t group = 0;       // the group schemes: the group size G (divides K; MXINT8: 32)
  int alpha_bits = 10;           // w4a8-is: S = RNE(s 2^alpha_bits)
  // More layers, each reading the previous one's outputs (its K is their N): their N.
  std::vector<std::uint64_t> chain = {};
  // What each of those layers reads (one entry a chain layer; empty: each the layer before): a
  // layer's index (any earlier one; its K is that layer's N), or -1 for none (the layer's own
  // synthetic activations, K = k): an independent layer, which overlaps the ones before it.
  std::vector<int> reads = {};
  // w4a8-is, one layer: operands at the formats' extremes (activations 127, weights +7 on
  // every second channel and -8 on every fourth, integer scales 32767), so that the integer-
  // scale accumulators overflow 32 bits (the reference counts each intscale_acc event).
  bool extreme = false;
  // The ifmap buffer's bytes (0: 64 KiB, which holds every case's activations): a small one
  // makes the plan fetch the activations again with every n-tile.
  std::uint64_t ifmap_bytes = 0;
  // m-blocks (array.ws_order: m_blocked): the tokens in blocks whose activations fit the ifmap
  // buffer, each block's tiles in turn; weight_buffer (0: 64 KiB) small enough that the weights
  // are fetched again with every block (the tile keeps no weights across tiles).
  bool m_blocked = false;
  // Weights resident across m-blocks (WS, m_blocked) or OS m-tiles: a weight buffer that holds
  // the layer's weights (64 KiB; OS cases otherwise get os_weight_buffer), so the plan fetches
  // them with the first block only and the tile keeps them in its resident store.
  bool resident_weights = false;
  // The activations' scales: per token, or one per tensor (act: per-tensor, calibrated on the
  // tensor itself), fetched with the first block's first-k tiles.
  ActQuantMode act = ActQuantMode::per_token;
  // Cores of the design (a Verilated tile each), sharing the DRAM; each layer split by output
  // channels (linear_partition: split_n), a core's share of whole n-tiles.
  std::uint32_t cores = 1;
  bool split_m = false;  // (linear_partition: split_m: each core a share of the tokens instead)
  // The interconnect between the cores and the DRAM (absent with both 0): a latency each way
  // and each core's link bandwidth (bytes a cycle).
  std::uint32_t ic_latency = 0;
  double ic_bpc = 0;
  std::uint64_t weight_buffer = 0;
  // Instances of each layer (repeat): its tiles run this many times, each instance its own
  // chains, activations (another seed's tokens; in a chain, instance i of the layer before's
  // outputs) and outputs, the same weights.
  std::uint64_t instances = 1;
  // The design's clock: 1 GHz (1000 ps a cycle), or one of no integral ps a cycle (the DRAM's
  // times then fall between cycle boundaries by fractions of a ps).
  double clock_mhz = 1000;
};

// The layer layer `l` reads, or -1 (layer 0, and the independent layers of `reads`).
int reads_of(const Case& c, std::size_t l) {
  if (l == 0) return -1;
  if (c.reads.empty()) return static_cast<int>(l) - 1;
  const int r = c.reads.at(l - 1);
  if (r >= static_cast<int>(l) || r < -1) throw Error(c.name + ": a layer reads a later one");
  return r;
}

// The case's layers: (K, N) of each.
std::vector<std::pair<std::uint64_t, std::uint64_t>> layer_shapes(const Case& c) {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> v{{c.k, c.n}};
  for (std::size_t i = 0; i < c.chain.size(); ++i) {
    const int r = reads_of(c, i + 1);
    v.emplace_back(r < 0 ? c.k : v[static_cast<std::size_t>(r)].second, c.chain[i]);
  }
  return v;
}
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

// The block-scaled schemes the tile runs (w8a8-mxint8 on int8 PEs, w4a8-mx on fp4xfp8 PEs).
bool block_scheme(Scheme s) { return block_scaled(traits(s)); }
// A point's dint4 PEs (PE 1 / 2).
bool dint_pe(const Variant* v) { return v->pe == 1 || v->pe == 2; }

// Schemes whose partial sums chain over all of K (an OS k-chunk is K), rather than a group's.
bool whole_k(Scheme s) { return s == Scheme::w8a8 || s == Scheme::w4a8_dint; }
// The code bytes of `codes` weights: one a byte (w8a8) or two (the 4-bit schemes).
std::uint64_t code_bytes(Scheme s, std::uint64_t codes) {
  return s == Scheme::w8a8 || s == Scheme::w8a8_mxint8 ? codes : (codes + 1) / 2;
}

// An output-stationary case's weight buffer: its prefetch depth of its largest weight tile (a
// k-chunk, K or G, of COLS channels with their scales), the least the model accepts, so that the
// weights stay resident across m-tiles only when the whole layer fits that (such plans the tile
// does not run: work_for refuses them).
std::uint64_t os_weight_buffer(const Case& c) {
  const auto cols = static_cast<std::uint64_t>(c.v->cols);
  std::uint64_t most = 0;
  for (const auto& [k, n] : layer_shapes(c)) {
    const std::uint64_t nc = std::min(cols, n);
    const std::uint64_t chunk = whole_k(c.scheme) ? k : c.group;
    // (the chunk's codes and its scales: 2 bytes a channel, 1 for the block schemes' E8M0)
    most = std::max(most, code_bytes(c.scheme, chunk * nc) + (block_scheme(c.scheme) ? 1 : 2) * nc);
  }
  return static_cast<std::uint64_t>(c.v->depth) * most;
}

// The one-core design the tile implements (its buffers hold what the plans need; its ports move
// the variant's bytes a cycle: port stalls on the port-bound points only, checked on the
// model's statistics).
arch::ArchSpec spec_for(const Case& c) {
  arch::ArchSpec a;
  a.name = std::string("tile-") + c.v->name;
  a.clock_mhz = c.clock_mhz;
  a.array.rows = static_cast<std::uint32_t>(c.v->rows);
  a.array.cols = static_cast<std::uint32_t>(c.v->cols);
  a.array.dataflow = c.v->os ? arch::Dataflow::os : arch::Dataflow::ws;
  a.array.pe = dint_pe(c.v)    ? PeKind::dint4
                : c.v->pe == 3 ? PeKind::fp4xfp8
                : c.v->pe == 4 ? PeKind::fp4
                               : PeKind::int8;
  a.array.acc_bits = 32;
  a.array.double_buffer = c.v->wbanks == 2;
  a.array.pe_stages = static_cast<std::uint32_t>(c.v->pe_stages);
  a.array.ws_order = c.m_blocked ? arch::WsOrder::m_blocked : arch::WsOrder::n_outer;
  if (dint_pe(c.v))
    a.schemes = {Scheme::w4a8_dint};
  else if (c.v->pe == 3)
    a.schemes = {Scheme::w4a8_mx, Scheme::w4a4_mxfp4};
  else if (c.v->pe == 4)
    a.schemes = {Scheme::w4a4_mxfp4};
  else
    a.schemes = {Scheme::w8a8, Scheme::w4a8_is, Scheme::w4a8_fs, Scheme::w4a8_dgq,
                 Scheme::w4a8_qserve};
  if (c.v->blk_nv) a.schemes.push_back(Scheme::w4a4_nvfp4);
  if (c.v->blk_units > 0) {
    if (c.v->pe == 0) a.schemes.push_back(Scheme::w8a8_mxint8);
    a.edge.block_units = static_cast<std::uint32_t>(c.v->blk_units);
    a.edge.block_latency_cycles = static_cast<std::uint32_t>(c.v->blk_lat);
    a.edge.block_acc = BlockAcc::fp32;
    if (c.v->blk_frac >= 0) {
      a.edge.block_acc = BlockAcc::fixed;
      a.edge.block_acc_bits = static_cast<std::uint32_t>(c.v->blk_acc);
      a.edge.block_frac_bits = static_cast<std::uint32_t>(c.v->blk_frac);
    }
  }
  a.edge.dequant_units = static_cast<std::uint32_t>(c.v->dq_units);
  a.edge.epilogue_units = static_cast<std::uint32_t>(c.v->units);
  a.edge.epilogue_latency_cycles = static_cast<std::uint32_t>(c.v->lat);
  a.edge.intscale_units = static_cast<std::uint32_t>(c.v->is_units);
  a.edge.intscale_latency_cycles = static_cast<std::uint32_t>(c.v->is_lat);
  a.edge.floatscale_units = static_cast<std::uint32_t>(c.v->fs_units);
  a.edge.floatscale_latency_cycles = static_cast<std::uint32_t>(c.v->fs_lat);
  a.edge.intscale_acc_bits = 32;
  a.buffers.ifmap = {c.ifmap_bytes ? c.ifmap_bytes : 64 * 1024, 1,
                     static_cast<std::uint32_t>(c.v->x_bpc), false};
  // (OS: every m-tile of ROWS tokens is an m-block; os_weight_buffer keeps no weights across
  // them, as the tile does not.)
  a.buffers.weight = {c.weight_buffer                          ? c.weight_buffer
                      : c.v->os && !c.resident_weights ? os_weight_buffer(c)
                                                         : 64 * 1024,
                      1,
                      static_cast<std::uint32_t>(c.v->w_bpc), false};
  a.buffers.ofmap = {256 * 1024, 1, static_cast<std::uint32_t>(c.v->o_bpc), false};
  a.buffers.prefetch_depth = static_cast<std::uint32_t>(c.v->depth);
  a.cores = c.cores;
  a.interconnect.latency_cycles = c.ic_latency;
  a.interconnect.bytes_per_cycle = c.ic_bpc;
  a.linear_partition = c.split_m ? arch::Partition::split_m : arch::Partition::split_n;
  a.dram.standard = "hbm2e";
  a.dram.channels = c.dram.channels;
  a.dram.bandwidth_gbps = c.dram.gbps;
  a.dram.burst_bytes = c.dram.burst;
  a.dram.latency_ns = c.dram.latency_ns;
  a.dram.turnaround_ns = c.dram.turnaround_ns;
  a.dram.trefi_ns = c.dram.trefi_ns;
  a.dram.trfc_ns = c.dram.trfc_ns;
  return a;
}

// Layer `index`'s plan (K x N), checked to be one the tile runs; it reads the layer before it.
// The core's share of it (mapping::core_share, the design's linear partition; *n_share and
// *m_share its N and M).
arch::LayerWork work_for(const arch::ArchSpec& a, const Case& c, std::size_t index,
                         std::uint64_t k, std::uint64_t n, std::uint32_t core = 0,
                         std::uint64_t* n_share = nullptr, std::uint64_t* m_share = nullptr) {
  const bool blk = block_scheme(c.scheme);
  const bool grp = c.scheme == Scheme::w4a8_is || c.scheme == Scheme::w4a8_fs || blk;
  // The two-level schemes: their tiles are dequantized by the tile's fused dequantizers.
  const bool two_level = c.scheme == Scheme::w4a8_dgq || c.scheme == Scheme::w4a8_qserve;
  trace::Layer l;
  l.name = "gemm" + std::to_string(index);
  l.op = trace::Op::linear;
  l.m = c.m, l.k = k, l.n = n;
  l.repeat = c.instances;
  trace::LayerScheme ls;
  ls.scheme = c.scheme;
  if (grp || two_level) {
    if (c.group == 0 || k % c.group != 0) throw Error(c.name + ": G must divide K");
    ls.group_size = c.group;
    if (c.scheme == Scheme::w4a8_is) ls.alpha_bits = c.alpha_bits;
  }
  if (c.scheme == Scheme::w4a8_dgq) ls.dequant = DequantMode::fused;  // (no materialize pass)
  if (c.scheme == Scheme::w4a8_dint) ls.dint_set = c.v->pe == 2 ? DintSet::B : DintSet::A;
  ls.act = c.act;
  // MX layers accumulate as the design's block lanes do (fixed: their bits and fraction).
  if (blk && !traits(c.scheme).e4m3_scales && a.edge.block_acc == BlockAcc::fixed) {
    ls.block_acc = BlockAcc::fixed;
    ls.acc_bits = static_cast<int>(a.edge.block_acc_bits);
    ls.frac_bits = static_cast<int>(a.edge.block_frac_bits);
  }
  l.scheme = ls;
  l = mapping::core_share(a, l, core);
  if (n_share) *n_share = l.n;
  if (m_share) *m_share = l.m;
  mapping::GemmPlan p = mapping::plan_gemm(a, l);
  if (p.instances != c.instances || p.materialize_bytes != 0 || !p.capacity_warning.empty())
    throw Error(c.name + ": the plan has other instances, a materialize pass or spills");
  // m-blocks after the first are stored once and played as runs: the tile gets every played
  // tile's own command.
  if (!p.runs.empty()) {
    std::vector<arch::Tile> played;
    arch::play_tiles(p.tiles, p.runs,
                     [&](const arch::Tile& t, std::uint64_t) { played.push_back(t); });
    p.tiles = played;
    p.runs.clear();
  }
  if (p.tiles.size() > kNtMax) throw Error(c.name + ": more tiles than the tile's NT_MAX");
  const auto k_tiles = static_cast<std::uint64_t>(std::count_if(
      p.tiles.begin(), p.tiles.end(),
      [](const arch::Tile& t) { return t.n0 == 0 && t.m0 == 0; }));
  if (c.m > kMMax || k_tiles > kKtMax) throw Error(c.name + ": beyond the tile's M_MAX or KT_MAX");
  for (const arch::Tile& t : p.tiles) {
    if ((t.m0 != 0 && !c.m_blocked && !c.v->os) || t.spill_read_bytes + t.spill_write_bytes != 0 ||
        (!grp && t.rescale_ops != 0) ||
        (grp && t.rescale_unit != (c.scheme == Scheme::w4a8_is ? ScaleUnit::intscale
                                   : blk                       ? ScaleUnit::block
                                                               : ScaleUnit::floatscale)) ||
        (t.dequant_ops != 0) != two_level || (t.n0 == 0 && t.act_bytes == 0) ||
        t.weight_bytes + t.act_bytes > kSlotBytes)
      throw Error(c.name + ": tile n0 " + std::to_string(t.n0) + " k0 " + std::to_string(t.k0) +
                  " is not one the tile runs (no spills)");
  }
  arch::LayerWork w;
  w.name = l.name;
  w.tiles = p.tiles;
  w.runs = p.runs;
  w.instances = p.instances;
  if (const int r = reads_of(c, index); r >= 0) w.after = {static_cast<std::size_t>(r)};
  return w;
}

struct Operands {
  bool is = false;   // w4a8-is
  bool fs = false;   // w4a8-fs
  bool grp = false;  // either: 4-bit group weights rescaled at the edge
  bool two_level = false;  // w4a8-dgq or -qserve: weights tl, dequantized as tiles load
  bool qs = false;   // w4a8-qserve
  bool dint = false;  // w4a8-dint: dint4 codes (per channel scales), on dint4 PEs
  bool blk = false;   // a block scheme: bx and bw (element codes, E8M0 scales per 32 along K)
  QuantizedActivations x;
  BlockTensor bx, bw;
  QuantizedWeights w;
  TwoLevelWeights tl;                // w4a8-dgq, -qserve
  std::uint64_t dq_overflows = 0;    // its dequantizers' out-of-range events (the reference's)
  IntegerScales s;  // w4a8-is
  MatrixH y;        // the reference output
  std::uint64_t is_overflows = 0;  // its intscale_acc overflow events (fixed blocks: block_acc's)
  std::uint64_t blk_rounds = 0;    // fixed blocks: its block_align_round events
  std::uint64_t invalid_codes = 0;  // w4a8-dint: weights of the set's unused code
};

// The activations a layer reads from the previous one's fp16 outputs: quantized per token (what
// the harness does between the layers, at the moment the next layer's first fetch leaves).
// The block GEMM's options at the case's point: fp32 accumulation, or the fixed lanes' 32 bits
// with their fraction bits (the model's layers get the design's: mapping::design_layer_scheme).
GemmOptions block_options(const Variant* v) {
  GemmOptions opt;
  if (v->blk_frac >= 0) {
    opt.block_acc = BlockAcc::fixed;
    opt.acc_bits = v->blk_acc;
    opt.frac_bits = v->blk_frac;
  }
  return opt;
}

QuantizedActivations quantize_outputs(const MatrixH& y, ActQuantMode mode) {
  MatrixF f(y.rows(), y.cols());
  for (std::size_t m = 0; m < y.rows(); ++m)
    for (std::size_t n = 0; n < y.cols(); ++n) f(m, n) = f16_to_f32(y(m, n));
  return quantize_activations(f, mode);
}

// The same for a block scheme's activations (the scheme's format: MXINT8, MXFP8 or MXFP4, per
// 32 along K).
BlockTensor quantize_block_outputs(const MatrixH& y, Scheme s) {
  MatrixF f(y.rows(), y.cols());
  for (std::size_t m = 0; m < y.rows(); ++m)
    for (std::size_t n = 0; n < y.cols(); ++n) f(m, n) = f16_to_f32(y(m, n));
  return quantize_block_acts(*act_format(s), f, "x");
}

// Seeded synthetic operands of one layer (K x N), quantized per token and per channel (w8a8)
// or per group with integer scales (w4a8-is: int4 RTN with fp16 group scales, then
// S = RNE(s 2^b)); the activations from `prev` (the previous layer's reference outputs) when
// given; y from the scheme's reference GEMM.
// x_seed (not 0): the activations from that seed's synthetic data instead (a layer's other
// instances: the same weights, other tokens).
Operands operands(const Case& c, std::uint64_t k, std::uint64_t n, std::uint64_t seed,
                  const MatrixH* prev, std::uint64_t x_seed = 0) {
  SyntheticSpec s;
  s.m = c.m, s.k = k, s.n = n, s.seed = seed;
  GemmData d = synthetic_llm_gemm(s);
  const MatrixF calib = d.x;  // DGQ's calibration: the first instance's, so W is every instance's
  if (x_seed != 0) {
    s.seed = x_seed;
    d.x = synthetic_llm_gemm(s).x;
  }
  Operands o;
  o.is = c.scheme == Scheme::w4a8_is;
  o.fs = c.scheme == Scheme::w4a8_fs;
  o.grp = o.is || o.fs;
  o.qs = c.scheme == Scheme::w4a8_qserve;
  o.two_level = c.scheme == Scheme::w4a8_dgq || o.qs;
  o.dint = c.scheme == Scheme::w4a8_dint;
  o.blk = block_scheme(c.scheme);
  if (o.blk) {
    // MXINT8 both sides, or MXFP4 weights and MXFP8 (E4M3) activations (spec §5). Extreme: the
    // invalid code -128 (E4M3: the NaN 0x7f) on every fifth activation and (MXINT8) every
    // seventh weight (each worth 0; MXFP4: E2M1's largest magnitude, -6, there), an E8M0 255
    // (NaN: the block adds nothing) on every third weight block of the even channels, the
    // largest scale (254) on the first block of the even tokens and of every fourth channel from
    // the fourth (their terms I 2^242 or so overflow to infinity) and the smallest (0) on every
    // fourth weight block from the second of every fourth channel from the second (terms of
    // 2^-139 or so: subnormal in fp32); the other channels' outputs stay finite. NVFP4 (E4M3
    // scales, whose NaN and negative codes the reference refuses before the GEMM): 0 (the block
    // adds nothing) for the 255s, 448 for the 254s, the smallest subnormal 2^-9 for the 0s; its
    // terms cannot overflow, so the weights' tensor scale is then raised by the power of two
    // that takes about the largest tenth of the outputs beyond fp16 (measured on the reference).
    o.bx = prev ? quantize_block_outputs(*prev, c.scheme)
                : quantize_block_operand(c.scheme, false, d.x, "x");
    const bool mx8 = c.scheme == Scheme::w8a8_mxint8;
    const bool x4 = o.bx.elem == BlockElem::e2m1;  // (E2M1 activations: no invalid code)
    o.bw = quantize_block_operand(c.scheme, true, d.w, "w");
    const bool nv = o.bw.scale == BlockScale::e4m3;
    const std::uint8_t s_none = nv ? 0x00 : 255, s_max = nv ? 0x7e : 254, s_min = nv ? 0x01 : 0;
    if (c.extreme) {
      for (std::size_t m = 0; m < o.bx.codes.rows(); ++m) {
        for (std::size_t kk = 0; kk < o.bx.codes.cols(); ++kk)
          if ((m * o.bx.codes.cols() + kk) % 5 == 0)
            o.bx.codes(m, kk) = mx8 ? 0x80 : x4 ? 0xf : 0x7f;
        if (m % 2 == 0) o.bx.scales(m, 0) = s_max;
      }
      for (std::size_t row = 0; row < o.bw.codes.rows(); ++row) {
        for (std::size_t kk = 0; kk < o.bw.codes.cols(); ++kk)
          if ((row * o.bw.codes.cols() + kk) % 7 == 0) o.bw.codes(row, kk) = mx8 ? 0x80 : 0xf;
        for (std::size_t b = 0; b < o.bw.scales.cols(); ++b) {
          // Fixed accumulators: every block of every fourth channel from the third 2^(bits - 8)
          // larger (terms near 2^(bits - 1): some do not fit the accumulator's bits, some fit
          // and wrap the add).
          if (c.v->blk_frac >= 0 && row % 4 == 2)
            o.bw.scales(row, b) = static_cast<std::uint8_t>(
                std::min(254, o.bw.scales(row, b) + c.v->blk_acc - 8));
          else if (row % 2 == 0 && b % 3 == 0) o.bw.scales(row, b) = s_none;
          else if (row % 4 == 3 && b == 0) o.bw.scales(row, b) = s_max;
          else if (row % 4 == 1 && b % 4 == 1) o.bw.scales(row, b) = s_min;
        }
      }
      if (nv) {
        const MatrixH y0 = gemm_block_scheme(c.scheme, o.bx, o.bw, block_options(c.v)).y;
        std::vector<float> mag;
        for (std::size_t m = 0; m < y0.rows(); ++m)
          for (std::size_t ch = 0; ch < y0.cols(); ++ch)
            mag.push_back(std::fabs(f16_to_f32(y0(m, ch))));
        std::sort(mag.begin(), mag.end());
        const float p90 = mag[mag.size() * 9 / 10];
        if (!(p90 > 0.0f)) throw Error(c.name + ": the extreme NVFP4 outputs are all 0");
        o.bw.tensor_scale *= std::exp2(std::ceil(std::log2(65520.0f / p90)));
      }
    }
    const GemmResult g = gemm_block_scheme(c.scheme, o.bx, o.bw, block_options(c.v));
    o.y = g.y;
    const auto ev = g.counters.overflow.find(stage::kBlockAcc);
    o.is_overflows = ev == g.counters.overflow.end() ? 0 : ev->second;
    const auto rd = g.counters.overflow.find(stage::kBlockAlignRound);
    o.blk_rounds = rd == g.counters.overflow.end() ? 0 : rd->second;
    o.invalid_codes = g.counters.invalid_codes;
    return o;
  }
  o.x = prev ? quantize_outputs(*prev, c.act) : quantize_activations(d.x, c.act);
  WeightQuantSpec ws;
  ws.symmetric = true;
  ws.scale_dtype = ScaleDtype::fp16;
  if (o.two_level) {
    // DGQ's quantizer (its two-phase grid search, calibrated on the layer's float activations)
    // or QServe's progressive one (level 0 int8 in [-119, 119] with fp16 s0, level 1 uint4 with
    // uint8 s1 and zeros per group), then the scheme's reference (DGQ's fused path). Extreme: the
    // largest group scale (DGQ's S2 127, QServe's s1 255) with q - z = 15 on every second
    // channel, so that those weights dequantize out of range (clamped and counted).
    DgqSpec spec;
    spec.group_size = c.group;
    o.tl = o.qs ? quantize_qserve(d.w, c.group) : quantize_dgq(d.w, calib, spec);
    if (c.extreme)
      for (std::size_t row = 0; row < o.tl.q.rows(); row += 2) {
        for (std::size_t kk = 0; kk < o.tl.q.cols(); ++kk) o.tl.q(row, kk) = 15;
        for (std::size_t g = 0; g < o.tl.groups(); ++g) {
          o.tl.zeros(row, g) = 0;
          o.tl.group_scale(row, g) = o.qs ? 255 : 127;
        }
      }
    const GemmResult g = o.qs ? gemm_w4a8_qserve(o.x, o.tl)
                              : gemm_w4a8_dgq(o.x, o.tl, DequantMode::fused);
    o.y = g.y;
    const auto ev = g.counters.overflow.find(stage::kDequantRange);
    o.dq_overflows = ev == g.counters.overflow.end() ? 0 : ev->second;
  } else if (o.fs) {
    ws.format = WeightFormat::int4;
    ws.granularity = Granularity::per_group;
    ws.group_size = c.group;
    o.w = quantize_weights_rtn(d.w, ws);
    o.y = gemm_w4a8_fs(o.x, o.w).y;
  } else if (o.is) {
    ws.format = WeightFormat::int4;
    ws.granularity = Granularity::per_group;
    ws.group_size = c.group;
    o.w = quantize_weights_rtn(d.w, ws);
    IntScaleSpec is;
    is.mode = IntScaleMode::fixed;
    is.bits = c.alpha_bits;
    o.s = to_integer_scales(o.w, is);
    // The tile's memory holds S in 16 bits (the plan's 2 bytes a group and channel).
    if (c.extreme) {
      for (std::size_t m = 0; m < o.x.q.rows(); ++m)
        for (std::size_t kk = 0; kk < o.x.q.cols(); ++kk) o.x.q(m, kk) = 127;
      for (std::size_t row = 0; row < o.w.codes.rows(); ++row)
        for (std::size_t kk = 0; kk < o.w.codes.cols(); ++kk)
          if (row % 2 == 0 || row % 4 == 1) o.w.codes(row, kk) = row % 2 == 0 ? 7 : -8;
      for (std::size_t row = 0; row < o.s.S.rows(); ++row)
        for (std::size_t g = 0; g < o.s.S.cols(); ++g) o.s.S(row, g) = 32767;
    }
    for (std::size_t row = 0; row < o.s.S.rows(); ++row)
      for (std::size_t g = 0; g < o.s.S.cols(); ++g)
        if (o.s.S(row, g) > 32767) throw Error(c.name + ": an integer scale beyond int16");
    const GemmResult g = gemm_w4a8_is(o.x, o.w, o.s);
    o.y = g.y;
    const auto ev = g.counters.overflow.find(stage::kIntScaleAcc);
    o.is_overflows = ev == g.counters.overflow.end() ? 0 : ev->second;
  } else if (o.dint) {
    // dint4 RTN per channel in the design's value set. Extreme: set A's unused code 1000 on
    // every third weight (a bad trace: it contributes 0; set B reads it as -0.5) and the codes
    // of the largest magnitude elsewhere on every second channel.
    ws.format = WeightFormat::dint4;
    ws.granularity = Granularity::per_channel;
    ws.dint_set = c.v->pe == 2 ? DintSet::B : DintSet::A;
    o.w = quantize_weights_rtn(d.w, ws);
    if (c.extreme) {
      for (std::size_t row = 0; row < o.w.codes.rows(); ++row)
        for (std::size_t kk = 0; kk < o.w.codes.cols(); ++kk) {
          if ((row * o.w.codes.cols() + kk) % 3 == 0)
            o.w.codes(row, kk) = 8;
          else if (row % 2 == 0)
            o.w.codes(row, kk) = static_cast<std::int8_t>(
                c.v->pe == 2 ? (kk % 2 ? 7 : 15) : (kk % 2 ? 6 : 10));  // +-7 (B), +-6 (A)
        }
    }
    const GemmResult g = gemm_w4a8_dint(o.x, o.w);
    o.y = g.y;
    o.invalid_codes = g.counters.invalid_codes;
  } else {
    ws.format = WeightFormat::int8;
    ws.granularity = Granularity::per_channel;
    o.w = quantize_weights_rtn(d.w, ws);
    o.y = gemm_w8a8(o.x, o.w).y;
  }
  return o;
}

// The memory image: each tile's operands where its command says (in_addr), in the tile's
// layout (rtl/tile/tile_ws.v's header), then the output area. The activations of a layer that
// reads the previous one are left 0xa5 here: the harness writes them when that layer's first
// fetch leaves (act_addr: where each tile's activations go).
struct Image {
  std::vector<std::uint8_t> mem;
  std::vector<std::uint32_t> in_addr, out_addr, act_addr;
};

void put_le(std::vector<std::uint8_t>& m, std::uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) m.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A tile's activation bytes (m rows of rows_used codes; output-stationary k-major, rows_used
// rows of m codes: a stream step's), then the token scales on the first k.
// moff: the tile's core's first token of the layer (split_m).
// w8a8-mxint8 (bx): the m rows of rows_used MXINT8 codes, then k-tile j = (k0 mod G) / rows_used
// of its block carries the E8M0 scales of tokens j c .. j c + c - 1 of the block (c = the tile's
// bytes beyond its codes, ceil(m rows_used / G)), padded with 0 past the last token.
std::vector<std::uint8_t> act_bytes(const arch::Tile& t, const QuantizedActivations& x,
                                    std::uint64_t moff = 0, const BlockTensor* bx = nullptr) {
  std::vector<std::uint8_t> b;
  if (bx) {
    // (E2M1 activations, w4a4-mxfp4: the codes two a byte, low nibble first, token-major.
    // Output-stationary: k-major, a step's m codes; the chunk is one block, so its m scales
    // follow, j = 0 and c = m.)
    const bool x4 = bx->elem == BlockElem::e2m1;
    const bool os = std::holds_alternative<arch::OsArrayCommand>(t.array);
    for (std::uint64_t i = 0; i < t.m * t.rows_used; ++i) {
      const std::uint64_t m = os ? i % t.m : i / t.rows_used, r = os ? i / t.m : i % t.rows_used;
      const std::uint8_t code = bx->codes(moff + t.m0 + m, t.k0 + r);
      if (!x4)
        b.push_back(code);
      else if (i % 2 == 0)
        b.push_back(code & 0xf);
      else
        b.back() = static_cast<std::uint8_t>(b.back() | (code & 0xf) << 4);
    }
    const std::uint64_t c = t.act_bytes - b.size(), G = bx->block;
    const std::uint64_t j = (t.k0 % G) / t.rows_used;
    for (std::uint64_t i = 0; i < c; ++i) {
      const std::uint64_t m = j * c + i;
      b.push_back(m < t.m ? bx->scales(moff + t.m0 + m, t.k0 / G) : 0);
    }
    return b;
  }
  const bool os = std::holds_alternative<arch::OsArrayCommand>(t.array);
  for (std::uint64_t i = 0; i < t.m * t.rows_used; ++i) {
    const std::uint64_t m = os ? i % t.m : i / t.rows_used, r = os ? i / t.m : i % t.rows_used;
    b.push_back(static_cast<std::uint8_t>(x.q(moff + t.m0 + m, t.k0 + r)));
  }
  if (t.first_k && x.per_tensor()) {
    if (t.m0 == 0) put_le(b, bits(x.scale[0]), 4);  // the tensor's, with its first block
  } else if (t.first_k) {
    for (std::uint64_t m = 0; m < t.m; ++m) put_le(b, bits(x.scale_of(moff + t.m0 + m)), 4);
  }
  return b;
}

// `tiles`, `layer`, `instance` and `noff` (each tile's layer, instance of it and its core's first
// channel of the layer) of the run, every core's, each layer's operands by instance.
Image image_for(const std::vector<arch::Tile>& tiles, const std::vector<std::size_t>& layer,
                const std::vector<std::uint64_t>& instance,
                const std::vector<std::uint64_t>& noff, const std::vector<std::uint64_t>& moff,
                const std::vector<std::vector<Operands>>& ops,
                const std::vector<bool>& reads_a_layer) {
  Image im;
  for (std::size_t g = 0; g < tiles.size(); ++g) {
    const arch::Tile& t = tiles[g];
    const Operands& o = ops[layer[g]][instance[g]];
    const std::uint64_t n0 = noff[g] + t.n0;  // the tile's first channel of the whole layer
    im.in_addr.push_back(static_cast<std::uint32_t>(im.mem.size()));
    const std::size_t at = im.mem.size();
    if (t.weight_bytes == 0) {
      // Weights resident (the tile reads them from the store): activations only.
    } else if (o.two_level) {
      // One nibble stream, low nibble first: the codes in the load's order (row rows_used - 1
      // first, k0 + rows_used - 1, each row's cols_used codes), then, when the tile starts a
      // group, its cols_used zeros and cols_used int8 S2; padded to a byte; then the fp16
      // channel scales s1 when k0 = 0 (rtl/tile/tile_ws.v's DGQ layout).
      std::vector<std::uint8_t> nib;
      for (std::uint64_t r = t.rows_used; r-- > 0;)
        for (std::uint64_t c = 0; c < t.cols_used; ++c) nib.push_back(o.tl.q(n0 + c, t.k0 + r));
      if (t.k0 % o.tl.group_size == 0) {
        const std::uint64_t grp = t.k0 / o.tl.group_size;
        for (std::uint64_t c = 0; c < t.cols_used; ++c) nib.push_back(o.tl.zeros(n0 + c, grp));
        for (std::uint64_t c = 0; c < t.cols_used; ++c) {
          const auto s2 = static_cast<std::uint8_t>(o.tl.group_scale(n0 + c, grp));
          nib.push_back(s2 & 0xf);
          nib.push_back(s2 >> 4);
        }
      }
      im.mem.resize(at + (nib.size() + 1) / 2, 0);
      for (std::size_t i = 0; i < nib.size(); ++i)
        im.mem[at + i / 2] |= static_cast<std::uint8_t>((nib[i] & 0xf) << (4 * (i % 2)));
      if (t.k0 == 0)
        for (std::uint64_t c = 0; c < t.cols_used; ++c)
          put_le(im.mem, f32_to_f16(o.tl.channel_scale[n0 + c]), 2);
    } else if (o.blk) {
      // MXINT8 codes as w8a8's (MXFP4: the E2M1 codes packed as w4a8-is's), then the block's
      // E8M0 scales when the tile starts one.
      if (o.bw.elem == BlockElem::e2m1) {
        const std::uint64_t codes = t.rows_used * t.cols_used;
        im.mem.resize(at + (codes + 1) / 2, 0);
        for (std::uint64_t i = 0; i < codes; ++i) {
          const std::uint64_t r = i / t.cols_used, c = i % t.cols_used;
          const auto nib = static_cast<std::uint8_t>(o.bw.codes(n0 + c, t.k0 + r) & 0xf);
          im.mem[at + i / 2] |= static_cast<std::uint8_t>(nib << (4 * (i % 2)));
        }
      } else {
        for (std::uint64_t r = 0; r < t.rows_used; ++r)
          for (std::uint64_t c = 0; c < t.cols_used; ++c)
            im.mem.push_back(o.bw.codes(n0 + c, t.k0 + r));
      }
      if (t.k0 % o.bw.block == 0)
        for (std::uint64_t c = 0; c < t.cols_used; ++c)
          im.mem.push_back(o.bw.scales(n0 + c, t.k0 / o.bw.block));
    } else if (o.grp || o.dint) {
      // 4-bit codes, two a byte, low nibble first, over the whole tile; the group's S
      // (w4a8-is) or fp16 scale s (w4a8-fs); w4a8-dint: the channels' fp16 scales at k0 = 0.
      const std::uint64_t codes = t.rows_used * t.cols_used;
      im.mem.resize(at + (codes + 1) / 2, 0);
      for (std::uint64_t i = 0; i < codes; ++i) {
        const std::uint64_t r = i / t.cols_used, c = i % t.cols_used;
        const auto nib = static_cast<std::uint8_t>(o.w.codes(n0 + c, t.k0 + r) & 0xf);
        im.mem[at + i / 2] |= static_cast<std::uint8_t>(nib << (4 * (i % 2)));
      }
      if (o.dint) {
        if (t.k0 == 0)
          for (std::uint64_t c = 0; c < t.cols_used; ++c)
            put_le(im.mem, f32_to_f16(o.w.scale(n0 + c, 0)), 2);
      } else if (t.k0 % o.w.group_size == 0)
        for (std::uint64_t c = 0; c < t.cols_used; ++c)
          put_le(im.mem,
                 o.fs ? f32_to_f16(o.w.scale(n0 + c, t.k0 / o.w.group_size))
                      : static_cast<std::uint64_t>(o.s.S(n0 + c, t.k0 / o.w.group_size)),
                 2);
    } else {
      for (std::uint64_t r = 0; r < t.rows_used; ++r)
        for (std::uint64_t c = 0; c < t.cols_used; ++c)
          im.mem.push_back(static_cast<std::uint8_t>(o.w.codes(n0 + c, t.k0 + r)));
      if (t.k0 == 0)
        for (std::uint64_t c = 0; c < t.cols_used; ++c)
          put_le(im.mem, f32_to_f16(o.w.scale(n0 + c, 0)), 2);
    }
    im.act_addr.push_back(static_cast<std::uint32_t>(im.mem.size()));
    if (t.act_bytes > 0) {
      const std::vector<std::uint8_t> b = act_bytes(t, o.x, moff[g], o.blk ? &o.bx : nullptr);
      if (!reads_a_layer[layer[g]])
        im.mem.insert(im.mem.end(), b.begin(), b.end());
      else
        im.mem.resize(im.mem.size() + b.size(), 0xa5);
    }
    if (im.mem.size() - at != t.weight_bytes + t.act_bytes)
      throw Error("image: a tile's operands are not its command's byte count");
  }
  for (const arch::Tile& t : tiles) {
    im.out_addr.push_back(static_cast<std::uint32_t>(im.mem.size()));
    im.mem.resize(im.mem.size() + t.out_bytes, 0);
  }
  im.mem.resize(im.mem.size() + 64, 0);  // beats may read past the last request
  return im;
}

// Layer l's fp16 outputs as the tile wrote them to memory (M x N).
// `instance`, when set: of those tiles of instance `which` only.
MatrixH outputs_in(const std::vector<std::uint8_t>& mem, const std::vector<arch::Tile>& tiles,
                   const std::vector<std::size_t>& layer, const std::vector<std::uint64_t>& noff,
                   const std::vector<std::uint64_t>& moff, const Image& im, std::size_t l,
                   std::uint64_t m_rows, std::uint64_t n_cols,
                   const std::vector<std::uint64_t>* instance = nullptr, std::uint64_t which = 0) {
  MatrixH y(m_rows, n_cols);
  for (std::size_t g = 0; g < tiles.size(); ++g) {
    const arch::Tile& t = tiles[g];
    if (layer[g] != l || !t.last_k || (instance && (*instance)[g] != which)) continue;
    for (std::uint64_t m = 0; m < t.m; ++m)
      for (std::uint64_t col = 0; col < t.cols_used; ++col) {
        const std::size_t at = im.out_addr[g] + 2 * (m * t.cols_used + col);
        y(moff[g] + t.m0 + m, noff[g] + t.n0 + col) =
            static_cast<std::uint16_t>(mem.at(at) | (mem.at(at + 1) << 8));
      }
  }
  return y;
}

// The command words of one tile (tile_ws.v's field table).
// wait: layers closed before its fetch; last: the last tile of its layer.
// keep: the tile's weights are kept in the resident store, at roff; resident: found there.
std::vector<std::uint32_t> command_words(const arch::Tile& t, std::uint32_t in, std::uint32_t out,
                                         const Operands& o, std::uint64_t wait,
                                         std::uint64_t last, std::uint64_t mblock, bool keep,
                                         std::uint64_t roff) {
  // Words 24 and 25: WS the ofmap port's bytes a step (partial sums in, out); OS the weight
  // port's bytes a step, and 0.
  arch::WsArrayCommand ws;
  if (const auto* w = std::get_if<arch::WsArrayCommand>(&t.array)) ws = *w;
  if (const auto* os = std::get_if<arch::OsArrayCommand>(&t.array))
    ws.psum_in_bytes_per_step = os->w_bytes_per_step;
  const std::uint64_t f[kCmdWords] = {t.m,
                               t.rows_used,
                               t.cols_used,
                               t.k0,
                               (t.first_k ? 1u : 0u) | (t.last_k ? 2u : 0u) |
                                   (ws.psum_chained ? 4u : 0u) | (o.is ? 8u : 0u) |
                                   (o.fs ? 16u : 0u) | (o.two_level && !o.qs ? 32u : 0u) |
                                   (o.qs ? 64u : 0u) | (keep ? 128u : 0u) |
                                   (t.weight_bytes == 0 ? 256u : 0u) |
                                   (o.x.per_tensor() ? 512u : 0u) |
                                   (o.x.per_tensor() && t.first_k && t.m0 == 0 && t.act_bytes > 0
                                        ? 1024u
                                        : 0u) |
                                   (o.dint ? 2048u : 0u) | (o.blk ? 4096u : 0u) |
                                   (o.blk && o.bx.elem == BlockElem::e2m1 ? 8192u : 0u) |
                                   (o.blk && o.bw.scale == BlockScale::e4m3 ? 16384u : 0u),
                               t.weight_bytes,
                               t.act_bytes,
                               t.out_bytes,
                               t.epilogue_ops,
                               in,
                               out,
                               t.spill_read_bytes + t.spill_write_bytes,
                               t.rescale_ops,
                               t.dequant_ops,
                               t.stream_steps,
                               t.n0,
                               o.grp ? o.w.group_size
                               : o.two_level ? o.tl.group_size
                               : o.blk       ? o.bw.block
                                             : 0,
                               o.is ? static_cast<std::uint64_t>(o.s.bits) : 0,
                               t.scale_writes,
                               t.scale_reads,
                               wait,
                               last,
                               t.weight_read_bytes,
                               t.x_bytes_per_step,
                               ws.psum_in_bytes_per_step,
                               ws.psum_out_bytes_per_step,
                               mblock,
                               roff,
                               // (w4a4-nvfp4: the tensors' fp32 scales; MX: 1.0, not read)
                               bits(o.bx.tensor_scale),
                               bits(o.bw.tensor_scale)};
  std::vector<std::uint32_t> w;
  for (std::uint64_t v : f) {
    if (v > 0xffffffffu) throw Error("command: a field beyond 32 bits");
    w.push_back(static_cast<std::uint32_t>(v));
  }
  return w;
}

struct RtlRun {
  std::vector<arch::TileEvents> tiles;
  std::uint64_t cycles = 0;  // the first cycle with `done`
  std::uint64_t scale_writes = 0, scale_reads = 0;  // the integer scales' register files
  std::uint64_t is_overflows = 0;  // integer-scale steps that left 32 bits (+ fixed block events)
  std::uint64_t blk_rounds = 0;    // fixed block steps that rounded
  std::uint64_t dq_overflows = 0;                   // dequantized weights out of range
};

// What the RTL did, every core: each core's record, and the run's.
struct RtlRuns {
  std::vector<RtlRun> cores;
  std::uint64_t cycles = 0;  // the last core's first cycle with `done`
  std::uint64_t both = 0;    // cycles with two requesters or more (the arbitration decides)
  std::vector<std::uint64_t> layer_close;  // the cycle each layer closed on every core
  std::vector<std::uint8_t> mem;
};

// One core's tiles (every layer's, in order), with what the commands need beyond them.
struct Stream {
  std::vector<arch::Tile> tiles;
  std::vector<std::size_t> layer;            // each tile's layer
  std::vector<std::uint64_t> wait, last;     // command words 20 and 21
  std::vector<std::uint64_t> mblock;         // command word 26: the tile's m-block in the run
  std::vector<bool> keep;                    // flag bit 7: its weights kept in the store ...
  std::vector<std::uint64_t> roff;           // ... at command word 27 (resident tiles: found)
  std::vector<std::uint64_t> instance;       // the tile's instance of its layer
  std::vector<std::size_t> first;            // each layer's first tile
  std::vector<std::uint64_t> noff;           // its layer's first channel on this core (split_n)
  std::vector<std::uint64_t> moff;           // ... and first token (split_m)
  std::size_t base = 0;                      // its first tile's index in the memory image
};

// Drives one Verilated tile a core through the case: loads the commands, then serves the memory
// ports cycle by cycle (cycle 0: the first cycle with `run`) until every core is `done`, as the
// model's DRAM controller serves its requesters: core c's fetches are requester 2c, its writes
// 2c + 1, the requests that reach it in one cycle served in round-robin order of requester (the
// first moving on every cycle that serves anything), a requester's in issue order. With an
// interconnect a request reaches the controller latency_cycles after its issue, and its data is
// back when the DRAM and the core's link are done, latency_cycles later (arch::LinkTimes, the
// model's rule). With several cores the
// harness is also the layer barrier (LayerEnds): a layer closes when every core's share has,
// and the tiles' fetches see that count (ext_barrier) in the cycle it happens. `on_fetch(core,
// tile, mem)` is called as each fetch leaves, before its data does.
template <class Top>
RtlRuns run_rtl(const Variant& v, const arch::ArchSpec& a, const std::vector<Stream>& cores,
                const std::vector<std::vector<Operands>>& opi, Image im,
                std::uint64_t cycle_limit,
                const std::function<void(std::size_t, std::size_t, std::vector<std::uint8_t>&)>&
                    on_fetch) {
  VerilatedContext ctx;
  // (served: the controller has said when it completes; data moves once it has.)
  struct Fetch {
    std::uint64_t tile, issue, done = 0, addr, bytes, beats, sent = 0;
    unsigned slot;
    bool served = false;
  };
  struct Write {
    std::uint64_t tile, issue, done = 0, addr, bytes, beats, got = 0;
    bool served = false;
  };
  struct Core {
    std::unique_ptr<Top> top;
    const Stream* st = nullptr;
    std::vector<Fetch> fetches;
    std::vector<Write> writes;
    std::vector<std::uint64_t> written;  // the tiles that write, in order
    std::size_t n_start = 0, n_load = 0, n_sstart = 0, n_stream = 0, n_drain = 0, n_accept = 0,
                n_finish = 0, closes = 0;
    bool done = false;
    RtlRun run;
  };
  const bool several = cores.size() > 1;
  std::vector<Core> cs(cores.size());
  auto tick = [&] {
    for (Core& k : cs) {
      k.top->clk = 0;
      k.top->eval();
      k.top->clk = 1;
      k.top->eval();
    }
    ctx.timeInc(1);
  };
  for (std::size_t c = 0; c < cores.size(); ++c) {
    Core& k = cs[c];
    k.top = std::make_unique<Top>(&ctx, ("tile" + std::to_string(c)).c_str());
    k.st = &cores[c];
    Top& top = *k.top;
    top.rst = 1;
    top.run = 0;
    top.cmd_we = 0;
    top.rd_beat_valid = 0;
    top.rd_done = 0;
    top.wr_done_count = 0;
    top.ext_barrier = several;
    top.ext_closed = 0;
    k.run.tiles.assign(k.st->tiles.size(), {});
    for (std::size_t g = 0; g < k.st->tiles.size(); ++g)
      if (k.st->tiles[g].out_bytes > 0) k.written.push_back(g);
  }
  tick();
  tick();
  for (Core& k : cs) k.top->rst = 0;
  // The commands, every core's at once (one word a cycle).
  std::size_t most = 0;
  for (const Stream& s : cores) most = std::max(most, s.tiles.size());
  for (std::size_t g = 0; g < most; ++g) {
    std::vector<std::vector<std::uint32_t>> words(cores.size());
    for (std::size_t c = 0; c < cores.size(); ++c) {
      const Stream& st = cores[c];
      if (g < st.tiles.size())
        words[c] = command_words(st.tiles[g], im.in_addr[st.base + g], im.out_addr[st.base + g],
                                 opi[st.layer[g]][0], st.wait[g], st.last[g], st.mblock[g],
                                 st.keep[g], st.roff[g]);
    }
    for (int f = 0; f < kCmdWords; ++f) {
      for (std::size_t c = 0; c < cores.size(); ++c) {
        Top& top = *cs[c].top;
        top.cmd_we = !words[c].empty();
        top.cmd_addr =
            static_cast<std::remove_reference_t<decltype(top.cmd_addr)>>(kCmdStride * g + f);
        top.cmd_data = words[c].empty() ? 0 : words[c][static_cast<std::size_t>(f)];
      }
      tick();
    }
  }
  for (Core& k : cs) {
    k.top->cmd_we = 0;
    k.top->ntiles = static_cast<std::uint16_t>(k.st->tiles.size());
  }

  // The controller's clock conversions (cycle -> ps, ps -> the done cycle), the model's own: any
  // clock, including those of no integral ps a cycle.
  const arch::CycleClock clock(a.clock_mhz);
  arch::DramTiming dram(a.dram);
  const unsigned requesters = static_cast<unsigned>(2 * cores.size());
  unsigned rr_first = 0;  // the DramController's round robin over requesters
  std::vector<std::uint32_t> link_of;
  for (unsigned q = 0; q < requesters; ++q) link_of.push_back(q / 2);
  arch::LinkTimes links(a.interconnect, link_of);
  struct Pending {
    std::uint64_t at_dram;  // the cycle it reaches the controller
    unsigned requester;
    bool write;
    std::size_t index;
  };
  std::vector<Pending> pending;  // requests on their way to the controller, in issue order
  std::size_t layers = 0;
  for (const Stream& s : cores) layers = std::max(layers, s.first.size());
  std::vector<std::size_t> shares_closed(layers, 0);  // cores whose share of the layer closed
  std::uint16_t closed = 0;                          // layers closed on every core
  RtlRuns out;
  const auto beat = static_cast<std::uint64_t>(v.beat);
  for (std::uint64_t t = 0;; ++t) {
    if (t > cycle_limit) throw Error("RTL: not done after " + std::to_string(cycle_limit) + " cycles");
    for (Core& k : cs) {
      Top& top = *k.top;
      top.run = 1;
      // This cycle's completions, and one beat of read data (the request due first).
      unsigned done_mask = 0, wdone = 0;
      for (const Fetch& f : k.fetches)
        if (f.done == t && f.bytes > 0) done_mask |= 1u << f.slot;
      for (const Write& w : k.writes)
        if (w.done == t) ++wdone;
      top.rd_done = static_cast<std::uint8_t>(done_mask);
      top.wr_done_count = static_cast<std::uint8_t>(wdone);
      Fetch* next = nullptr;
      for (Fetch& f : k.fetches)
        if (f.served && f.sent < f.beats && f.issue < t && (!next || f.done < next->done))
          next = &f;
      top.rd_beat_valid = next != nullptr;
      if (next) {
        if (t >= next->done)
          throw Error("harness: tile " + std::to_string(next->tile) +
                      "'s operand beats cannot all arrive before its fetch completes");
        top.rd_beat_slot = static_cast<std::uint8_t>(next->slot);
        for (std::uint64_t w = 0; w < beat / 4; ++w) {
          std::uint32_t word = 0;
          for (int b = 0; b < 4; ++b) {
            const std::uint64_t off = next->sent * beat + 4 * w + static_cast<std::uint64_t>(b);
            if (off < next->bytes)
              word |= static_cast<std::uint32_t>(im.mem[next->addr + off]) << (8 * b);
          }
          set_field(top.rd_beat_data, static_cast<int>(32 * w), 32, word);
        }
        ++next->sent;
      }
      top.ext_closed = closed;
      top.eval();
    }
    // The barrier: this cycle's closes of each core's share; a layer every core has closed is
    // closed, and the fetches that wait for it may leave in this cycle.
    for (Core& k : cs)
      if (k.top->ev_layer_close) {
        if (k.closes >= layers) throw Error("RTL: more layer closes than layers");
        if (++shares_closed[k.closes++] == cores.size()) {
          out.layer_close.push_back(t);
          ++closed;
        }
      }
    for (Core& k : cs) {
      k.top->ext_closed = closed;
      k.top->eval();
    }
    // Requests of this cycle: core c's fetch lanes in order, then its write.
    for (std::size_t c = 0; c < cs.size(); ++c) {
      Core& k = cs[c];
      Top& top = *k.top;
      RtlRun& run = k.run;
      if (top.error != 0)
        throw Error("RTL: core " + std::to_string(c) + " error bits 0x" + [&] {
          std::ostringstream s;
          s << std::hex << static_cast<unsigned>(top.error);
          return s.str();
        }() + " at cycle " + std::to_string(t));
      const std::size_t ntiles = k.st->tiles.size();
      auto at = [&](std::size_t& n, const char* what) -> arch::TileEvents& {
        if (n >= ntiles) throw Error(std::string("RTL: more '") + what + "' events than tiles");
        return run.tiles[n++];
      };
      // Phase events.
      if (top.ev_start) at(k.n_start, "start").start = t;
      if (top.ev_load_done) at(k.n_load, "load done").load_end = t;
      if (top.ev_stream_start) at(k.n_sstart, "stream start").stream_start = t;
      if (top.ev_stream_done) at(k.n_stream, "stream done").stream_end = t;
      if (top.ev_drain_done) at(k.n_drain, "drain done").done = t;
      for (unsigned i = 0; i < top.ev_edge_accept; ++i)
        at(k.n_accept, "edge accept").edge_accept = t;
      for (unsigned i = 0; i < top.ev_edge_finish; ++i)
        at(k.n_finish, "edge finish").edge_finish = t;
      for (int j = 0; j < v.depth; ++j) {
        if (!((top.rd_req_valid >> j) & 1u)) continue;
        Fetch f;
        f.tile = k.fetches.size();
        f.issue = t;
        f.addr = get_field(top.rd_req_addr, 32 * j, 32);
        f.bytes = get_field(top.rd_req_bytes, 32 * j, 32);
        f.beats = (f.bytes + beat - 1) / beat;
        int sw = 1;  // tile_ws's SW: the bits of a slot number
        while ((1 << sw) < v.depth) ++sw;
        f.slot = static_cast<unsigned>(get_field(top.rd_req_slot, sw * j, sw));
        run.tiles.at(f.tile).fetch_issue = t;
        // A fetch of 0 bytes asks the memory for nothing: its operands are in as it issues
        // (FetchDma), and the DRAM controller sees no request.
        if (f.bytes == 0) {
          f.done = t;
          run.tiles[f.tile].fetch_ready = t;
        } else {
          pending.push_back({t + a.interconnect.latency_cycles, static_cast<unsigned>(2 * c), false,
                             k.fetches.size()});
        }
        k.fetches.push_back(f);
        on_fetch(c, f.tile, im.mem);
      }
      // Write lanes in order (the writes of a later layer, held until the earlier one closed,
      // leave together).
      for (int j = 0; j < 8; ++j) {
        if (!((top.wr_req_valid >> j) & 1u)) continue;
        if (k.writes.size() >= k.written.size()) throw Error("RTL: a write with no tile to write");
        Write w;
        w.tile = k.written[k.writes.size()];
        w.issue = t;
        w.addr = get_field(top.wr_req_addr, 32 * j, 32);
        w.bytes = get_field(top.wr_req_bytes, 32 * j, 32);
        w.beats = (w.bytes + beat - 1) / beat;
        run.tiles[w.tile].written = true;
        run.tiles[w.tile].write_issue = t;
        pending.push_back({t + a.interconnect.latency_cycles, static_cast<unsigned>(2 * c + 1),
                           true, k.writes.size()});
        k.writes.push_back(w);
      }
      if (top.wr_beat_valid) {
        Write* w = nullptr;
        for (Write& x : k.writes)
          if (x.got < x.beats && x.issue < t) {
            w = &x;
            break;
          }
        if (!w) throw Error("RTL: a write beat with no write open");
        if (w->served && t >= w->done)
          throw Error("harness: tile " + std::to_string(w->tile) +
                      "'s output beats arrive after its write completed");
        for (std::uint64_t b = 0; b < beat; ++b) {
          const std::uint64_t off = w->got * beat + b;
          if (off < w->bytes)
            im.mem.at(w->addr + off) = static_cast<std::uint8_t>(
                get_field(top.wr_beat_data, static_cast<int>(8 * b), 8));
        }
        ++w->got;
      }
    }
    // The controller serves those that reach it this cycle 1 ps into it, requester by requester
    // from rr_first, each requester's in issue order.
    std::vector<std::vector<std::pair<bool, std::size_t>>> reqs(requesters);  // (write, index)
    std::vector<Pending> later;
    for (const Pending& p : pending) {
      if (p.at_dram == t)
        reqs[p.requester].push_back({p.write, p.index});
      else
        later.push_back(p);
    }
    pending = std::move(later);
    unsigned active = 0;
    for (const auto& r : reqs) active += r.empty() ? 0 : 1;
    if (active > 1) ++out.both;
    if (active > 0) {
      for (unsigned i = 0; i < requesters; ++i) {
        const unsigned q = (rr_first + i) % requesters;
        Core& k = cs[q / 2];
        for (const auto& [is_write, idx] : reqs[q]) {
          const std::uint64_t bytes = is_write ? k.writes[idx].bytes : k.fetches[idx].bytes;
          const std::uint64_t end = dram.serve(clock.cycle_to_ps(t), bytes,
                                               is_write ? arch::DramDir::write : arch::DramDir::read);
          const std::uint64_t dram_done = clock.done_cycle(t, end);
          const std::uint64_t done = a.interconnect.present()
                                         ? links.done(q, t, dram_done, bytes)
                                         : dram_done;
          if (is_write) {
            k.writes[idx].served = true;
            k.writes[idx].done = done;
            k.run.tiles[k.writes[idx].tile].write_done = done;
          } else {
            k.fetches[idx].served = true;
            k.fetches[idx].done = done;
            k.run.tiles[k.fetches[idx].tile].fetch_ready = done;
          }
        }
      }
      rr_first = (rr_first + 1) % requesters;
    }
    bool all = true;
    for (Core& k : cs) {
      if (k.top->done && !k.done) {
        k.done = true;
        k.run.cycles = t;
      }
      all = all && k.done;
    }
    if (all) {
      out.cycles = t;
      break;
    }
    tick();
  }
  for (Core& k : cs) {
    for (const Write& w : k.writes)
      if (w.got != w.beats) throw Error("RTL: a write's data did not all arrive");
    if (k.writes.size() != k.written.size()) throw Error("RTL: tiles left unwritten");
    if (k.n_start != k.st->tiles.size() || k.n_finish != k.st->tiles.size())
      throw Error("RTL: done before every tile ran");
    k.run.scale_writes = k.top->n_scale_wr;
    k.run.scale_reads = k.top->n_scale_rd;
    k.run.is_overflows = k.top->n_is_ovf;
    k.run.blk_rounds = k.top->n_blk_rnd;
    k.run.dq_overflows = k.top->n_dq_ovf;
    k.top->final();
    out.cores.push_back(std::move(k.run));
  }
  out.mem = std::move(im.mem);
  return out;
}

// The fields of two tile logs that differ, one line each (at most `limit`).
std::string differences(const std::vector<arch::TileEvents>& want,
                        const std::vector<arch::TileEvents>& got, std::size_t limit = 12) {
  std::ostringstream s;
  std::size_t n = 0;
  if (want.size() != got.size())
    s << "tiles: model " << want.size() << ", RTL " << got.size() << "\n";
  for (std::size_t g = 0; g < std::min(want.size(), got.size()); ++g) {
    const arch::TileEvents &a = want[g], &b = got[g];
    const struct {
      const char* name;
      std::uint64_t x, y;
    } f[] = {{"fetch_issue", a.fetch_issue, b.fetch_issue},
             {"fetch_ready", a.fetch_ready, b.fetch_ready},
             {"start", a.start, b.start},
             {"load_end", a.load_end, b.load_end},
             {"stream_start", a.stream_start, b.stream_start},
             {"stream_end", a.stream_end, b.stream_end},
             {"done", a.done, b.done},
             {"edge_accept", a.edge_accept, b.edge_accept},
             {"edge_finish", a.edge_finish, b.edge_finish},
             {"written", a.written, b.written},
             {"write_issue", a.write_issue, b.write_issue},
             {"write_done", a.write_done, b.write_done}};
    for (const auto& x : f) {
      if (x.x == x.y) continue;
      if (n++ < limit)
        s << "tile " << g << " " << x.name << ": model " << x.x << ", RTL " << x.y << "\n";
    }
  }
  if (n > limit) s << "... " << n - limit << " more\n";
  return s.str();
}

class TileWs : public ::testing::TestWithParam<Case> {};

// One core's tile stream: its share of every layer's tiles, in order (one wave), with the
// command words beyond the tiles (layer waits and ends, m-blocks, resident weights).
Stream stream_for(const Case& c, const std::vector<arch::LayerWork>& work,
                  const std::vector<std::uint64_t>& layer_noff,
                  const std::vector<std::uint64_t>& layer_moff) {
  Stream st;
  std::uint64_t blocks = 0;  // m-blocks so far: a new one with each layer and each change of m0
  for (std::size_t l = 0; l < work.size(); ++l) {
    st.first.push_back(st.tiles.size());
    for (std::uint64_t inst = 0; inst < work[l].instances; ++inst) {
      for (const arch::Tile& t : work[l].tiles) {
        // (Layers close in order: waiting for the layers it reads is waiting for the latest's.)
        st.wait.push_back(
            st.tiles.size() == st.first.back() && !work[l].after.empty()
                ? *std::max_element(work[l].after.begin(), work[l].after.end()) + 1
                : 0);
        if (st.tiles.size() > st.first.back() && t.m0 != st.tiles.back().m0) ++blocks;
        st.mblock.push_back(blocks);
        st.tiles.push_back(t);
        st.layer.push_back(l);
        st.instance.push_back(inst);
        st.noff.push_back(layer_noff[l]);
        st.moff.push_back(layer_moff[l]);
      }
      ++blocks;
    }
    for (std::size_t g = st.first.back(); g < st.tiles.size(); ++g)
      st.last.push_back(st.tiles.size() - 1);
  }
  // Resident weights: within each instance of a layer, a tile without weight bytes finds its
  // weight tile (the same n0, k0) where the tile that fetched it kept it; offsets in the store
  // are the kept tiles' weight bytes one after another (the harness's layout of the store).
  st.keep.assign(st.tiles.size(), false);
  st.roff.assign(st.tiles.size(), 0);
  for (std::size_t g0 = 0; g0 < st.tiles.size();) {
    std::size_t g1 = g0;
    while (g1 < st.tiles.size() && st.layer[g1] == st.layer[g0] &&
           st.instance[g1] == st.instance[g0])
      ++g1;
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::size_t> fetched;  // (n0, k0) -> tile
    std::uint64_t next = 0;
    for (std::size_t g = g0; g < g1; ++g) {
      const arch::Tile& t = st.tiles[g];
      const auto key = std::make_pair(t.n0, t.k0);
      if (t.weight_bytes > 0) {
        fetched[key] = g;
        continue;
      }
      const auto it = fetched.find(key);
      if (it == fetched.end()) throw Error(c.name + ": resident weights never fetched");
      if (!st.keep[it->second]) {
        st.keep[it->second] = true;
        st.roff[it->second] = next;
        next += st.tiles[it->second].weight_bytes;
      }
      st.roff[g] = st.roff[it->second];
    }
    g0 = g1;
  }
  if (st.tiles.size() > kNtMax) throw Error(c.name + ": more tiles than the tile's NT_MAX");
  return st;
}

TEST_P(TileWs, CyclesPhasesAndOutputsEqualTheModel) {
  const Case c = GetParam();
  const arch::ArchSpec a = spec_for(c);
  ASSERT_EQ(arch::check_consistency(a), "");
  const std::vector<std::pair<std::uint64_t, std::uint64_t>> shapes = layer_shapes(c);
  // Each core's share of every layer, and where its channels start in the layer.
  std::vector<std::vector<arch::LayerWork>> core_work(c.cores);
  std::vector<std::vector<std::uint64_t>> noff(c.cores, std::vector<std::uint64_t>(shapes.size()));
  std::vector<std::vector<std::uint64_t>> moff = noff;
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    std::uint64_t off = 0;
    for (std::uint32_t k = 0; k < c.cores; ++k) {
      std::uint64_t n_share = 0, m_share = 0;
      core_work[k].push_back(
          work_for(a, c, l, shapes[l].first, shapes[l].second, k, &n_share, &m_share));
      (c.split_m ? moff : noff)[k][l] = off;
      off += c.split_m ? m_share : n_share;
    }
    if (off != (c.split_m ? c.m : shapes[l].second))
      throw Error(c.name + ": the cores' shares are not the layer");
  }
  const std::vector<arch::LayerWork>& work = core_work[0];
  // The run's tile streams, a core's each; the memory image holds every core's tiles.
  std::vector<Stream> streams;
  std::vector<arch::Tile> tiles;  // every core's, core 0's first
  std::vector<std::size_t> t_layer;
  std::vector<std::uint64_t> t_inst, t_noff, t_moff;
  for (std::uint32_t k = 0; k < c.cores; ++k) {
    streams.push_back(stream_for(c, core_work[k], noff[k], moff[k]));
    Stream& st = streams.back();
    st.base = tiles.size();
    tiles.insert(tiles.end(), st.tiles.begin(), st.tiles.end());
    t_layer.insert(t_layer.end(), st.layer.begin(), st.layer.end());
    t_inst.insert(t_inst.end(), st.instance.begin(), st.instance.end());
    t_noff.insert(t_noff.end(), st.noff.begin(), st.noff.end());
    t_moff.insert(t_moff.end(), st.moff.begin(), st.moff.end());
  }
  if (c.m_blocked) {  // the case is there to run its tokens in blocks
    EXPECT_TRUE(std::any_of(tiles.begin(), tiles.end(), [](const arch::Tile& t) {
      return t.m0 > 0;
    })) << "one m-block";
  }
  // Fetches of 0 bytes (weights and activations resident): res_mblk4 and res_osdb8 have some.
  const auto zero_fetches = std::count_if(tiles.begin(), tiles.end(), [](const arch::Tile& t) {
    return t.weight_bytes + t.act_bytes == 0;
  });
  if (c.name == "res_mblk4" || c.name == "res_osdb8" || c.name == "res_mblkd1db") {
    EXPECT_GT(zero_fetches, 0) << "no fetch of 0 bytes";
  }
  // The resident-weight cases find weights resident; the others never do.
  EXPECT_EQ(std::any_of(tiles.begin(), tiles.end(),
                        [](const arch::Tile& t) { return t.weight_bytes == 0; }),
            c.resident_weights)
      << "weights resident";
  if (c.ifmap_bytes && !c.m_blocked) {  // the case is there to fetch its activations again
    EXPECT_TRUE(std::any_of(tiles.begin(), tiles.end(), [](const arch::Tile& t) {
      return t.n0 > 0 && t.act_bytes > 0;
    })) << "the activations stayed resident";
  }
  // The model: cycle mode (and fast mode, which must agree), one simulation.
  std::vector<std::vector<arch::TileEvents>> log_cycle, log_fast;
  const std::vector<arch::RunStats> model = arch::simulate_jobs(
      {{&a, nullptr, arch::Fidelity::cycle, &core_work, &log_cycle},
       {&a, nullptr, arch::Fidelity::fast, &core_work, &log_fast}});
  ASSERT_EQ(model.size(), 2u);
  ASSERT_EQ(log_cycle.size(), c.cores);
  EXPECT_EQ(model[0].cycles, model[1].cycles) << "fast mode";
  for (std::uint32_t k = 0; k < c.cores; ++k)
    EXPECT_EQ(differences(log_cycle[k], log_fast[k]), "")
        << "fast mode against cycle mode, core " << k;
  // The port-bound points' named cases are port-bound (the model says so); the points whose
  // ports move a tile row a cycle have none.
  if (c.v->x_bpc >= c.v->rows && c.v->w_bpc >= c.v->cols && c.v->o_bpc >= 4 * c.v->cols) {
    EXPECT_EQ(model[0].total(&arch::LayerStats::stall_port), 0u) << "a port stall";
  }
  // The fused dequantizers stretch loads only where they have fewer lanes than the array has
  // columns (and the case's tiles enough codes); dgq8_stretched is there to be stretched.
  if (c.v->dq_units >= c.v->cols) {
    EXPECT_EQ(model[0].total(&arch::LayerStats::stall_dequant), 0u) << "a dequantizer stall";
  }
  if (c.name == "dgq8_stretched" || c.name == "dgqd1_ragged" || c.name == "qs8_stretched") {
    EXPECT_GT(model[0].total(&arch::LayerStats::stall_dequant), 0u) << "no dequantizer stall";
  }
  if (c.name.rfind("port", 0) == 0) {
    EXPECT_GT(model[0].total(&arch::LayerStats::stall_port), 0u) << "no port stall";
  }
  // The operands and reference outputs, layer by layer (each reads the reference outputs of
  // the one before); a layer's instances have the same weights and their own activations.
  std::vector<std::vector<Operands>> opi;
  std::vector<Operands> ops;  // each layer's first instance's
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    opi.emplace_back();
    for (std::uint64_t i = 0; i < work[l].instances; ++i)
      opi[l].push_back(operands(
          c, shapes[l].first, shapes[l].second, c.seed + 1000 * l,
          reads_of(c, l) >= 0 ? &opi[static_cast<std::size_t>(reads_of(c, l))][i].y : nullptr,
          i ? c.seed + 1000 * l + 7919 * i : 0));
    ops.push_back(opi[l][0]);
  }
  // The RTL. A layer that reads the one before gets its activations from that layer's outputs
  // as the tiles wrote them (every core's share), quantized (per token or per tensor) when the
  // layer's first fetch leaves on any core (after the barrier: every write of the layer before
  // is complete), for every core's tiles of the layer.
  std::vector<bool> reads_a_layer;
  for (std::size_t l = 0; l < shapes.size(); ++l) reads_a_layer.push_back(reads_of(c, l) >= 0);
  Image im = image_for(tiles, t_layer, t_inst, t_noff, t_moff, opi, reads_a_layer);
  std::size_t filled = 0;
  std::vector<bool> layer_filled(shapes.size(), false);
  const auto on_fetch = [&](std::size_t core, std::size_t g, std::vector<std::uint8_t>& mem) {
    const Stream& st = streams[core];
    const std::size_t l = st.layer.at(g);
    if (reads_of(c, l) < 0 || g != st.first[l] || layer_filled[l]) return;
    layer_filled[l] = true;
    // Instance i of the layer reads instance i of the layer it reads.
    const auto from = static_cast<std::size_t>(reads_of(c, l));
    const bool blk = block_scheme(c.scheme);
    std::vector<QuantizedActivations> x;
    std::vector<BlockTensor> bx;
    for (std::uint64_t i = 0; i < work[from].instances; ++i) {
      const MatrixH y = outputs_in(mem, tiles, t_layer, t_noff, t_moff, im, from, c.m,
                                   shapes[from].second, &t_inst, i);
      if (blk)
        bx.push_back(quantize_block_outputs(y, c.scheme));
      else
        x.push_back(quantize_outputs(y, c.act));
    }
    for (std::size_t h = 0; h < tiles.size(); ++h) {
      if (t_layer[h] != l || tiles[h].act_bytes == 0) continue;
      const std::vector<std::uint8_t> b =
          blk ? act_bytes(tiles[h], {}, t_moff[h], &bx.at(t_inst[h]))
              : act_bytes(tiles[h], x.at(t_inst[h]), t_moff[h]);
      std::copy(b.begin(), b.end(), mem.begin() + im.act_addr[h]);
    }
    ++filled;
  };
  const std::uint64_t limit = 2 * model[0].cycles + 1000;
  const auto& sts = streams;
  const RtlRuns r =
      c.v == &kV4     ? run_rtl<Vtile_ws_4x4>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV8   ? run_rtl<Vtile_ws_8x8>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4d1 ? run_rtl<Vtile_ws_4x4_d1>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4db ? run_rtl<Vtile_ws_4x4_db>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4d1db ? run_rtl<Vtile_ws_4x4_d1_db>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV8db ? run_rtl<Vtile_ws_8x8_db>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4p  ? run_rtl<Vtile_ws_4x4_port>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4pdb ? run_rtl<Vtile_ws_4x4_port_db>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4os  ? run_rtl<Vtile_os_4x4>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4osdb ? run_rtl<Vtile_os_4x4_db>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV8osdb ? run_rtl<Vtile_os_8x8_db>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4dintdb ? run_rtl<Vtile_ws_4x4_dint_db>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4osdintb ? run_rtl<Vtile_os_4x4_dint_b>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4p3 ? run_rtl<Vtile_ws_4x4_p3>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV8dbp2 ? run_rtl<Vtile_ws_8x8_db_p2>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4mx ? run_rtl<Vtile_ws_4x4_mx>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4mxfix ? run_rtl<Vtile_ws_4x4_mx_fix>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4osmx ? run_rtl<Vtile_os_4x4_mx>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4fp4pedb ? run_rtl<Vtile_ws_4x4_fp4_db>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4osfp4db ? run_rtl<Vtile_os_4x4_fp4x8_db>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4fp4fix ? run_rtl<Vtile_ws_4x4_fp4x8_fix>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV8dbmx ? run_rtl<Vtile_ws_8x8_db_mx>(*c.v, a, sts, opi, im, limit, on_fetch)
      : c.v == &kV4fp4db ? run_rtl<Vtile_ws_4x4_fp4x8_db>(*c.v, a, sts, opi, im, limit, on_fetch)
                        : run_rtl<Vtile_os_4x4_port_db>(*c.v, a, sts, opi, im, limit, on_fetch);
  EXPECT_EQ(filled, static_cast<std::size_t>(
                        std::count(reads_a_layer.begin(), reads_a_layer.end(), true)))
      << "layers whose activations came from the RTL";
  EXPECT_EQ(r.cycles, model[0].cycles) << "total cycles";
  for (std::uint32_t k = 0; k < c.cores; ++k)
    EXPECT_EQ(differences(log_cycle[k], r.cores[k].tiles), "")
        << "phases: model (cycle mode) against RTL, core " << k;
  std::uint64_t rtl_sw = 0, rtl_sr = 0, rtl_is = 0, rtl_dq = 0, rtl_rnd = 0;
  for (const RtlRun& k : r.cores) {
    rtl_rnd += k.blk_rounds;
    rtl_sw += k.scale_writes;
    rtl_sr += k.scale_reads;
    rtl_is += k.is_overflows;
    rtl_dq += k.dq_overflows;
  }
  // Layer ends: the model's layers share the timeline (LayerStats::cycles, each from the
  // previous end), so its ends are the running sums.
  std::vector<std::uint64_t> ends;
  std::uint64_t end = 0;
  for (const arch::LayerStats& ls : model[0].layers) ends.push_back(end += ls.cycles);
  EXPECT_EQ(r.layer_close, ends) << "layer ends";
  if (std::getenv("QUASAR_TILE_DUMP"))
    for (std::size_t h = 0; h < tiles.size(); ++h) {
      std::size_t k = 0;
      while (k + 1 < streams.size() && streams[k + 1].base <= h) ++k;
      const std::size_t g = h - streams[k].base;
      const arch::TileEvents &e = log_cycle[k][g], &x = r.cores[k].tiles[g];
      std::cout << "core " << k << " tile " << g << " layer " << t_layer[h] << " k0 "
                << tiles[h].k0 << " n0 " << tiles[h].n0 << " model/RTL fetch " << e.fetch_issue
                << "/" << x.fetch_issue
                << " ready " << e.fetch_ready << "/" << x.fetch_ready << " start " << e.start
                << "/" << x.start << " load_end " << e.load_end << "/" << x.load_end
                << " sstart " << e.stream_start << "/" << x.stream_start << " send "
                << e.stream_end << "/" << x.stream_end << " done " << e.done << "/" << x.done
                << " accept " << e.edge_accept << "/" << x.edge_accept << " finish "
                << e.edge_finish << "/" << x.edge_finish << "\n";
    }
  // The integer scales' register files: words written and read (the plan's counts, which the
  // model adds up).
  EXPECT_EQ(rtl_sw, model[0].total(&arch::LayerStats::scale_writes)) << "scale writes";
  EXPECT_EQ(rtl_sr, model[0].total(&arch::LayerStats::scale_reads)) << "scale reads";
  // Each rescale reads its scale word once: integer-scale steps (w4a8-is) or float-scale steps
  // (w4a8-fs), each counted by the model as its own unit's ops, the other's 0; each DGQ weight
  // dequantized reads its group's word once (dequant_ops), and nothing is rescaled.
  // (w8a8-mxint8: block steps, block_ops.)
  const bool two_level = c.scheme == Scheme::w4a8_dgq || c.scheme == Scheme::w4a8_qserve;
  const bool blk = block_scheme(c.scheme);
  EXPECT_EQ(rtl_sr, model[0].total(two_level ? &arch::LayerStats::dequant_ops
                                   : blk     ? &arch::LayerStats::block_ops
                                   : c.scheme == Scheme::w4a8_fs
                                       ? &arch::LayerStats::floatscale_ops
                                       : &arch::LayerStats::intscale_ops))
      << "rescales or dequantized weights";
  EXPECT_EQ(model[0].total(c.scheme == Scheme::w4a8_fs ? &arch::LayerStats::intscale_ops
                                                        : &arch::LayerStats::floatscale_ops),
            0u)
      << "the other unit's rescales";
  if (!blk) {
    EXPECT_EQ(model[0].total(&arch::LayerStats::block_ops), 0u) << "block steps";
  } else {
    EXPECT_EQ(model[0].total(&arch::LayerStats::intscale_ops), 0u) << "integer-scale steps";
    EXPECT_GT(rtl_sr, 0u) << "no block step";
  }
  if (two_level) {
    EXPECT_EQ(model[0].total(&arch::LayerStats::intscale_ops), 0u) << "DGQ rescales";
    EXPECT_GT(model[0].total(&arch::LayerStats::dequant_ops), 0u) << "DGQ dequantizes nothing";
  }
  // The dequantizers' out-of-range weights (clamped): the RTL's count against the reference's
  // dequant_range events (0 but in the extreme DGQ case, which must have some).
  std::uint64_t ref_dq = 0;
  for (const auto& layer_ops : opi)
    for (const Operands& o : layer_ops) ref_dq += o.dq_overflows;
  EXPECT_EQ(rtl_dq, ref_dq) << "dequantizer range events";
  if (c.extreme && two_level) {
    EXPECT_GT(ref_dq, 0u) << "the extreme two-level case dequantizes nothing out of range";
  }
  // The integer-scale accumulators' overflow events: the RTL's flags against the reference's
  // intscale_acc count (every layer's; 0 but in the extreme cases, which must overflow).
  std::uint64_t ref_overflows = 0;
  for (const auto& layer_ops : opi)
    for (const Operands& o : layer_ops) ref_overflows += o.is_overflows;
  EXPECT_EQ(rtl_is, ref_overflows) << "integer-scale (or fixed block) overflow events";
  // ... and the fixed block accumulators' alignment roundings (0 for every other scheme).
  std::uint64_t ref_rounds = 0;
  for (const auto& layer_ops : opi)
    for (const Operands& o : layer_ops) ref_rounds += o.blk_rounds;
  EXPECT_EQ(rtl_rnd, ref_rounds) << "fixed block align_round events";
  const bool fixed = block_scheme(c.scheme) && c.v->blk_frac >= 0;
  if (fixed && c.extreme) {
    EXPECT_GT(ref_rounds, 0u) << "a fixed block extreme case that never rounds";
  }
  if (c.extreme && (c.scheme == Scheme::w4a8_is || fixed)) {
    EXPECT_GT(ref_overflows, 0u) << "the extreme case does not overflow";
  }
  // dINT's bad codes: the set A case's weights hold the unused code (the reference counts them;
  // they contribute 0 in both). Set B has no unused code.
  std::uint64_t ref_invalid = 0;
  for (const auto& layer_ops : opi)
    for (const Operands& o : layer_ops) ref_invalid += o.invalid_codes;
  // The block schemes' extremes: some outputs infinite (the terms that overflow fp32).
  // (Fixed accumulators: F32(acc) 2^-frac is below 2^(bits - 1 - frac), finite in fp16 at 32
  // bits here, not always at 48.)
  if (c.extreme && block_scheme(c.scheme) && !fixed) {
    std::uint64_t inf = 0;
    for (const auto& layer_ops : opi)
      for (const Operands& o : layer_ops)
        for (std::size_t m = 0; m < o.y.rows(); ++m)
          for (std::size_t n = 0; n < o.y.cols(); ++n) inf += (o.y(m, n) & 0x7fff) == 0x7c00;
    EXPECT_GT(inf, 0u) << "no infinite output";
  }
  EXPECT_EQ(ref_invalid > 0, c.extreme && ((c.scheme == Scheme::w4a8_dint && c.v->pe == 1) ||
                                            (block_scheme(c.scheme) &&
                                             c.scheme != Scheme::w4a4_mxfp4 &&
                                             c.scheme != Scheme::w4a4_nvfp4)))
      << "unused dint4 codes or the block elements' invalid codes";
  // Outputs, bit for bit, every layer's.
  std::size_t wrong = 0;
  std::ostringstream first;
  for (std::size_t l = 0; l < shapes.size(); ++l) {
    for (std::uint64_t i = 0; i < work[l].instances; ++i) {
      const MatrixH y =
          outputs_in(r.mem, tiles, t_layer, t_noff, t_moff, im, l, c.m, shapes[l].second, &t_inst,
                     i);
      for (std::uint64_t m = 0; m < c.m; ++m)
        for (std::uint64_t n = 0; n < shapes[l].second; ++n)
          if (y(m, n) != opi[l][i].y(m, n) && wrong++ == 0)
            first << "layer " << l << " instance " << i << " y[" << m << "][" << n
                  << "]: RTL 0x" << std::hex << y(m, n) << ", reference 0x"
                  << opi[l][i].y(m, n);
    }
  }
  EXPECT_EQ(wrong, 0u) << first.str();
  // Writes held for an earlier layer's close (issued after their tile's edge finish: layers that
  // overlap), and cycles in which several writes left together (the RTL's write lanes), every
  // core's: the overlapping cases are there to have both.
  std::uint64_t held_writes = 0, multi_write_cycles = 0;
  for (const RtlRun& k : r.cores) {
    std::map<std::uint64_t, int> per_cycle;
    for (const arch::TileEvents& e : k.tiles) {
      if (!e.written) continue;
      if (e.write_issue > e.edge_finish) ++held_writes;
      ++per_cycle[e.write_issue];
    }
    for (const auto& [cycle, n] : per_cycle) multi_write_cycles += n > 1 ? 1 : 0;
  }
  if (c.reads.empty()) {
    EXPECT_EQ(held_writes, 0u) << "a write held with layers that do not overlap";
  }
  // (ov_*: writes held; graph_* and random_ov_*: the same layer graphs, no write held on their
  // timing: the later layer's fetches, one slot or latency-bound, trail the earlier layer's.)
  if (c.name.rfind("ov_", 0) == 0) {
    EXPECT_GT(held_writes, 0u) << "no write held for an earlier layer";
  }
  if (c.name == "ov_qkv_o_db8_is") {
    EXPECT_GT(multi_write_cycles, 0u) << "no held writes leaving together";
  }
  // The case's numbers, for docs/validation.md.
  std::cout << "[case] " << c.name << " " << c.v->name
            << (c.cores > 1 ? "×" + std::to_string(c.cores) : std::string()) << " "
            << scheme_name(c.scheme);
  if (!whole_k(c.scheme)) std::cout << " G " << c.group;
  std::cout << " m " << c.m << " k " << c.k << " n " << c.n;
  for (std::uint64_t n : c.chain) std::cout << "," << n;
  std::cout << " tiles " << tiles.size() << " model " << model[0].cycles << " RTL " << r.cycles
            << " fast " << model[1].cycles
            << " stall_dram " << model[0].total(&arch::LayerStats::stall_dram)
            << " stall_edge " << model[0].total(&arch::LayerStats::stall_edge)
            << " stall_port " << model[0].total(&arch::LayerStats::stall_port)
            << " fetch_and_write_cycles " << r.both << " scale_writes " << rtl_sw
            << " scale_reads " << rtl_sr << " is_overflows " << rtl_is
            << (fixed ? " align_rounds " + std::to_string(rtl_rnd) : std::string())
            << " layer_ends";
  for (std::uint64_t e : r.layer_close) std::cout << " " << e;
  std::cout << " dram " << c.dram.gbps << " GB/s " << c.dram.latency_ns << " ns "
            << c.dram.channels << " ch " << c.dram.burst << " B tt " << c.dram.turnaround_ns
            << " ns refresh " << c.dram.trefi_ns << "/" << c.dram.trfc_ns << " ns stall_dequant "
            << model[0].total(&arch::LayerStats::stall_dequant) << " zero_fetches " << zero_fetches
            << " held_writes " << held_writes << " multi_write_cycles " << multi_write_cycles;
  if (!c.reads.empty()) {
    std::cout << " reads ";
    for (std::size_t i = 0; i < c.reads.size(); ++i) std::cout << (i ? "," : "") << c.reads[i];
  }
  std::cout << "\n";
}

// A seeded random case on design point `var`: w8a8 or w4a8-is (G a power of two from 2 to 32
// dividing K; on dint4 points w4a8-dint in place of both), any shape the tile holds, any DRAM
// (bandwidth, latency, channels, burst, turnaround, refresh).
Case random_case(Rng& r, const std::string& name, const Variant* var, std::uint64_t seed) {
  Case c;
  c.name = name;
  c.v = var;
  c.seed = seed;
  // Shapes until one fits the tile (NT_MAX tiles, KT_MAX k-tiles).
  for (;;) {
    c.m = 1 + r.next() % 64;
    c.n = 1 + r.next() % 64;
    std::uint64_t k_tile = static_cast<std::uint64_t>(var->rows);
    if (r.next() % 2) {
      c.scheme = Scheme::w4a8_is;
      c.group = std::uint64_t{2} << (r.next() % 5);
      c.k = c.group * (1 + r.next() % (64 / c.group));
      k_tile = std::gcd(k_tile, c.group);
    } else {
      c.scheme = Scheme::w8a8;
      c.group = 0;
      c.k = 1 + r.next() % 64;
    }
    if (dint_pe(var)) {  // (drawn as above, so seeds keep their shapes)
      c.scheme = Scheme::w4a8_dint;
      c.group = 0;
      k_tile = static_cast<std::uint64_t>(var->rows);
    }
    // (Block points only: the others' draws as before. fp4xfp8 PEs run w4a8-mx only.)
    if (var->blk_units > 0 && (var->pe == 3 || r.next() % 2)) {
      c.scheme = var->pe == 3 ? Scheme::w4a8_mx : Scheme::w8a8_mxint8;
      c.group = 32;
      c.k = 32 * (1 + r.next() % 4);
      k_tile = std::gcd(static_cast<std::uint64_t>(var->rows), c.group);
    }
    const std::uint64_t k_tiles = (c.k + k_tile - 1) / k_tile;
    const std::uint64_t cols = static_cast<std::uint64_t>(var->cols);
    if (k_tiles <= kKtMax && k_tiles * ((c.n + cols - 1) / cols) <= kNtMax) break;
  }
  Dram& d = c.dram;
  d.gbps = static_cast<double>(2 + r.next() % 31);
  d.latency_ns = static_cast<double>(20 + r.next() % 100);
  d.channels = 1 + static_cast<std::uint32_t>(r.next() % 2);
  d.burst = 32u << (r.next() % 2);
  d.turnaround_ns = static_cast<double>(r.next() % 8);
  if (r.next() % 2) d.trefi_ns = 400 + static_cast<double>(r.next() % 400), d.trfc_ns = 50;
  return c;
}

// A seeded random output-stationary case on design point `var` (w8a8, w4a8-is or w4a8-fs; G
// a power of two from 2 to 32 dividing K; dint4 points: w4a8-dint): any shape whose k-chunk
// (K, or G) fits a slot with its m-tile's activations and whose tiles fit NT_MAX, any DRAM.
Case random_os_case(Rng& r, const std::string& name, const Variant* var, std::uint64_t seed) {
  Case c = random_case(r, name, var, seed);  // its DRAM (and a first shape, redrawn here)
  const auto rows = static_cast<std::uint64_t>(var->rows), cols = static_cast<std::uint64_t>(var->cols);
  for (;;) {
    c.m = 1 + r.next() % 64;
    c.n = 1 + r.next() % 64;
    const int pick = static_cast<int>(r.next() % 3);
    c.scheme = dint_pe(var) ? Scheme::w4a8_dint
               : pick == 0      ? Scheme::w8a8
               : pick == 1      ? Scheme::w4a8_is
                                : Scheme::w4a8_fs;
    std::uint64_t chunk = 0, wbytes = 0;
    if (whole_k(c.scheme)) {
      c.group = 0;
      c.k = 1 + r.next() % 64;
      chunk = c.k;
      wbytes = code_bytes(c.scheme, chunk * cols) + 2 * cols;
    } else {
      c.group = std::uint64_t{2} << (r.next() % 5);
      c.k = c.group * (1 + r.next() % (64 / c.group));
      chunk = c.group;
      wbytes = (chunk * cols + 1) / 2 + 2 * cols;
    }
    const std::uint64_t tiles = ((c.m + rows - 1) / rows) * ((c.n + cols - 1) / cols) * (c.k / chunk);
    // (More than one m-tile: the weights must not fit the buffer, see os_weight_buffer.)
    const std::uint64_t w_all = code_bytes(c.scheme, c.k * c.n) + 2 * c.n * (c.k / chunk);
    if (wbytes + rows * chunk + 4 * rows <= kSlotBytes && tiles <= kNtMax &&
        (c.m <= rows || w_all > os_weight_buffer(c)))
      return c;
  }
}

// Tiles a case's plans would have (n_outer: every n-tile runs every k-tile) and its most
// k-tiles in one layer.
std::pair<std::uint64_t, std::uint64_t> tile_counts(const Case& c) {
  std::uint64_t tiles = 0, k_tiles = 0;
  std::uint64_t k_tile = static_cast<std::uint64_t>(c.v->rows);
  if (!whole_k(c.scheme)) k_tile = std::gcd(k_tile, c.group);
  const auto cols = static_cast<std::uint64_t>(c.v->cols);
  for (const auto& [k, n] : layer_shapes(c)) {
    const std::uint64_t kt = (k + k_tile - 1) / k_tile;
    k_tiles = std::max(k_tiles, kt);
    tiles += kt * ((n + cols - 1) / cols);
  }
  return {tiles, k_tiles};
}

// A seeded random case of 2 or 3 layers, each reading the one before (random_case's first
// layer; w4a8-is: every N a multiple of G, the next layer's K).
Case random_chain_case(Rng& r, const std::string& name, const Variant* var, std::uint64_t seed) {
  for (;;) {
    Case c = random_case(r, name, var, seed);
    const std::uint64_t g = c.scheme == Scheme::w4a8_is ? c.group : 1;
    const auto pick = [&] { return g * (1 + r.next() % (64 / g)); };
    c.n = pick();
    c.chain.push_back(pick());
    if (r.next() % 2) c.chain.push_back(pick());
    const auto [tiles, k_tiles] = tile_counts(c);
    if (tiles <= kNtMax && k_tiles <= kKtMax) return c;
  }
}

// A seeded random layer graph on design point `var`: random_chain_case's layers, each reading
// any earlier layer or none (an independent layer, of the first layer's K), so that layers
// overlap; every layer's N a multiple of G (w4a8-is), so that any may be read.
Case random_graph_case(Rng& r, const std::string& name, const Variant* var, std::uint64_t seed) {
  for (;;) {
    Case c = random_chain_case(r, name, var, seed);
    c.reads.clear();
    for (std::size_t i = 0; i < c.chain.size(); ++i)
      c.reads.push_back(static_cast<int>(r.next() % (i + 2)) - 1);  // -1 .. i
    const auto [tiles, k_tiles] = tile_counts(c);
    if (tiles <= kNtMax && k_tiles <= kKtMax) return c;
  }
}

std::vector<Case> cases() {
  std::vector<Case> v;
  Dram base;  // 16 GB/s, one channel, 64 B bursts, 50 ns, no refresh
  Dram slow = base;
  slow.gbps = 2;
  Dram fast = base;
  fast.gbps = 32;
  fast.latency_ns = 30;
  Dram hbm = base;  // channels, turnaround, refresh
  hbm.gbps = 24;
  hbm.channels = 2;
  hbm.burst = 32;
  hbm.turnaround_ns = 5;
  hbm.trefi_ns = 500;
  hbm.trfc_ns = 60;
  v.push_back({"v4_ragged", &kV4, 5, 10, 7, 1, base});
  v.push_back({"v4_memory_bound", &kV4, 2, 64, 32, 2, slow});
  v.push_back({"v4_compute_bound", &kV4, 64, 16, 12, 3, fast});
  v.push_back({"v4_channels_refresh", &kV4, 9, 23, 13, 4, hbm});
  v.push_back({"v8_ragged", &kV8, 7, 21, 19, 5, base});
  v.push_back({"v8_memory_bound", &kV8, 3, 128, 16, 6, slow});
  v.push_back({"v8_compute_bound", &kV8, 64, 64, 16, 7, fast});
  v.push_back({"v8_edge_bound", &kV8, 40, 8, 32, 8, fast});
  v.push_back({"v8_channels_refresh", &kV8, 17, 40, 21, 9, hbm});
  // A fetch and a write leave in the same cycle (found by a seeded search: single-buffered
  // timing makes it rare), so the DRAM's round robin decides which goes first.
  Dram meet = base;
  meet.gbps = 4;
  meet.latency_ns = 57;
  v.push_back({"v8_fetch_meets_write", &kV8, 4, 4, 54, 1190, meet});
  v.push_back({"d1_ragged", &kV4d1, 6, 13, 9, 10, base});
  v.push_back({"d1_memory_bound", &kV4d1, 3, 40, 20, 11, slow});
  v.push_back({"d1_edge_bound", &kV4d1, 48, 4, 16, 12, fast});
  // Double-buffered weights (the next tile's load during this one's stream and drain).
  v.push_back({"db4_ragged", &kV4db, 5, 10, 7, 21, base});
  v.push_back({"d1db4_ragged", &kV4d1db, 5, 10, 7, 185, base});
  v.push_back({"d1db4_compute_bound", &kV4d1db, 40, 16, 12, 186, fast});
  v.push_back({"d1db4_is_refresh", &kV4d1db, 9, 24, 13, 187, hbm, Scheme::w4a8_is, 8});
  v.push_back({"db4_memory_bound", &kV4db, 2, 64, 32, 22, slow});
  v.push_back({"db4_compute_bound", &kV4db, 64, 16, 12, 23, fast});
  v.push_back({"db4_edge_bound", &kV4db, 48, 4, 16, 24, fast});
  v.push_back({"db8_ragged", &kV8db, 7, 21, 19, 25, base});
  v.push_back({"db8_memory_bound", &kV8db, 3, 128, 16, 26, slow});
  v.push_back({"db8_compute_bound", &kV8db, 64, 64, 16, 27, fast});
  v.push_back({"db8_edge_bound", &kV8db, 40, 8, 32, 28, fast});
  v.push_back({"db8_channels_refresh", &kV8db, 17, 40, 21, 29, hbm});
  // w4a8-is: 4-bit group weights, P * S at each group's end (the integer-scale accumulators),
  // single and double-buffered; groups of several k-tiles, of one, and shorter than the array.
  const Scheme is = Scheme::w4a8_is;
  v.push_back({"is4_ragged", &kV4, 5, 24, 7, 31, base, is, 8});
  v.push_back({"is4_short_groups", &kV4, 9, 12, 6, 32, base, is, 2});
  v.push_back({"is4_memory_bound", &kV4, 2, 64, 16, 33, slow, is, 16});
  v.push_back({"is8_compute_bound", &kV8, 40, 64, 12, 34, fast, is, 16});
  v.push_back({"is8_edge_bound", &kV8, 40, 32, 16, 35, fast, is, 8});
  v.push_back({"isd1_ragged", &kV4d1, 10, 16, 9, 36, base, is, 4});
  v.push_back({"isdb4_ragged", &kV4db, 5, 24, 7, 37, base, is, 8});
  v.push_back({"isdb4_edge_bound", &kV4db, 32, 16, 10, 38, fast, is, 4});
  v.push_back({"isdb4_memory_bound", &kV4db, 2, 64, 16, 39, slow, is, 16});
  v.push_back({"isdb8_compute_bound", &kV8db, 48, 64, 16, 40, fast, is, 32});
  v.push_back({"isdb8_edge_bound", &kV8db, 40, 24, 16, 41, fast, is, 8});
  v.push_back({"isdb8_channels_refresh", &kV8db, 17, 48, 21, 42, hbm, is, 16});
  // w4a8-fs: the same 4-bit group weights, rescaled in fp32 (floatscale_acc: F32(P) times the
  // group's fp16 scale, added to the fp32 accumulator) and F16(acc s_x) at the end.
  const Scheme fs = Scheme::w4a8_fs;
  v.push_back({"fs4_ragged", &kV4, 5, 24, 7, 61, base, fs, 8});
  v.push_back({"fs4_short_groups", &kV4, 9, 12, 6, 62, base, fs, 2});
  v.push_back({"fs8_edge_bound", &kV8, 40, 32, 16, 63, fast, fs, 8});
  v.push_back({"fsd1_ragged", &kV4d1, 10, 16, 9, 64, base, fs, 4});
  v.push_back({"fsdb4_edge_bound", &kV4db, 32, 16, 10, 65, fast, fs, 4});
  v.push_back({"fsdb8_channels_refresh", &kV8db, 17, 48, 21, 66, hbm, fs, 16});
  // w4a8-dgq, dequantized by the tile's fused dequantizers as each tile loads (the load lasts
  // as long as they need: stretched on the points with fewer lanes than a row's codes a cycle),
  // then chained over all K as w8a8; every point, groups of 2 to 16, a chain, refetched
  // activations, out-of-range weights.
  const Scheme dq = Scheme::w4a8_dgq;
  v.push_back({"dgq4_ragged", &kV4, 5, 24, 7, 141, base, dq, 8});
  v.push_back({"dgq4_short_groups", &kV4, 9, 12, 6, 142, base, dq, 2});
  v.push_back({"dgq8_stretched", &kV8, 12, 64, 20, 143, fast, dq, 16});
  v.push_back({"dgqd1_ragged", &kV4d1, 10, 16, 9, 144, base, dq, 4});
  v.push_back({"dgqdb4_compute_bound", &kV4db, 32, 16, 10, 145, fast, dq, 4});
  v.push_back({"dgqdb8_refresh", &kV8db, 17, 48, 21, 146, hbm, dq, 16});
  v.push_back({"dgqport4", &kV4p, 9, 24, 7, 147, base, dq, 8});
  v.push_back({"dgqportdb4", &kV4pdb, 10, 32, 9, 148, fast, dq, 8});
  {
    Case k{"dgqxdb4_out_of_range", &kV4db, 6, 32, 12, 149, base, dq, 8};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_dgqdb8", &kV8db, 20, 32, 24, 150, base, dq, 8};
    k.chain = {16};
    v.push_back(k);
    k = {"dgqrefetch8", &kV8, 20, 32, 24, 151, fast, dq, 8};
    k.ifmap_bytes = 256;
    v.push_back(k);
  }
  // w4a8-qserve: the same dequantizers' lanes with QServe's circuit ((q - z) s1, uint8 s1,
  // [-128, 127]) and layout; a bad trace's weights out of range.
  const Scheme qsv = Scheme::w4a8_qserve;
  v.push_back({"qs4_ragged", &kV4, 5, 24, 7, 161, base, qsv, 8});
  v.push_back({"qs8_stretched", &kV8, 12, 64, 20, 162, fast, qsv, 16});
  v.push_back({"qsd1_short_groups", &kV4d1, 9, 12, 6, 163, base, qsv, 2});
  v.push_back({"qsdb8_refresh", &kV8db, 17, 48, 21, 164, hbm, qsv, 16});
  v.push_back({"qsportdb4", &kV4pdb, 10, 32, 9, 165, fast, qsv, 8});
  {
    Case k{"qsxdb4_out_of_range", &kV4db, 6, 32, 12, 166, base, qsv, 8};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_qsdb4", &kV4db, 12, 16, 16, 167, base, qsv, 4};
    k.chain = {8};
    v.push_back(k);
  }
  // Operands at the extremes: the integer-scale accumulators overflow 32 bits and wrap; the
  // RTL counts each overflow as the reference does. Groups of 16 and 32, 8 and 4 groups.
  Case ext = {"isx4_overflow", &kV4, 6, 128, 12, 43, base, is, 16};
  ext.extreme = true;
  v.push_back(ext);
  ext = {"isxdb8_overflow", &kV8db, 9, 128, 20, 44, fast, is, 32};
  ext.extreme = true;
  v.push_back(ext);
  // Several layers in one run, each reading the one before: its first fetch waits for the
  // layer before to be written (the layer barrier); its activations are those outputs.
  Case ch;
  ch = {"chain2_v4", &kV4, 9, 20, 12, 51, base};
  ch.chain = {7};
  v.push_back(ch);
  ch = {"chain3_v8", &kV8, 17, 24, 16, 52, hbm};
  ch.chain = {10, 21};
  v.push_back(ch);
  ch = {"chain2_d1", &kV4d1, 6, 13, 9, 53, slow};
  ch.chain = {5};
  v.push_back(ch);
  ch = {"chain2_db4", &kV4db, 12, 16, 12, 54, fast};
  ch.chain = {9};
  v.push_back(ch);
  ch = {"chain3_db8", &kV8db, 20, 40, 16, 55, base};
  ch.chain = {24, 8};
  v.push_back(ch);
  ch = {"chain2_is4", &kV4, 10, 16, 12, 56, base, is, 4};
  ch.chain = {6};
  v.push_back(ch);
  ch = {"chain3_isdb8", &kV8db, 24, 32, 16, 57, fast, is, 8};
  ch.chain = {16, 9};
  v.push_back(ch);
  ch = {"chain2_fsdb8", &kV8db, 20, 32, 24, 58, base, fs, 8};
  ch.chain = {16};
  v.push_back(ch);
  // Seeded random shapes and memories (the same every run).
  Rng rng(2020);
  const Dram mems[] = {base, slow, fast, hbm};
  const Variant* const variants[] = {&kV4, &kV8, &kV4d1};
  for (int i = 0; i < 6; ++i) {
    const Variant* var = variants[i % 3];
    const std::uint64_t m = 1 + rng.next() % 64, k = 1 + rng.next() % 64, n = 1 + rng.next() % 40;
    v.push_back({"random_" + std::to_string(i), var, m, k, n, 100 + static_cast<std::uint64_t>(i),
                 mems[rng.next() % 4]});
  }
  const Variant* const all[] = {&kV4, &kV8, &kV4d1, &kV4db, &kV8db};
  Rng rng2(2021);
  for (int i = 0; i < 10; ++i) v.push_back(random_case(rng2, "random2_" + std::to_string(i),
                                                       all[i % 5], 200 + static_cast<std::uint64_t>(i)));
  Rng rng3(2022);
  for (int i = 0; i < 5; ++i)
    v.push_back(random_chain_case(rng3, "random3_" + std::to_string(i), all[i % 5],
                                  300 + static_cast<std::uint64_t>(i)));
  // Port-bound: streams with bubbles and stretched loads, every scheme, one bank and two, a
  // chain; and seeded random cases on both points.
  v.push_back({"port4_ragged", &kV4p, 5, 20, 13, 71, base});
  v.push_back({"port4_compute_bound", &kV4p, 48, 16, 12, 72, fast});
  v.push_back({"port4_is", &kV4p, 9, 24, 7, 73, base, is, 8});
  v.push_back({"port4_fs", &kV4p, 12, 16, 9, 74, fast, fs, 4});
  v.push_back({"portdb4_ragged", &kV4pdb, 7, 21, 10, 75, base});
  v.push_back({"portdb4_compute_bound", &kV4pdb, 40, 16, 12, 76, fast});
  v.push_back({"portdb4_is", &kV4pdb, 10, 32, 9, 77, fast, is, 8});
  v.push_back({"portdb4_fs_refresh", &kV4pdb, 9, 24, 11, 78, hbm, fs, 4});
  ch = {"chain2_portdb4", &kV4pdb, 12, 16, 12, 79, base, is, 4};
  ch.chain = {8};
  v.push_back(ch);
  // Activations fetched again with every n-tile (an ifmap buffer too small to keep them): the
  // stream reads every tile's from its slot.
  Case rf{"refetch4_ragged", &kV4, 12, 20, 13, 81, base};
  rf.ifmap_bytes = 128;
  v.push_back(rf);
  rf = {"refetch8_is", &kV8, 20, 32, 24, 82, fast, is, 8};
  rf.ifmap_bytes = 256;
  v.push_back(rf);
  rf = {"refetchdb4_fs", &kV4db, 16, 24, 12, 83, hbm, fs, 4};
  rf.ifmap_bytes = 128;
  v.push_back(rf);
  rf = {"refetchdb8_memory_bound", &kV8db, 6, 64, 24, 84, slow};
  rf.ifmap_bytes = 256;
  v.push_back(rf);
  rf = {"refetch_portdb4_is", &kV4pdb, 10, 16, 12, 85, base, is, 4};
  rf.ifmap_bytes = 64;
  v.push_back(rf);
  rf = {"chain2_refetch8", &kV8, 12, 16, 24, 86, base, is, 8};
  rf.chain = {16};
  rf.ifmap_bytes = 128;
  v.push_back(rf);
  // m-blocks (ws_order: m_blocked): the tokens in blocks whose activations fit a small ifmap
  // buffer, the weights fetched again with every block; the blocks' token scales overlap in
  // time (the next block streams while the edge finishes the last one's tiles).
  const auto mblk = [&](Case k, std::uint64_t ifmap, std::uint64_t weight) {
    k.m_blocked = true;
    k.ifmap_bytes = ifmap;
    k.weight_buffer = weight;
    v.push_back(k);
  };
  mblk({"mblk4_ragged", &kV4, 20, 16, 13, 91, base}, 128, 128);
  mblk({"mblkdb4_is", &kV4db, 24, 32, 8, 92, fast, is, 8}, 128, 96);
  mblk({"mblk8_fs", &kV8, 30, 32, 16, 93, base, fs, 8}, 256, 160);
  mblk({"mblkdb8_refresh", &kV8db, 40, 24, 16, 94, hbm}, 192, 256);
  mblk({"mblk_portdb4", &kV4pdb, 18, 12, 8, 95, fast}, 64, 64);
  {
    Case k{"chain2_mblk4", &kV4, 16, 16, 12, 96, base, is, 4};
    k.chain = {8};
    mblk(k, 64, 64);
  }
  // Layers of several instances (repeat): each instance's chains, activations and outputs.
  const auto inst = [&](Case k, std::uint64_t n) {
    k.instances = n;
    v.push_back(k);
  };
  inst({"inst3_4_ragged", &kV4, 6, 12, 9, 101, base}, 3);
  inst({"inst2_db8_is", &kV8db, 20, 32, 16, 102, fast, is, 8}, 2);
  inst({"inst4_d1_fs", &kV4d1, 5, 8, 6, 103, hbm, fs, 4}, 4);
  {
    Case k{"inst2_mblk_portdb4", &kV4pdb, 14, 12, 8, 104, base};
    k.m_blocked = true;
    k.ifmap_bytes = 64;
    k.weight_buffer = 64;
    inst(k, 2);
  }
  // Output-stationary arrays (the k-chunk streams into an m-tile of ROWS tokens; results leave
  // ROWS rows a tile, bottom first): one accumulator bank and two (the next tile streams while
  // this one unloads, its stream ending no sooner than ROWS cycles after this one's), every
  // scheme (w8a8: one chunk of all K; group schemes: a chunk a group, rescaled at the edge),
  // chunks shorter and longer than the array, ports that make tiles wait, chains, refetched
  // activations, instances, overflow; and seeded random cases on every OS point.
  v.push_back({"os4_ragged", &kV4os, 5, 10, 13, 111, base});
  v.push_back({"os4_memory_bound", &kV4os, 2, 64, 32, 112, slow});
  v.push_back({"os4_compute_bound", &kV4os, 16, 48, 12, 113, fast});
  v.push_back({"os4_short_k", &kV4os, 13, 3, 10, 114, fast});
  v.push_back({"osdb4_ragged", &kV4osdb, 5, 10, 13, 115, base});
  v.push_back({"osdb4_compute_bound", &kV4osdb, 32, 16, 12, 116, fast});
  v.push_back({"osdb4_short_k", &kV4osdb, 16, 2, 16, 117, fast});
  v.push_back({"osdb8_ragged", &kV8osdb, 11, 21, 29, 118, base});
  v.push_back({"osdb8_compute_bound", &kV8osdb, 24, 48, 40, 119, fast});
  v.push_back({"osdb8_channels_refresh", &kV8osdb, 17, 40, 29, 120, hbm});
  v.push_back({"osdb8_short_k", &kV8osdb, 24, 3, 40, 121, fast});
  v.push_back({"osis4_ragged", &kV4os, 5, 24, 7, 122, base, is, 8});
  v.push_back({"osisdb4_edge_bound", &kV4osdb, 16, 16, 10, 123, fast, is, 4});
  v.push_back({"osisdb8_compute_bound", &kV8osdb, 20, 64, 16, 124, fast, is, 16});
  v.push_back({"osfs4_short_groups", &kV4os, 9, 12, 6, 125, base, fs, 2});
  v.push_back({"osfsdb8_refresh", &kV8osdb, 17, 48, 21, 126, hbm, fs, 16});
  v.push_back({"osport_ragged", &kV4ospdb, 7, 21, 10, 127, base});
  v.push_back({"osport_is", &kV4ospdb, 10, 32, 9, 128, fast, is, 8});
  v.push_back({"osport_fs_refresh", &kV4ospdb, 9, 24, 11, 129, hbm, fs, 4});
  ch = {"chain2_os4", &kV4os, 9, 20, 12, 130, base};
  ch.chain = {13};
  v.push_back(ch);
  ch = {"chain3_osdb8", &kV8osdb, 20, 40, 40, 131, fast};
  ch.chain = {40, 32};
  v.push_back(ch);
  ch = {"chain2_osisdb4", &kV4osdb, 10, 16, 12, 132, base, is, 4};
  ch.chain = {8};
  v.push_back(ch);
  rf = {"osrefetch4", &kV4os, 8, 20, 13, 133, base};
  rf.ifmap_bytes = 64;
  v.push_back(rf);
  rf = {"osrefetchdb8_is", &kV8osdb, 12, 32, 20, 134, fast, is, 8};
  rf.ifmap_bytes = 128;
  v.push_back(rf);
  inst({"osinst3_db4", &kV4osdb, 6, 12, 9, 135, base}, 3);
  ext = {"osisxdb4_overflow", &kV4osdb, 6, 128, 12, 136, base, is, 16};
  ext.extreme = true;
  v.push_back(ext);
  // Seeded random DGQ cases: random_case's w4a8-is draws on every WS point, as w4a8-dgq.
  Rng rng6(2025);
  for (int i = 0; i < 6;) {
    Case k = random_case(rng6, "random_dgq_" + std::to_string(i), all[i % 5],
                         600 + static_cast<std::uint64_t>(i));
    if (k.scheme != Scheme::w4a8_is) continue;
    k.scheme = Scheme::w4a8_dgq;
    v.push_back(k);
    ++i;
  }
  const Variant* const oss[] = {&kV4os, &kV4osdb, &kV8osdb, &kV4ospdb};
  Rng rng5(2024);
  for (int i = 0; i < 8; ++i)
    v.push_back(random_os_case(rng5, "random_os_" + std::to_string(i), oss[i % 4],
                               500 + static_cast<std::uint64_t>(i)));
  // Weights resident across m-blocks (WS, m_blocked) and OS m-tiles: fetched with the first
  // block's tiles and kept in the tile's resident store, every later block's tiles fetching
  // activations only (or nothing: a fetch of 0 bytes); every scheme, one and two banks, ports,
  // a chain (the next layer's weights replace the store's), instances.
  const auto res = [&](Case k, bool blocked, std::uint64_t ifmap) {
    k.resident_weights = true;
    k.m_blocked = blocked;
    k.ifmap_bytes = ifmap;
    v.push_back(k);
  };
  res({"res_mblk4", &kV4, 20, 16, 13, 171, base}, true, 128);
  res({"res_mblkd1db", &kV4d1db, 24, 16, 13, 183, fast}, true, 128);
  res({"res_mblkd1db_dgq", &kV4d1db, 18, 24, 10, 184, base, dq, 8}, true, 96);
  res({"res_mblkdb8_is", &kV8db, 40, 32, 16, 172, fast, is, 8}, true, 256);
  res({"res_mblk_portdb4_dgq", &kV4pdb, 18, 12, 8, 173, base, dq, 4}, true, 64);
  res({"res_mblkd1_qs", &kV4d1, 15, 16, 9, 174, hbm, qsv, 8}, true, 64);
  res({"res_os4", &kV4os, 13, 20, 12, 175, base}, false, 0);
  res({"res_osdb4_fs", &kV4osdb, 16, 16, 10, 176, fast, fs, 4}, false, 0);
  res({"res_osdb8", &kV8osdb, 24, 48, 24, 177, fast}, false, 0);
  res({"res_osport_is", &kV4ospdb, 10, 32, 9, 178, hbm, is, 8}, false, 0);
  res({"res_osrefetch4", &kV4os, 12, 24, 10, 179, base}, false, 64);
  {
    Case k{"chain2_res_osdb8", &kV8osdb, 20, 32, 24, 180, base};
    k.chain = {16};
    res(k, false, 0);
    k = {"chain2_res_mblk4_is", &kV4, 16, 16, 12, 181, base, is, 4};
    k.chain = {8};
    res(k, true, 64);
    k = {"res_inst2_os4", &kV4os, 9, 12, 8, 182, fast};
    k.instances = 2;
    res(k, false, 0);
    // Resident weights of more than 2 KiB (the store was 2 KiB in the first resident slice):
    // 64 x 64 w8a8 (4 KiB and its scales) across m-blocks, and 64 x 64 w4a8-is (2.5 KiB) on the
    // 8 x 8 OS array.
    res({"res_big_mblkdb8", &kV8db, 40, 64, 64, 185, fast}, true, 1024);
    res({"res_big_osdb8_is", &kV8osdb, 24, 64, 64, 186, hbm, is, 16}, false, 0);
  }
  // Per-tensor activation scales (act: per-tensor): one fp32 scale a tensor, fetched with its
  // first block's first-k tiles and used by every block's epilogue; tensors of successive
  // instances and layers overlap in the edge (four banks, like the blocks' token scales).
  const auto pt = [&](Case k) {
    k.act = ActQuantMode::per_tensor;
    v.push_back(k);
  };
  pt({"pt4_ragged", &kV4, 5, 24, 7, 191, base});
  {
    Case k{"pt_mblkdb4_is", &kV4db, 24, 32, 8, 192, fast, is, 8};
    k.m_blocked = true;
    k.ifmap_bytes = 128;
    k.weight_buffer = 96;
    pt(k);
    k = {"pt_os4_fs", &kV4os, 13, 16, 12, 193, base, fs, 4};
    pt(k);
    k = {"pt_inst3_db8_dgq", &kV8db, 10, 32, 16, 194, fast, dq, 8};
    k.instances = 3;
    pt(k);
    k = {"chain3_pt_db8", &kV8db, 20, 40, 16, 195, base};
    k.chain = {24, 8};
    pt(k);
    k = {"pt_res_osdb8", &kV8osdb, 24, 48, 24, 196, hbm};
    k.resident_weights = true;
    pt(k);
    k = {"pt_inst4_os4_qs_edge", &kV4os, 4, 8, 4, 197, fast, qsv, 4};
    k.instances = 4;
    k.v = &kV4;  // (QServe runs on WS points)
    pt(k);
  }
  // Several cores (a Verilated tile each) on one DRAM: each layer split by output channels
  // (split_n), the requests of a cycle served in round-robin order over every core's fetch and
  // write requesters, a layer closed when every core's share is (the harness is the barrier);
  // 2 to 4 cores, every scheme, WS and OS, memory-bound contention, refresh, a chain, resident
  // weights, per-tensor scales with instances.
  const auto mc = [&](Case k, std::uint32_t n) {
    k.cores = n;
    v.push_back(k);
    return k;
  };
  mc({"mc2_v4", &kV4, 9, 20, 24, 201, base}, 2);
  mc({"mc4_v4_memory_bound", &kV4, 2, 64, 32, 202, slow}, 4);
  mc({"mc2_db8_is", &kV8db, 20, 32, 40, 203, fast, is, 8}, 2);
  mc({"mc3_os4_fs", &kV4os, 13, 16, 30, 204, base, fs, 4}, 3);
  mc({"mc2_portdb4_dgq", &kV4pdb, 10, 32, 18, 205, fast, dq, 8}, 2);
  mc({"mc2_v8_refresh", &kV8, 17, 40, 37, 206, hbm}, 2);
  mc({"mc3_osdb8_qs_free", &kV8db, 12, 32, 48, 207, hbm, qsv, 16}, 3);
  {
    Case k{"mc2_chain3_db4", &kV4db, 12, 16, 16, 208, base};
    k.chain = {24, 8};
    mc(k, 2);
    // Shares of uneven size (3 and 5 n-tiles on 2 cores): the cores close a layer at different
    // cycles, so the barrier's "every core" binds.
    k = {"mc2_chain3_uneven_is", &kV4, 10, 16, 12, 212, base, is, 4};
    k.chain = {20, 8};
    mc(k, 2);
    // split_m: each core a share of the tokens (the same weights fetched by every core).
    k = {"mc2_split_m_v4", &kV4, 21, 20, 13, 213, base};
    k.split_m = true;
    mc(k, 2);
    k = {"mc3_split_m_chain2_osdb4_pt", &kV4osdb, 22, 16, 12, 214, fast, is, 4};
    k.split_m = true;
    k.chain = {8};
    k.act = ActQuantMode::per_tensor;
    k.resident_weights = true;
    mc(k, 3);
    k = {"mc2_res_mblk4", &kV4, 20, 16, 16, 209, fast};
    k.resident_weights = true;
    k.m_blocked = true;
    k.ifmap_bytes = 128;
    mc(k, 2);
    // Instances in a chain: instance i of a layer reads instance i of the one before; the layer
    // barrier waits for every instance.
    k = {"chain3_inst2_db4_is", &kV4db, 9, 16, 12, 215, fast, is, 4};
    k.chain = {8, 12};
    k.instances = 2;
    v.push_back(k);
    k = {"mc2_chain2_inst3_os4_res", &kV4os, 10, 12, 16, 216, base};
    k.chain = {8};
    k.instances = 3;
    k.resident_weights = true;
    mc(k, 2);
    k = {"mc2_pt_inst2_db8", &kV8db, 10, 32, 32, 210, base};
    k.act = ActQuantMode::per_tensor;
    k.instances = 2;
    mc(k, 2);
    k = {"mc2_osdb4_res", &kV4osdb, 16, 16, 20, 211, slow, is, 4};
    k.resident_weights = true;
    mc(k, 2);
  }
  // An interconnect between the cores and the DRAM: latency each way, and each core's link
  // bandwidth (the link binds when narrower than the DRAM's share).
  const auto ic = [&](Case k, std::uint32_t n, std::uint32_t latency, double bpc) {
    k.cores = n;
    k.ic_latency = latency;
    k.ic_bpc = bpc;
    v.push_back(k);
  };
  ic({"ic_v4_latency5", &kV4, 9, 23, 13, 221, base}, 1, 5, 0);
  ic({"ic_mc2_v4_latency3_link16", &kV4, 9, 20, 24, 222, fast}, 2, 3, 16);
  ic({"ic_mc3_db8_is_link8", &kV8db, 12, 32, 48, 223, fast, is, 8}, 3, 0, 8);
  ic({"ic_mc2_portdb4_dgq_refresh", &kV4pdb, 10, 32, 18, 224, hbm, dq, 8}, 2, 2, 6.5);
  {
    Case k{"ic_mc2_chain2_osdb4_res", &kV4osdb, 14, 16, 20, 225, base};
    k.chain = {12};
    k.resident_weights = true;
    ic(k, 2, 4, 12);
  }
  const Variant* const ports[] = {&kV4p, &kV4pdb};
  Rng rng4(2023);
  for (int i = 0; i < 6; ++i)
    v.push_back(random_case(rng4, "random_port_" + std::to_string(i), ports[i % 2],
                            400 + static_cast<std::uint64_t>(i)));
  // w4a8-dint on dint4 PEs (4-bit codes in the weight registers, w2 = 2 value products, the
  // epilogue's scale product halved): WS with two banks and a narrow weight port (value set A),
  // OS with one bank (set B); ragged, compute- and memory-bound, refresh, bad codes (set A's
  // unused 1000, which contributes 0) and the largest magnitudes, chains, m-blocks and resident
  // weights, refetched activations, instances, per-tensor scales, two cores; seeded random
  // cases on both points.
  const Scheme dint = Scheme::w4a8_dint;
  v.push_back({"dintdb4_ragged", &kV4dintdb, 5, 10, 7, 231, base, dint});
  v.push_back({"dintdb4_compute_bound", &kV4dintdb, 40, 16, 12, 232, fast, dint});
  v.push_back({"dintdb4_memory_bound", &kV4dintdb, 2, 64, 32, 233, slow, dint});
  v.push_back({"dintdb4_refresh", &kV4dintdb, 9, 23, 13, 234, hbm, dint});
  v.push_back({"osdint4b_ragged", &kV4osdintb, 5, 10, 13, 235, base, dint});
  v.push_back({"osdint4b_compute_bound", &kV4osdintb, 16, 48, 12, 236, fast, dint});
  v.push_back({"osdint4b_short_k", &kV4osdintb, 13, 3, 10, 237, fast, dint});
  {
    Case k{"dintxdb4_bad_codes", &kV4dintdb, 6, 32, 12, 238, base, dint};
    k.extreme = true;
    v.push_back(k);
    k = {"osdintx4b_extremes", &kV4osdintb, 7, 24, 9, 239, hbm, dint};
    k.extreme = true;
    v.push_back(k);
    k = {"chain3_dintdb4", &kV4dintdb, 12, 16, 12, 240, base, dint};
    k.chain = {9, 14};
    v.push_back(k);
    k = {"chain2_osdint4b", &kV4osdintb, 9, 20, 12, 241, base, dint};
    k.chain = {13};
    v.push_back(k);
    k = {"dint_refetchdb4", &kV4dintdb, 12, 20, 13, 242, fast, dint};
    k.ifmap_bytes = 128;
    v.push_back(k);
    mblk({"dint_mblkdb4", &kV4dintdb, 20, 16, 13, 243, base, dint}, 128, 64);
    res({"res_dint_mblkdb4", &kV4dintdb, 24, 16, 13, 244, fast, dint}, true, 128);
    res({"res_osdint4b", &kV4osdintb, 13, 20, 12, 245, base, dint}, false, 0);
    inst({"dint_inst3_os4b", &kV4osdintb, 6, 12, 9, 246, hbm, dint}, 3);
    pt({"pt_dintdb4", &kV4dintdb, 9, 24, 10, 247, base, dint});
    mc({"mc2_dintdb4", &kV4dintdb, 9, 20, 24, 248, base, dint}, 2);
    k = {"mc2_osdint4b_split_m", &kV4osdintb, 12, 16, 8, 249, fast, dint};
    k.split_m = true;
    k.resident_weights = true;  // (each core's share of the layer fits the weight buffer)
    mc(k, 2);
  }
  const Variant* const dints[] = {&kV4dintdb, &kV4osdintb};
  Rng rng7(2026);
  for (int i = 0; i < 6; ++i) {
    const std::string name = "random_dint_" + std::to_string(i);
    const auto seed = 700 + static_cast<std::uint64_t>(i);
    v.push_back(dints[i % 2]->os ? random_os_case(rng7, name, dints[i % 2], seed)
                                 : random_case(rng7, name, dints[i % 2], seed));
  }
  // Pipelined PEs (pe_stages 3 on a one-bank 4 x 4, 2 on a two-bank 8 x 8): the results (L - 1)
  // ROWS cycles later than one-stage PEs', the partial sums chained through psum_in (one bank)
  // or added at the output (two); every int8-PE scheme, a chain, m-blocks, two cores, random.
  v.push_back({"p3_4_ragged", &kV4p3, 5, 10, 7, 251, base});
  v.push_back({"p3_4_compute_bound", &kV4p3, 64, 16, 12, 252, fast});
  v.push_back({"p3_4_is", &kV4p3, 9, 24, 7, 253, base, is, 8});
  v.push_back({"p3_4_fs_refresh", &kV4p3, 12, 16, 9, 254, hbm, fs, 4});
  v.push_back({"p3_4_dgq", &kV4p3, 10, 16, 9, 255, fast, dq, 4});
  v.push_back({"p2_db8_ragged", &kV8dbp2, 7, 21, 19, 256, base});
  v.push_back({"p2_db8_compute_bound", &kV8dbp2, 64, 64, 16, 257, fast});
  v.push_back({"p2_db8_is_edge_bound", &kV8dbp2, 40, 24, 16, 258, fast, is, 8});
  v.push_back({"p2_db8_qs", &kV8dbp2, 17, 48, 21, 259, hbm, qsv, 16});
  {
    Case k{"chain3_p3_4", &kV4p3, 12, 16, 12, 260, base};
    k.chain = {9, 14};
    v.push_back(k);
    mblk({"p2_mblkdb8_fs", &kV8dbp2, 30, 32, 16, 261, base, fs, 8}, 256, 160);
    mc({"mc2_p2_db8", &kV8dbp2, 9, 20, 24, 262, base}, 2);
  }
  const Variant* const piped[] = {&kV4p3, &kV8dbp2};
  Rng rng8(2027);
  for (int i = 0; i < 6; ++i)
    v.push_back(random_case(rng8, "random_piped_" + std::to_string(i), piped[i % 2],
                            800 + static_cast<std::uint64_t>(i)));
  // Clocks of no integral ps a cycle (1500 MHz: 666.67 ps; 700: 1428.57; 1234.5: 810.05; 333:
  // 3003.0): the DRAM serves at the controller's cycle -> ps conversion and completes at the
  // first cycle boundary after (arch::CycleClock, rounding both ways), so request times fall
  // between boundaries; every scheme's point, refresh, two cores, an interconnect.
  const auto clk = [&](Case k, double mhz) {
    k.clock_mhz = mhz;
    v.push_back(k);
    return k;
  };
  clk({"clk1500_v4_ragged", &kV4, 5, 10, 7, 271, base}, 1500);
  clk({"clk700_isdb8_refresh", &kV8db, 17, 48, 21, 272, hbm, is, 16}, 700);
  clk({"clk1234_osfs4", &kV4os, 9, 12, 6, 273, fast, fs, 2}, 1234.5);
  clk({"clk333_dgqdb4_memory_bound", &kV4db, 2, 64, 16, 274, slow, dq, 16}, 333);
  clk({"clk1500_dintdb4_refresh", &kV4dintdb, 9, 23, 13, 275, hbm, dint}, 1500);
  clk({"clk700_p3_4_compute_bound", &kV4p3, 64, 16, 12, 276, fast}, 700);
  {
    Case k{"clk1234_mc2_v4", &kV4, 9, 20, 24, 277, base};
    k.cores = 2;
    clk(k, 1234.5);
    k = {"clk1500_ic_mc2_db8_qs", &kV8db, 12, 32, 48, 278, hbm, qsv, 16};
    k.cores = 2;
    k.ic_latency = 3;
    k.ic_bpc = 8;
    clk(k, 1500);
  }
  // Layers that overlap: independent layers (reads -1: their own activations, no wait), which
  // the model runs back to back, each core's writer holding a later layer's writes until the
  // earlier layer closes (the tile's job ring: they leave together in the close cycle); and
  // layers reading an earlier layer other than the one just before (q, k, v, then one reading
  // q). Every scheme, WS and OS, one bank and two, two cores, m-blocks, instances, seeded random
  // graphs.
  const auto ov = [&](Case k, std::vector<std::uint64_t> chain, std::vector<int> reads) {
    k.chain = std::move(chain);
    k.reads = std::move(reads);
    v.push_back(k);
    return k;
  };
  // (A DRAM of long latency and layers of one k-tile, so that a later layer's tiles finish while
  // the earlier layer's last writes are still out.)
  Dram late = base;
  late.latency_ns = 150;
  Dram late_hbm = hbm;
  late_hbm.latency_ns = 120;
  ov({"ov_qkv_o_v4", &kV4, 9, 4, 12, 281, late}, {12, 12, 8}, {-1, -1, 0});
  ov({"ov_qkv_o_db8_is", &kV8db, 12, 8, 16, 282, late, is, 8}, {16, 16, 24}, {-1, -1, 1});
  ov({"graph_two_d1_fs", &kV4d1, 6, 4, 9, 283, late_hbm, fs, 4}, {7}, {-1});
  ov({"ov_db4_dgq_memory_bound", &kV4db, 10, 8, 16, 284, slow, dq, 8}, {16, 8}, {-1, 0});
  ov({"ov_dintdb4", &kV4dintdb, 8, 4, 12, 286, late, dint}, {12, 12}, {-1, -1});
  ov({"graph_p3_4_qs", &kV4p3, 9, 8, 8, 287, late_hbm, qsv, 8}, {8, 16}, {-1, 0});
  {
    Case k{"ov_mc2_v4", &kV4, 9, 4, 24, 288, late};
    k.cores = 2;
    ov(k, {16, 24}, {-1, 0});
    k = {"ov_mblk4", &kV4, 20, 4, 13, 289, late};
    k.m_blocked = true;
    k.ifmap_bytes = 48;
    k.weight_buffer = 64;
    k.resident_weights = true;  // (K = 4: a layer's weights fit)
    ov(k, {9}, {-1});
    k = {"graph_res_osdb4", &kV4osdb, 7, 4, 10, 285, late};  // (7 tokens: two m-tiles)
    k.resident_weights = true;
    ov(k, {10, 6}, {-1, 1});
    k = {"graph_inst2_db4_pt", &kV4db, 6, 4, 9, 290, late};
    k.instances = 2;
    k.act = ActQuantMode::per_tensor;
    ov(k, {9, 12}, {-1, 0});
  }
  Rng rng9(2028);
  for (int i = 0; i < 8; ++i)
    v.push_back(random_graph_case(rng9, "random_ov_" + std::to_string(i), all[i % 5],
                                  900 + static_cast<std::uint64_t>(i)));
  // w8a8-mxint8 (MXINT8 both sides, E8M0 scales per 32 along K: block sums chained over a block
  // of k-tiles, rescaled at its end by the block lanes' mx_fp32_acc, y = F16(acc)): ragged,
  // compute-, memory- and edge-bound, refresh, the formats' extremes (invalid codes and scales,
  // infinities, subnormals), chains (the next layer's activations quantized to MXINT8 by the
  // harness), refetched activations, m-blocks, resident weights, instances, two cores both
  // ways, overlapping layers, seeded random cases (the block points' own draws: MXINT8 half
  // of the time, w8a8 or w4a8-is otherwise).
  const Scheme mx = Scheme::w8a8_mxint8;
  v.push_back({"mx4_ragged", &kV4mx, 5, 32, 7, 301, base, mx, 32});
  v.push_back({"mx4_compute_bound", &kV4mx, 40, 64, 12, 302, fast, mx, 32});
  v.push_back({"mx4_memory_bound", &kV4mx, 2, 128, 16, 303, slow, mx, 32});
  v.push_back({"mxdb8_edge_bound", &kV8dbmx, 40, 64, 16, 304, fast, mx, 32});
  v.push_back({"mxdb8_refresh", &kV8dbmx, 17, 96, 21, 305, hbm, mx, 32});
  v.push_back({"mx4_w8a8", &kV4mx, 9, 20, 13, 306, base});
  v.push_back({"mxdb8_is", &kV8dbmx, 17, 48, 21, 307, hbm, is, 16});
  {
    Case k{"mxx4_extremes", &kV4mx, 6, 64, 12, 308, base, mx, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"mxxdb8_extremes", &kV8dbmx, 11, 96, 19, 309, hbm, mx, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"chain3_mx4", &kV4mx, 12, 32, 32, 310, base, mx, 32};
    k.chain = {64, 12};
    v.push_back(k);
    k = {"chain2_mxdb8", &kV8dbmx, 20, 64, 32, 311, fast, mx, 32};
    k.chain = {24};
    v.push_back(k);
    k = {"mx_refetch4", &kV4mx, 12, 64, 13, 312, fast, mx, 32};
    k.ifmap_bytes = 256;
    v.push_back(k);
    mblk({"mx_mblkdb8", &kV8dbmx, 30, 64, 16, 313, base, mx, 32}, 1024, 640);
    res({"res_mx_mblk4", &kV4mx, 24, 32, 13, 314, fast, mx, 32}, true, 512);
    inst({"mx_inst3_db8", &kV8dbmx, 6, 32, 9, 315, hbm, mx, 32}, 3);
    mc({"mc2_mx4", &kV4mx, 9, 64, 24, 316, base, mx, 32}, 2);
    k = {"mc2_mxdb8_split_m", &kV8dbmx, 20, 32, 12, 317, fast, mx, 32};
    k.split_m = true;
    mc(k, 2);
    ov({"graph_mx4", &kV4mx, 9, 32, 12, 318, late, mx, 32}, {12, 32}, {-1, -1});
  }
  // w4a8-mx on fp4xfp8 PEs (MXFP4 weights, MXFP8 E4M3 activations: each product exact in units
  // of 2^-10, the block lanes' u = 10): the same kinds of case, the extremes with E4M3 NaN
  // activations and E2M1's largest magnitude.
  const Scheme mxfp = Scheme::w4a8_mx;
  v.push_back({"fp4db4_ragged", &kV4fp4db, 5, 32, 7, 321, base, mxfp, 32});
  v.push_back({"fp4db4_compute_bound", &kV4fp4db, 40, 64, 12, 322, fast, mxfp, 32});
  v.push_back({"fp4db4_memory_bound", &kV4fp4db, 2, 128, 16, 323, slow, mxfp, 32});
  v.push_back({"fp4db4_refresh", &kV4fp4db, 9, 96, 13, 324, hbm, mxfp, 32});
  {
    Case k{"fp4xdb4_extremes", &kV4fp4db, 6, 64, 12, 325, base, mxfp, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"chain3_fp4db4", &kV4fp4db, 12, 32, 32, 326, base, mxfp, 32};
    k.chain = {64, 12};
    v.push_back(k);
    k = {"fp4_refetchdb4", &kV4fp4db, 12, 64, 13, 327, fast, mxfp, 32};
    k.ifmap_bytes = 256;
    v.push_back(k);
    mblk({"fp4_mblkdb4", &kV4fp4db, 24, 64, 13, 328, base, mxfp, 32}, 512, 256);
    res({"res_fp4_mblkdb4", &kV4fp4db, 24, 32, 13, 329, fast, mxfp, 32}, true, 512);
    inst({"fp4_inst3_db4", &kV4fp4db, 6, 32, 9, 330, hbm, mxfp, 32}, 3);
    mc({"mc2_fp4db4", &kV4fp4db, 9, 64, 24, 331, base, mxfp, 32}, 2);
    k = {"mc2_fp4db4_split_m", &kV4fp4db, 20, 32, 12, 332, fast, mxfp, 32};
    k.split_m = true;
    mc(k, 2);
    ov({"graph_fp4db4", &kV4fp4db, 9, 32, 12, 333, late, mxfp, 32}, {12, 32}, {-1, -1});
  }
  // w4a4-mxfp4 on the same PEs (E2M1 activations, two a byte, widened to E4M3 where they enter
  // the array).
  const Scheme mxfp4 = Scheme::w4a4_mxfp4;
  v.push_back({"mxfp4_db4_ragged", &kV4fp4db, 5, 32, 7, 341, base, mxfp4, 32});
  v.push_back({"mxfp4_db4_compute_bound", &kV4fp4db, 40, 64, 12, 342, fast, mxfp4, 32});
  v.push_back({"mxfp4_db4_memory_bound", &kV4fp4db, 2, 128, 16, 343, slow, mxfp4, 32});
  {
    Case k{"mxfp4_xdb4_extremes", &kV4fp4db, 7, 64, 12, 344, hbm, mxfp4, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_mxfp4_db4", &kV4fp4db, 11, 64, 32, 345, base, mxfp4, 32};
    k.chain = {9};
    v.push_back(k);
    mblk({"mxfp4_mblkdb4", &kV4fp4db, 23, 64, 13, 346, base, mxfp4, 32}, 256, 256);
    res({"res_mxfp4_db4", &kV4fp4db, 21, 32, 13, 347, fast, mxfp4, 32}, true, 256);
    mc({"mc2_mxfp4_db4", &kV4fp4db, 9, 32, 24, 348, hbm, mxfp4, 32}, 2);
  }
  // w4a4-nvfp4 on the same PEs (as w4a4-mxfp4's, with E4M3 block scales per 16 into the lanes'
  // nvfp4_fp32_acc, and the per-tensor scales after 2^-u in the epilogue).
  const Scheme nvfp4 = Scheme::w4a4_nvfp4;
  v.push_back({"nvfp4_db4_ragged", &kV4fp4db, 5, 32, 7, 351, base, nvfp4, 16});
  v.push_back({"nvfp4_db4_compute_bound", &kV4fp4db, 40, 64, 12, 352, fast, nvfp4, 16});
  v.push_back({"nvfp4_db4_memory_bound", &kV4fp4db, 2, 128, 16, 353, slow, nvfp4, 16});
  {
    Case k{"nvfp4_xdb4_extremes", &kV4fp4db, 7, 64, 12, 354, hbm, nvfp4, 16};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_nvfp4_db4", &kV4fp4db, 11, 48, 32, 355, base, nvfp4, 16};
    k.chain = {9};
    v.push_back(k);
    mblk({"nvfp4_mblkdb4", &kV4fp4db, 23, 64, 13, 356, base, nvfp4, 16}, 256, 256);
    res({"res_nvfp4_db4", &kV4fp4db, 21, 32, 13, 357, fast, nvfp4, 16}, true, 256);
    mc({"mc2_nvfp4_db4", &kV4fp4db, 9, 16, 24, 358, hbm, nvfp4, 16}, 2);
  }
  // The MX schemes with fixed block accumulators (mx_fixed_acc lanes, 32 bits): the partial
  // sums' terms shifted and rounded into the integer-scale accumulators' registers, the epilogue
  // F16(F32(acc) 2^-frac); the align_round and overflow events counted against the reference's.
  {
    const Scheme mi8 = Scheme::w8a8_mxint8, f4 = Scheme::w4a8_mx, f44 = Scheme::w4a4_mxfp4;
    v.push_back({"fix_mx4_ragged", &kV4mxfix, 5, 32, 7, 361, base, mi8, 32});
    v.push_back({"fix_mx4_compute_bound", &kV4mxfix, 40, 64, 12, 362, fast, mi8, 32});
    v.push_back({"fix_mx4_memory_bound", &kV4mxfix, 2, 128, 16, 363, slow, mi8, 32});
    v.push_back({"fix_mx4_w8a8", &kV4mxfix, 9, 20, 13, 364, base});
    // (The 48-bit point's accumulator words carry the 32-bit schemes too: w4a8-is's int32 sums
    // sign-extended, w4a8-fs's binary32 in the low bits.)
    v.push_back({"fix_mx4_is", &kV4mxfix, 9, 24, 13, 399, base, Scheme::w4a8_is, 8});
    v.push_back({"fix_mx4_fs", &kV4mxfix, 9, 24, 13, 400, base, Scheme::w4a8_fs, 8});
    Case k{"fix_mxx4_extremes", &kV4mxfix, 6, 64, 12, 365, base, mi8, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_fix_mx4", &kV4mxfix, 11, 64, 32, 366, base, mi8, 32};
    k.chain = {9};
    v.push_back(k);
    mblk({"fix_mx4_mblk", &kV4mxfix, 23, 32, 13, 367, base, mi8, 32}, 512, 256);
    res({"res_fix_mx4", &kV4mxfix, 21, 32, 13, 368, fast, mi8, 32}, true, 256);
    mc({"mc2_fix_mx4", &kV4mxfix, 9, 32, 24, 369, hbm, mi8, 32}, 2);
    v.push_back({"fix_fp4_ragged", &kV4fp4fix, 5, 32, 7, 371, base, f4, 32});
    v.push_back({"fix_fp4_compute_bound", &kV4fp4fix, 40, 64, 12, 372, fast, f4, 32});
    k = {"fix_fp4x_extremes", &kV4fp4fix, 6, 64, 12, 373, hbm, f4, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_fix_fp4", &kV4fp4fix, 11, 64, 32, 374, base, f4, 32};
    k.chain = {9};
    v.push_back(k);
    res({"res_fix_fp4", &kV4fp4fix, 21, 32, 13, 375, fast, f4, 32}, true, 256);
    v.push_back({"fix_mxfp4_ragged", &kV4fp4fix, 5, 32, 7, 376, base, f44, 32});
    k = {"fix_mxfp4x_extremes", &kV4fp4fix, 7, 64, 12, 377, base, f44, 32};
    k.extreme = true;
    v.push_back(k);
    mblk({"fix_mxfp4_mblk", &kV4fp4fix, 23, 64, 13, 378, base, f44, 32}, 256, 256);
  }
  // The block schemes on output-stationary arrays: MXINT8 on int8 PEs; w4a8-mx, w4a4-mxfp4 and
  // w4a4-nvfp4 on fp4xfp8 PEs (E2M1 activations: a step's m nibbles, from the middle of a byte
  // when m is odd).
  {
    const Scheme mi8 = Scheme::w8a8_mxint8, f4 = Scheme::w4a8_mx, f44 = Scheme::w4a4_mxfp4,
                 nv = Scheme::w4a4_nvfp4;
    v.push_back({"osmx4_ragged", &kV4osmx, 3, 32, 7, 381, base, mi8, 32});
    v.push_back({"osmx4_compute_bound", &kV4osmx, 16, 128, 12, 382, fast, mi8, 32});
    v.push_back({"osmx4_memory_bound", &kV4osmx, 2, 128, 16, 383, slow, mi8, 32});
    v.push_back({"osmx4_w8a8", &kV4osmx, 5, 20, 13, 384, base});
    Case k{"osmxx4_extremes", &kV4osmx, 6, 64, 12, 385, base, mi8, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_osmx4", &kV4osmx, 7, 64, 32, 386, base, mi8, 32};
    k.chain = {9};
    v.push_back(k);
    mc({"mc2_osmx4", &kV4osmx, 6, 32, 24, 387, hbm, mi8, 32}, 2);
    v.push_back({"osfp4db4_ragged", &kV4osfp4db, 3, 32, 7, 391, base, f4, 32});
    v.push_back({"osfp4db4_compute_bound", &kV4osfp4db, 16, 128, 12, 392, fast, f4, 32});
    k = {"osfp4xdb4_extremes", &kV4osfp4db, 6, 64, 12, 393, hbm, f4, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_osfp4db4", &kV4osfp4db, 7, 64, 32, 394, base, f4, 32};
    k.chain = {9};
    v.push_back(k);
    mc({"mc2_osfp4db4", &kV4osfp4db, 6, 32, 24, 395, hbm, f4, 32}, 2);
    v.push_back({"osmxfp4db4_ragged", &kV4osfp4db, 3, 32, 7, 396, base, f44, 32});
    k = {"osmxfp4xdb4_extremes", &kV4osfp4db, 7, 64, 12, 397, hbm, f44, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_osmxfp4db4", &kV4osfp4db, 5, 64, 32, 398, base, f44, 32};
    k.chain = {9};
    v.push_back(k);
    v.push_back({"osnvfp4db4_ragged", &kV4osfp4db, 5, 32, 7, 416, base, nv, 16});
    v.push_back({"osnvfp4db4_compute_bound", &kV4osfp4db, 16, 64, 12, 417, fast, nv, 16});
    k = {"osnvfp4xdb4_extremes", &kV4osfp4db, 7, 64, 12, 418, hbm, nv, 16};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_osnvfp4db4", &kV4osfp4db, 7, 48, 32, 419, base, nv, 16};
    k.chain = {9};
    v.push_back(k);
  }
  // w4a4-mxfp4 and -nvfp4 on E2M1 x E2M1 PEs (the activations' codes enter the array as they
  // are; block sums in the reference's own units).
  {
    const Scheme f44 = Scheme::w4a4_mxfp4, nv = Scheme::w4a4_nvfp4;
    v.push_back({"fp4pe_mxfp4_ragged", &kV4fp4pedb, 5, 32, 7, 401, base, f44, 32});
    v.push_back({"fp4pe_mxfp4_compute_bound", &kV4fp4pedb, 40, 64, 12, 402, fast, f44, 32});
    Case k{"fp4pe_mxfp4x_extremes", &kV4fp4pedb, 7, 64, 12, 403, hbm, f44, 32};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_fp4pe_mxfp4", &kV4fp4pedb, 11, 64, 32, 404, base, f44, 32};
    k.chain = {9};
    v.push_back(k);
    mc({"mc2_fp4pe_mxfp4", &kV4fp4pedb, 9, 32, 24, 405, hbm, f44, 32}, 2);
    v.push_back({"fp4pe_nvfp4_ragged", &kV4fp4pedb, 5, 32, 7, 406, base, nv, 16});
    v.push_back({"fp4pe_nvfp4_memory_bound", &kV4fp4pedb, 2, 128, 16, 407, slow, nv, 16});
    k = {"fp4pe_nvfp4x_extremes", &kV4fp4pedb, 7, 64, 12, 408, hbm, nv, 16};
    k.extreme = true;
    v.push_back(k);
    k = {"chain2_fp4pe_nvfp4", &kV4fp4pedb, 11, 48, 32, 409, base, nv, 16};
    k.chain = {9};
    v.push_back(k);
    mblk({"fp4pe_nvfp4_mblk", &kV4fp4pedb, 23, 64, 13, 410, base, nv, 16}, 256, 256);
    res({"res_fp4pe_nvfp4", &kV4fp4pedb, 21, 32, 13, 411, fast, nv, 16}, true, 256);
  }
  const Variant* const mxs[] = {&kV4mx, &kV8dbmx, &kV4fp4db};
  Rng rng10(2029);
  for (int i = 0; i < 12; ++i)
    v.push_back(random_case(rng10, "random_mx_" + std::to_string(i), mxs[i % 3],
                            1100 + static_cast<std::uint64_t>(i)));
  // QUASAR_TILE_SEARCH=<seed>: 300 more seeded random cases (shapes, both design points, DRAM
  // bandwidth, latency, channels, refresh), for searching beyond CI's matrix (docs/validation.md).
  if (const char* seed = std::getenv("QUASAR_TILE_SEARCH")) {
    Rng srch(std::strtoull(seed, nullptr, 10));
    for (int i = 0; i < 300; ++i) {
      const Variant* var = variants[i % 3];
      const std::uint64_t m = 1 + srch.next() % 64, k = 1 + srch.next() % 64, n = 1 + srch.next() % 64;
      Dram d = base;
      d.gbps = static_cast<double>(2 + srch.next() % 31);
      d.latency_ns = static_cast<double>(20 + srch.next() % 100);
      d.channels = 1 + static_cast<std::uint32_t>(srch.next() % 2);
      d.burst = 32u << (srch.next() % 2);
      d.turnaround_ns = static_cast<double>(srch.next() % 8);
      if (srch.next() % 2) d.trefi_ns = 400 + static_cast<double>(srch.next() % 400), d.trfc_ns = 50;
      v.push_back({"search_" + std::to_string(i), var, m, k, n,
                   1000 + static_cast<std::uint64_t>(i), d});
    }
    // ... and 300 over every design point, both schemes (the second slice's).
    for (int i = 0; i < 300; ++i)
      v.push_back(random_case(srch, "search2_" + std::to_string(i), all[i % 5],
                              2000 + static_cast<std::uint64_t>(i)));
    // ... and 150 runs of 2 or 3 layers, each reading the one before (the third slice's).
    for (int i = 0; i < 150; ++i)
      v.push_back(random_chain_case(srch, "search3_" + std::to_string(i), all[i % 5],
                                    3000 + static_cast<std::uint64_t>(i)));
    // ... and 200 output-stationary cases over the four OS points, every scheme; those of more
    // than one m-tile whose weights fit the resident store again with resident weights.
    for (int i = 0; i < 200; ++i) {
      Case k = random_os_case(srch, "search_os_" + std::to_string(i), oss[i % 4],
                              4000 + static_cast<std::uint64_t>(i));
      v.push_back(k);
      const std::uint64_t chunk = whole_k(k.scheme) ? k.k : k.group;
      const std::uint64_t w_all = code_bytes(k.scheme, k.k * k.n) + 2 * k.n * (k.k / chunk);
      if (k.m > static_cast<std::uint64_t>(k.v->rows) && w_all <= kWres) {
        k.resident_weights = true;
        k.name = "res_" + k.name;
        v.push_back(k);
      }
    }
    // ... and 150 multi-core cases: random_case's (every WS point) and random_os_case's on 2 to
    // 4 cores (as many as the layer has n-tiles), with an interconnect half of the time.
    for (int i = 0; i < 150; ++i) {
      Case k = i % 3 == 2 ? random_os_case(srch, "search_mc_" + std::to_string(i), oss[i % 4],
                                           5000 + static_cast<std::uint64_t>(i))
                          : random_case(srch, "search_mc_" + std::to_string(i), all[i % 5],
                                        5000 + static_cast<std::uint64_t>(i));
      const std::uint64_t n_tiles = (k.n + k.v->cols - 1) / k.v->cols;
      k.cores = static_cast<std::uint32_t>(std::min<std::uint64_t>(2 + srch.next() % 3, n_tiles));
      if (srch.next() % 2) {
        k.ic_latency = static_cast<std::uint32_t>(srch.next() % 6);
        k.ic_bpc = static_cast<double>(srch.next() % 33);
      }
      if (k.cores < 2) continue;
      // (OS: weights resident across m-tiles when there are several, the store holding the
      // largest share's; a share of fewer channels fits where the whole layer did not.)
      if (k.v->os) {
        const std::uint64_t chunk = whole_k(k.scheme) ? k.k : k.group;
        const std::uint64_t n_share = ((n_tiles + k.cores - 1) / k.cores) * k.v->cols;
        const std::uint64_t w_share =
            code_bytes(k.scheme, k.k * n_share) + 2 * n_share * (k.k / chunk);
        if (k.m <= static_cast<std::uint64_t>(k.v->rows) || w_share > kWres) continue;
        k.resident_weights = true;
      }
      v.push_back(k);
    }
    // ... and the w4a8-is cases of search2 and search3 again as w4a8-fs, and as w4a8-dgq (the
    // same shapes, groups and memories; the cases above are drawn as before, so seeds keep their
    // cases; OS points run no DGQ).
    const std::size_t n_cases = v.size();
    for (std::size_t i = 0; i < n_cases; ++i) {
      if (v[i].scheme != Scheme::w4a8_is || v[i].name.rfind("search", 0) != 0) continue;
      Case f = v[i];
      f.scheme = Scheme::w4a8_fs;
      f.name = "fs_" + f.name;
      v.push_back(f);
      if (v[i].v->os) continue;
      f.scheme = Scheme::w4a8_dgq;
      f.name = "dgq_" + v[i].name;
      v.push_back(f);
      f.scheme = Scheme::w4a8_qserve;
      f.name = "qs_" + v[i].name;
      v.push_back(f);
    }
    // ... and 200 on the dint4 points (w4a8-dint): 150 single layers over both, 50 chains of 2
    // or 3 layers on the weight-stationary one.
    for (int i = 0; i < 150; ++i) {
      const std::string name = "dint_search_" + std::to_string(i);
      const auto sd = 6000 + static_cast<std::uint64_t>(i);
      v.push_back(dints[i % 2]->os ? random_os_case(srch, name, dints[i % 2], sd)
                                   : random_case(srch, name, dints[i % 2], sd));
    }
    for (int i = 0; i < 50; ++i)
      v.push_back(random_chain_case(srch, "dint_search3_" + std::to_string(i), &kV4dintdb,
                                    6500 + static_cast<std::uint64_t>(i)));
    // ... and 150 on the pipelined-PE points: 100 single layers, 50 chains.
    for (int i = 0; i < 100; ++i)
      v.push_back(random_case(srch, "piped_search_" + std::to_string(i), piped[i % 2],
                              7000 + static_cast<std::uint64_t>(i)));
    for (int i = 0; i < 50; ++i)
      v.push_back(random_chain_case(srch, "piped_search3_" + std::to_string(i), piped[i % 2],
                                    7500 + static_cast<std::uint64_t>(i)));
    // ... and 150 at clocks of no integral ps a cycle (random_case's, every WS point, up to
    // 2000 MHz in steps of 0.5 MHz, no slower than a clock at which the DRAM delivers 24 bytes
    // a cycle: the tile's memory port takes one 32-byte beat a cycle, and the harness stops a
    // run whose data cannot arrive before its request completes).
    for (int i = 0; i < 150; ++i) {
      Case k = random_case(srch, "clk_search_" + std::to_string(i), all[i % 5],
                           8000 + static_cast<std::uint64_t>(i));
      const double lo = std::ceil(2 * k.dram.gbps * 1000 / 24) / 2;
      const auto steps = static_cast<std::uint64_t>(2 * (2000 - lo)) + 1;
      k.clock_mhz = lo + 0.5 * static_cast<double>(srch.next() % steps);
      v.push_back(k);
    }
    // ... and 150 layer graphs (random_graph_case's, every WS point): independent layers and
    // layers reading any earlier one.
    for (int i = 0; i < 150; ++i)
      v.push_back(random_graph_case(srch, "graph_search_" + std::to_string(i), all[i % 5],
                                    9000 + static_cast<std::uint64_t>(i)));
    // ... and 150 on the block points (random_case's: w8a8-mxint8 half of the time on the int8
    // ones, w4a8-mx on the fp4xfp8 one).
    for (int i = 0; i < 150; ++i)
      v.push_back(random_case(srch, "mx_search_" + std::to_string(i), mxs[i % 3],
                              10000 + static_cast<std::uint64_t>(i)));
    // ... and the w4a8-mx ones again as w4a4-mxfp4 and as w4a4-nvfp4 (the same shapes and
    // memories; NVFP4's blocks of 16).
    const std::size_t mx_end = v.size();
    for (const Scheme s : {Scheme::w4a4_mxfp4, Scheme::w4a4_nvfp4})
      for (std::size_t i = mx_end - 150; i < mx_end; ++i) {
        if (v[i].scheme != Scheme::w4a8_mx) continue;
        Case f = v[i];
        f.scheme = s;
        f.group = traits(s).block;
        f.name = (s == Scheme::w4a4_mxfp4 ? "mxfp4_" : "nvfp4_") + f.name;
        v.push_back(f);
      }
    // ... and the MX ones of the 4 x 4 points again with fixed block accumulators (the int8
    // ones' MXINT8 and w8a8 cases on 4x4-mx-fix, the fp4xfp8 ones' on 4x4-fp4x8-fix).
    const std::size_t fix_end = v.size();
    for (std::size_t i = mx_end - 150; i < fix_end; ++i) {
      if ((v[i].v != &kV4mx && v[i].v != &kV4fp4db) || v[i].scheme == Scheme::w4a4_nvfp4)
        continue;
      Case f = v[i];
      f.v = v[i].v == &kV4mx ? &kV4mxfix : &kV4fp4fix;
      f.name = "fix_" + f.name;
      v.push_back(f);
    }
    // ... and the w4a4 copies of the fp4xfp8 ones again on the fp4 PEs.
    for (std::size_t i = mx_end; i < fix_end; ++i) {
      if (v[i].v != &kV4fp4db) continue;
      Case f = v[i];
      f.v = &kV4fp4pedb;
      f.name = "fp4pe_" + f.name;
      v.push_back(f);
    }
    // ... and those 4 x 4 ones again on the output-stationary block
    // points, where the plan fits the tile's command memory (m-tiles of 4 tokens, k-chunks of
    // all of K or a group) and the weights do not fit the OS cases' weight buffer whole (more
    // n-tiles than its 2 slots' worth; the harness expects weights kept only where a case asks).
    // (With the fp4xfp8 point's w4a4-mxfp4 and -nvfp4 copies.)
    for (std::size_t i = mx_end - 150; i < fix_end; ++i) {
      if (v[i].v != &kV4mx && v[i].v != &kV4fp4db) continue;
      std::uint64_t os_tiles = 0;
      bool few_n_tiles = false;
      for (const auto& [k, n] : layer_shapes(v[i])) {
        const std::uint64_t chunks = whole_k(v[i].scheme) ? 1 : k / v[i].group;
        os_tiles += (v[i].m + 3) / 4 * ((n + 3) / 4) * chunks * v[i].instances;
        few_n_tiles = few_n_tiles || n <= 8;
      }
      if (os_tiles > kNtMax || few_n_tiles) continue;
      Case f = v[i];
      f.v = v[i].v == &kV4mx ? &kV4osmx : &kV4osfp4db;
      f.name = "os_" + f.name;
      v.push_back(f);
    }
  }
  return v;
}

// rtl/tile/tile_ws_4x4.yaml, tile_ws_4x4_dint_db.yaml and tile_ws_4x4_fp4x8_db.yaml are the
// designs scripts/tile-area.sh prices against the RTL's area: each must be its matrix point (the
// script synthesizes the RTL at that point's parameters) in every field the cost model's area
// depends on.
void expect_design_file_is_point(const char* file, const Variant* v) {
  const arch::ArchSpec y = config::load_arch(std::string(QUASAR_RTL_TILE_DIR "/") + file);
  Case c;
  c.v = v;
  const arch::ArchSpec a = spec_for(c);
  EXPECT_EQ(y.array.rows, a.array.rows);
  EXPECT_EQ(y.array.cols, a.array.cols);
  EXPECT_EQ(y.array.dataflow, a.array.dataflow);
  EXPECT_EQ(y.array.pe, a.array.pe);
  EXPECT_EQ(y.array.acc_bits, a.array.acc_bits);
  EXPECT_EQ(y.array.double_buffer, a.array.double_buffer);
  EXPECT_EQ(y.array.pe_stages, a.array.pe_stages);
  EXPECT_EQ(y.schemes, a.schemes);
  EXPECT_EQ(y.edge.intscale_units, a.edge.intscale_units);
  EXPECT_EQ(y.edge.intscale_acc_bits, a.edge.intscale_acc_bits);
  EXPECT_EQ(y.edge.floatscale_units, a.edge.floatscale_units);
  EXPECT_EQ(y.edge.epilogue_units, a.edge.epilogue_units);
  EXPECT_EQ(y.edge.dequant_units, a.edge.dequant_units);
  EXPECT_EQ(y.edge.block_units, a.edge.block_units);
  EXPECT_EQ(y.edge.block_acc, a.edge.block_acc);
  if (a.edge.block_acc == BlockAcc::fixed) {
    EXPECT_EQ(y.edge.block_acc_bits, a.edge.block_acc_bits);
    EXPECT_EQ(y.edge.block_frac_bits, a.edge.block_frac_bits);
  }
  for (const auto& [yb, ab] : {std::pair{y.buffers.ifmap, a.buffers.ifmap},
                               std::pair{y.buffers.weight, a.buffers.weight},
                               std::pair{y.buffers.ofmap, a.buffers.ofmap}}) {
    EXPECT_EQ(yb.size_bytes, ab.size_bytes);
    EXPECT_EQ(yb.banks, ab.banks);
    EXPECT_EQ(yb.bytes_per_cycle, ab.bytes_per_cycle);
    EXPECT_EQ(yb.double_buffered, ab.double_buffered);
  }
  EXPECT_EQ(y.buffers.prefetch_depth, a.buffers.prefetch_depth);
  EXPECT_FALSE(y.vector.present());
  EXPECT_EQ(y.cores, 1u);
}

TEST(TileArea, TheDesignFileIsTheFourByFourPoint) {
  expect_design_file_is_point("tile_ws_4x4.yaml", &kV4);
}
TEST(TileArea, TheDintDesignFileIsTheDintPoint) {
  expect_design_file_is_point("tile_ws_4x4_dint_db.yaml", &kV4dintdb);
}
TEST(TileArea, TheFp4DesignFileIsTheFp4Point) {
  expect_design_file_is_point("tile_ws_4x4_fp4x8_db.yaml", &kV4fp4db);
}
TEST(TileArea, TheFixedBlockDesignFileIsTheFixedPoint) {
  expect_design_file_is_point("tile_ws_4x4_mx_fix.yaml", &kV4mxfix);
}

INSTANTIATE_TEST_SUITE_P(Matrix, TileWs, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& i) { return i.param.name; });

}  // namespace
}  // namespace quasar::tile

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
