// Is every row of the scheme table (numerics/scheme.hpp) consistent with itself? Mapping, arch,
// cost and trace read these rows instead of switching on the scheme, so a new row (a new
// format) that contradicts itself would be priced and timed wrongly without any other test
// noticing. Each rule is one the table's readers rely on.
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "numerics/counters.hpp"
#include "numerics/scheme.hpp"

namespace quasar {
namespace {

TEST(SchemeTable, RowsAreInEnumOrderWithUniqueNames) {
  std::set<std::string> names;
  for (std::size_t i = 0; i < all_schemes().size(); ++i) {
    const SchemeInfo& t = all_schemes()[i];
    EXPECT_EQ(static_cast<std::size_t>(t.id), i) << t.name;  // traits() indexes by enum value
    EXPECT_EQ(&traits(t.id), &t);
    EXPECT_TRUE(names.insert(std::string(t.name)).second) << t.name;
    EXPECT_EQ(scheme_from_name(t.name), t.id);
  }
}

TEST(SchemeTable, EachRowAgreesWithItself) {
  for (const SchemeInfo& t : all_schemes()) {
    SCOPED_TRACE(std::string(t.name));
    // Activations: int8 (1 byte, fp32 scales, the act key), block-scaled (the element's bits
    // and one 8-bit scale per block) or fp16 (2 bytes, fp32 sums).
    const double block_act =
        block_scaled(t) ? elem_bits(t.x_elem) / 8.0 + 1.0 / t.block : 0.0;
    EXPECT_EQ(t.act_bytes, t.int_activations ? 1.0 : block_scaled(t) ? block_act : 2.0);
    EXPECT_FALSE(t.int_activations && block_scaled(t));
    EXPECT_EQ(has_trace_key(t.id, trace_key::act), t.int_activations);
    EXPECT_EQ(float_accumulation(t), !t.int_activations && !block_scaled(t));
    // Integer sums have a width key (block schemes: their fixed accumulator's, with the mode
    // and fraction keys; NVFP4 accumulates in fp32 only and has none); fp32 sums a k_tile.
    const bool mx = block_scaled(t) && !t.e4m3_scales;
    EXPECT_EQ(has_trace_key(t.id, trace_key::acc_bits),
              !float_accumulation(t) && (!block_scaled(t) || mx));
    EXPECT_EQ(has_trace_key(t.id, trace_key::block_acc), mx);
    EXPECT_EQ(has_trace_key(t.id, trace_key::frac_bits), mx);
    // Block rows: the accumulation, the scale unit and their weights' element bits.
    EXPECT_EQ(t.acc == Accumulation::int_block, block_scaled(t));
    if (block_scaled(t)) {
      EXPECT_EQ(t.weight_bytes, elem_bits(t.w_elem) / 8.0);
      EXPECT_EQ(t.group_meta_bytes, 1.0);  // one 8-bit scale per (block, channel)
      EXPECT_EQ(t.scale_unit, ScaleUnit::block);
      EXPECT_EQ(t.block, t.e4m3_scales ? 16u : 32u);
    }
    EXPECT_EQ(has_trace_key(t.id, trace_key::k_tile), float_accumulation(t));
    // Groups: the group_size key, metadata per group, and rescales only of groups.
    EXPECT_EQ(has_trace_key(t.id, trace_key::group_size), t.grouped && !block_scaled(t));
    EXPECT_EQ(t.group_meta_bytes > 0, t.grouped);
    EXPECT_TRUE(!rescales(t) || t.grouped);
    // (A block's integer sum is exact by construction: no width key.)
    EXPECT_EQ(has_trace_key(t.id, trace_key::psum_bits), rescales(t) && !block_scaled(t));
    // Whatever consumes group scales holds them in its register file, rounded up to words.
    EXPECT_EQ(t.scale_words_per_group,
              static_cast<unsigned>(std::ceil(t.group_meta_bytes * 8 / 16)));
    EXPECT_EQ(t.scale_unit.has_value(), t.scale_words_per_group > 0);
    EXPECT_EQ(t.scale_unit == ScaleUnit::intscale, rescale_int(t));
    EXPECT_EQ(t.scale_unit == ScaleUnit::floatscale, t.acc == Accumulation::int_group_fp32);
    EXPECT_EQ(t.scale_unit == ScaleUnit::dequant, t.dequant != Dequant::none);
    EXPECT_EQ(t.dequant_action != nullptr, t.dequant != Dequant::none);
    // Only a per-layer choice of dequantizing to memory has a dequantized copy, and only DGQ
    // has the key that chooses.
    EXPECT_EQ(t.dequantized_weight_bytes > 0, t.dequant == Dequant::selectable);
    EXPECT_EQ(has_trace_key(t.id, trace_key::dequant), t.dequant == Dequant::selectable);
    // Some PE runs it; stored weights are whole bytes or packed 4-bit codes.
    EXPECT_NE(t.pe_kinds, 0);
    EXPECT_TRUE(t.weight_bytes == 0.5 || t.weight_bytes == 1.0 || t.weight_bytes == 2.0);
    EXPECT_NE(t.mac_action, nullptr);
  }
}

TEST(SchemeTable, PeKindsAndScaleUnitsAreNamedOnce) {
  std::set<std::string> pe, units;
  for (std::size_t i = 0; i < all_pe_kinds().size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(all_pe_kinds()[i].kind), i);
    EXPECT_TRUE(pe.insert(std::string(all_pe_kinds()[i].name)).second);
    EXPECT_EQ(pe_kind_name(all_pe_kinds()[i].kind), all_pe_kinds()[i].name);
  }
  EXPECT_EQ(pe_kind_names_joined(), "int8, w4a8, dint4, fp16, fp4xfp8, fp4");
  for (std::size_t i = 0; i < all_scale_units().size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(all_scale_units()[i].unit), i);
    EXPECT_TRUE(units.insert(std::string(all_scale_units()[i].name)).second);
  }
  // Every PE kind runs some scheme.
  for (const PeKindInfo& p : all_pe_kinds()) {
    bool any = false;
    for (const SchemeInfo& t : all_schemes()) any = any || pe_runs(p.kind, t.id);
    EXPECT_TRUE(any) << p.name;
  }
}

