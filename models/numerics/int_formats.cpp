#include "int_formats.hpp"

namespace quasar {

std::string_view weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::int8:
      return "int8";
    case WeightFormat::int4:
      return "int4";
    case WeightFormat::uint4:
      return "uint4";
    case WeightFormat::dint4:
      return "dint4";
  }
  return "?";
}

IntRange code_range(WeightFormat f) {
  switch (f) {
    case WeightFormat::int8:
      return {-128, 127};
    case WeightFormat::int4:
      return {-8, 7};
    case WeightFormat::uint4:
      return {0, 15};
    case WeightFormat::dint4:
      return {0, 15};
  }
  return {0, 0};
}

}  // namespace quasar
