// What a reference GEMM did, counted: actions by kind and operand width (the cost model's
// input later), overflow/saturation events per stage, invalid weight codes.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace quasar {

// Action and stage names: one list, so producers and consumers cannot drift apart.
namespace act {
inline constexpr const char* kMulInt8xInt8 = "mul.int8xint8";
inline constexpr const char* kMulInt4xInt8 = "mul.int4xint8";
inline constexpr const char* kMulDint4xInt8 = "mul.dint4xint8";
inline constexpr const char* kMulFp16xFp16 = "mul.fp16xfp16";  // exact in fp32
inline constexpr const char* kMulE2m1xE4m3 = "mul.e2m1xe4m3";  // block-scaled MACs (spec §5);
inline constexpr const char* kMulE2m1xE2m1 = "mul.e2m1xe2m1";  // MXINT8 uses kMulInt8xInt8
inline constexpr const char* kShiftAlign = "shift.align";      // §5 fixed: I_b shifted to the acc
inline constexpr const char* kMulFp32 = "mul.fp32";
inline constexpr const char* kAddFp32 = "add.fp32";
inline constexpr const char* kCvtIntToFp32 = "cvt.int->fp32";
inline constexpr const char* kCvtFp32ToFp16 = "cvt.fp32->fp16";
inline constexpr const char* kDequantTwoLevel = "dequant.uint4->int8";  // (q - z) * S
inline constexpr const char* kDequantW4ToFp16 = "dequant.w4->fp16";
inline constexpr const char* kDecodeDint4 = "decode.dint4";
inline constexpr const char* kMemWriteBytes = "mem.write_bytes";  // materialized passes
inline constexpr const char* kMemReadBytes = "mem.read_bytes";
// Integer adds and multiplies carry their widths: "add.int32", "mul.int32xint16".
std::string add_int(int bits);
std::string mul_int(int a_bits, int b_bits);
// The integer-scale unit's own multiply and accumulate (P * S into the wide accumulator),
// kept apart from the MAC array's adds: "intscale.mul.int32xint17", "intscale.add.int32".
std::string intscale_mul(int psum_bits, int scale_bits);
std::string intscale_add(int acc_bits);
}  // namespace act

namespace stage {
inline constexpr const char* kGroupPartialSum = "group_psum";     // per-group int sum P
inline constexpr const char* kAccumulator = "accumulator";        // the K-long int accumulator
inline constexpr const char* kIntScaleAcc = "intscale_acc";       // sum of P * S
inline constexpr const char* kDequantRange = "dequant_range";     // dequantized weight out of range
inline constexpr const char* kActSaturate = "act_saturate";       // activation code clamped
inline constexpr const char* kWeightSaturate = "weight_saturate";  // block weight code clamped
inline constexpr const char* kOutputFp16Inf = "output_fp16_inf";  // finite result -> fp16 inf
// Block-scaled GEMMs (spec §5). Not all are overflows: the map holds every counted event.
inline constexpr const char* kBlockAlignRound = "block_align_round";  // fixed: shift dropped bits
inline constexpr const char* kBlockAcc = "block_acc";                 // fixed: term or acc wrapped
inline constexpr const char* kInvalidScale = "invalid_scale";         // E8M0 255: block gives 0
// Events kept in GemmCounters::overflow that are not overflows: a fixed-point alignment that
// rounded, an invalid block scale. overflow_events() leaves them out; reports list them apart.
inline bool is_overflow_stage(const std::string& stage_name) {
  return stage_name != kBlockAlignRound && stage_name != kInvalidScale;
}
}  // namespace stage

struct GemmCounters {
  std::map<std::string, std::uint64_t> actions;
  // Wraps and saturations by stage; the block-scaled GEMMs also count their align_round and
  // invalid_scale events here (stage names above), so overflow_events() includes them.
  std::map<std::string, std::uint64_t> overflow;
  std::uint64_t invalid_codes = 0;

  void add_action(const std::string& name, std::uint64_t n) {
    if (n) actions[name] += n;
  }
  void add_overflow(const std::string& stage_name, std::uint64_t n) {
    if (n) overflow[stage_name] += n;
  }
  std::uint64_t action(const std::string& name) const;
  std::uint64_t overflow_events() const;  // the overflow stages (is_overflow_stage)
  std::uint64_t other_events() const;     // the rest: align_round, invalid_scale
  std::uint64_t int_to_float_conversions() const { return action(act::kCvtIntToFp32); }
  void merge(const GemmCounters& o);
  bool operator==(const GemmCounters& o) const {
    return actions == o.actions && overflow == o.overflow && invalid_codes == o.invalid_codes;
  }
};

}  // namespace quasar
