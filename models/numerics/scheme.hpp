// The schemes (spec section 2) and everything the tool knows about each one, in one table:
// names, parsing and help text, the operands' formats and stored bytes, the group metadata,
// the PE kinds that run it, the units that consume its scales, the accumulation, the action
// names the counters use, the trace keys that apply and the tensors a data-bearing layer holds.
// Mapping, arch, cost, trace and report read these rows instead of switching on the scheme
// (issue 17): a new scheme is a row here plus its decode/quantize code and its units.
// What cannot be a row stays at its call site: engine dispatch (each scheme's operands are
// different C++ types), quantizer recipes, action formulas, per-layer modes, policies.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "block_formats.hpp"

namespace quasar {

enum class Scheme {
  fp16, w8a8, w4a16, w4a8_fs, w4a8_is, w4a8_dgq, w4a8_dint, w4a8_qserve,
  // Block-scaled (spec §5): OCP MX and NVFP4.
  w4a8_mx, w4a4_mxfp4, w8a8_mxint8, w4a4_nvfp4
};

// What one processing element multiplies: int8 x int8, int4 x int8, dint4 x int8, fp16 x fp16,
// and the block formats' element products as exact integers (fp4xfp8: E2M1 x E4M3, fp4: E2M1 x
// E2M1; MXINT8 elements are int8 codes and run on int8 PEs) (arch::ArrayConfig::pe).
enum class PeKind { int8, w4a8, dint4, fp16, fp4xfp8, fp4 };
constexpr std::uint8_t pe_bit(PeKind p) { return static_cast<std::uint8_t>(1u << static_cast<int>(p)); }

// The unit kinds that hold group scales in a register file (arch/scale_rf.hpp).
// block: the block-scale accumulators that add each block's exact integer sum, scaled by the
// block's two scales, into an fp32 or shift-aligned fixed-point accumulator (spec §5).
enum class ScaleUnit { intscale, floatscale, dequant, block };

// Where and how a scheme's partial sums accumulate.
enum class Accumulation {
  fp32,            // fp16 products summed in fp32 (k-tiles merged in fp32)
  int_k,           // integer sum over all of K in acc_bits, then a float epilogue
  int_group_fp32,  // integer group sums (psum_bits), rescaled at the edge in fp32 (float-scale)
  int_group_int,   // integer group sums (psum_bits), rescaled at the edge by P*S (integer-scale)
  int_block,       // exact integer block sums, accumulated at the edge by the block-scale units
                   // (block_acc: fp32 or fixed; spec §5)
};

// A weight dequantizer in front of the array: never, always fused, or chosen per layer (DGQ:
// fused in front of the array, or materialized to memory by a pass before the GEMM).
enum class Dequant { none, fused, selectable };

// The tensor roles a data-bearing layer of the scheme holds (trace::required_roles).
enum class TensorRoles { fp16, w4a16, single, single_int_scales, two_level, block };

// Keys of a trace layer that apply to a scheme (a key that does not apply is an error); the
// manifest writer writes them in this bit order.
namespace trace_key {
enum : std::uint16_t {
  group_size = 1 << 0,
  act = 1 << 1,
  acc_bits = 1 << 2,
  psum_bits = 1 << 3,
  int_scale = 1 << 4,
  alpha_bits = 1 << 5,
  dint_set = 1 << 6,
  dequant = 1 << 7,
  k_tile = 1 << 8,
  block_acc = 1 << 9,
  frac_bits = 1 << 10,
};
}  // namespace trace_key

struct SchemeInfo {
  Scheme id;
  std::string_view name;     // as written in traces, configs and on the command line
  std::string_view summary;  // one line for --help and reports
  // Operands as stored and moved by the DMA.
  bool int_activations;             // int8 activations with fp32 scales (else fp16 or block)
  double act_bytes;                 // bytes per activation element (block scales included)
  double weight_bytes;              // bytes per stored weight element (4-bit codes packed)
  double dequantized_weight_bytes;  // per element of a copy dequantized to memory (0: none)
  bool grouped;                     // per-group scales along K: group_size applies, G | K
  double group_meta_bytes;          // scale/zero bytes per (group, output channel)
  double channel_meta_bytes;        // scale bytes per output channel
  unsigned scale_words_per_group;   // 16-bit scale-register-file words per (group, column)
  // Units.
  std::uint8_t pe_kinds;                // pe_bit() of every PeKind that runs it
  std::optional<ScaleUnit> scale_unit;  // the unit kind that consumes its group scales
  Dequant dequant;
  Accumulation acc;
  const char* mac_action;      // counters.hpp action of one MAC
  const char* dequant_action;  // of one weight dequantized (nullptr: none)
  const char* decode_action;   // of one weight decoded in the PE (nullptr: none)
  // Traces.
  std::uint16_t trace_keys;  // trace_key bits
  TensorRoles roles;
  bool importable;  // a target of `quasar trace import`
  // Block-scaled operands (spec §5): elements per scale block along K (0: not a block scheme;
  // then it is the layer's group size), the element formats, and whether the block scales are
  // E4M3 with an fp32 scale per tensor (NVFP4) rather than E8M0 (MX).
  unsigned block = 0;
  BlockElem x_elem = BlockElem::e2m1;
  BlockElem w_elem = BlockElem::e2m1;
  bool e4m3_scales = false;
};
using SchemeTraits = SchemeInfo;

const std::array<SchemeInfo, 12>& all_schemes();
const SchemeInfo& traits(Scheme s);
std::string_view scheme_name(Scheme s);
std::optional<Scheme> scheme_from_name(std::string_view name);
std::string scheme_names_joined(std::string_view separator = ", ");

// Facts derived from a row, each stated once.
inline bool rescales(const SchemeInfo& t) {
  return t.acc == Accumulation::int_group_fp32 || t.acc == Accumulation::int_group_int ||
         t.acc == Accumulation::int_block;
}
inline bool block_scaled(const SchemeInfo& t) { return t.block != 0; }
inline bool rescale_int(const SchemeInfo& t) { return t.acc == Accumulation::int_group_int; }
inline bool float_accumulation(const SchemeInfo& t) { return t.acc == Accumulation::fp32; }
inline bool two_level(const SchemeInfo& t) { return t.roles == TensorRoles::two_level; }
inline bool pe_runs(PeKind pe, Scheme s) { return (traits(s).pe_kinds & pe_bit(pe)) != 0; }
inline bool consumes_scales(ScaleUnit u, Scheme s) { return traits(s).scale_unit == u; }
inline bool has_trace_key(Scheme s, std::uint16_t key) { return (traits(s).trace_keys & key) != 0; }

// What a quantize_act record turns fp16 activations into (its trace key `act_format`): spec
// §3's per-token int8, or a block-scaled scheme's activation operand (spec §5): MXFP8 (E4M3
// elements), MXFP4 (E2M1) and MXINT8 with an E8M0 scale per 32, NVFP4 (E2M1, an E4M3 scale per
// 16 and an fp32 scale per tensor). Derived from the scheme rows, never typed per scheme.
enum class ActFormat { int8, mxfp8, mxfp4, mxint8, nvfp4 };
struct ActFormatInfo {
  ActFormat format;
  std::string_view name;  // as written in traces
  unsigned block;         // elements per scale block (0: per-token int8, not a block format)
  BlockElem elem;         // the block format's element (block formats only)
};
const std::array<ActFormatInfo, 5>& all_act_formats();
const ActFormatInfo& act_format_info(ActFormat f);
std::optional<ActFormat> act_format_from_name(std::string_view name);
std::string act_format_names_joined(std::string_view separator = ", ");
// The format scheme s quantizes its activations to; nullopt where they stay fp16 (fp16, w4a16).
std::optional<ActFormat> act_format(Scheme s);

// The PE kinds, with their names as written in designs and reports and the technology-table
// unit of one MAC (dint4 PEs are priced as set A's, docs/cost-model.md).
struct PeKindInfo {
  PeKind kind;
  std::string_view name;
  std::string_view mac_unit;
  // mac_unit is in the shipped technology table (a table without it is an error); false: its RTL
  // exists but is not synthesized into the table yet, and the cost report lists it as not priced
  // (every kind's MAC is synthesized now; the flag stays for a kind added before its row).
  bool mac_synthesized;
  // Bits of the activation a PE passes to its neighbour (what a skew register holds).
  std::uint32_t act_bits;
};
const std::array<PeKindInfo, 6>& all_pe_kinds();
const char* pe_kind_name(PeKind p);
std::string pe_kind_names_joined(std::string_view separator = ", ");

// The scale-holding unit kinds: their names and the design key that counts them.
struct ScaleUnitInfo {
  ScaleUnit unit;
  std::string_view name;      // in reports
  std::string_view edge_key;  // edge.<key> in a design
  std::string_view needs;     // what a scheme using it needs, for the design check's message
};
const std::array<ScaleUnitInfo, 4>& all_scale_units();
const char* scale_unit_name(ScaleUnit u);

}  // namespace quasar