// The stored rates the issue names: an MXFP4 element 4.25 bits (8-bit scale per 32), an NVFP4
// element 4.5 (8-bit scale per 16), an MXINT8 or MXFP8 one 8.25.
TEST(SchemeTable, BlockFormatsStoreTheirScaleBytes) {
  const auto bits = [](Scheme s, bool weights) {
    const SchemeInfo& t = traits(s);
    return 8.0 * ((weights ? t.weight_bytes : t.act_bytes) +
                  (weights ? t.group_meta_bytes / t.block : 0.0));
  };
  EXPECT_EQ(bits(Scheme::w4a4_mxfp4, true), 4.25);
  EXPECT_EQ(bits(Scheme::w4a4_mxfp4, false), 4.25);
  EXPECT_EQ(bits(Scheme::w4a4_nvfp4, true), 4.5);
  EXPECT_EQ(bits(Scheme::w4a4_nvfp4, false), 4.5);
  EXPECT_EQ(bits(Scheme::w4a8_mx, true), 4.25);
  EXPECT_EQ(bits(Scheme::w4a8_mx, false), 8.25);
  EXPECT_EQ(bits(Scheme::w8a8_mxint8, true), 8.25);
  EXPECT_EQ(bits(Scheme::w8a8_mxint8, false), 8.25);
}

// The activation formats a quantize_act record names agree with the scheme rows they are
// derived from: a block scheme's format has its block and activation element, an int8 one is
// per token, fp16-activation schemes have none; names are unique and parse back.
TEST(SchemeTable, ActFormatsAgreeWithTheSchemeRows) {
  for (std::size_t i = 0; i < all_act_formats().size(); ++i) {
    const ActFormatInfo& f = all_act_formats()[i];
    EXPECT_EQ(static_cast<std::size_t>(f.format), i);
    EXPECT_EQ(act_format_from_name(f.name), f.format);
  }
  for (const SchemeInfo& s : all_schemes()) {
    const std::optional<ActFormat> f = act_format(s.id);
    if (!s.int_activations && !block_scaled(s)) {
      EXPECT_FALSE(f.has_value()) << s.name;
      continue;
    }
    ASSERT_TRUE(f.has_value()) << s.name;
    const ActFormatInfo& info = act_format_info(*f);
    EXPECT_EQ(info.block, s.block) << s.name;
    if (block_scaled(s)) {
      EXPECT_EQ(info.elem, s.x_elem) << s.name;
    }
  }
  EXPECT_FALSE(act_format_from_name("int4").has_value());
}

}  // namespace
}  // namespace quasar
