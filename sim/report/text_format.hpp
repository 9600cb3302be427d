// Small text formatting shared by the reports (tables, CSV, HTML, scripts): one definition each.
#pragma once

#include <fmt/format.h>

#include <string>

namespace quasar::text {

// Energy in engineering units: 12.3 uJ, 4.56 mJ, ... (pJ in).
inline std::string joules(double pj) {
  // The unit is chosen on the value as printed (3 significant digits), so 0.9996 J reads
  // "1 J", not "1e+03 mJ".
  const double j = std::stod(fmt::format("{:.3g}", pj * 1e-12));
  if (j >= 1) return fmt::format("{:.3g} J", j);
  if (j >= 1e-3) return fmt::format("{:.3g} mJ", j * 1e3);
  if (j >= 1e-6) return fmt::format("{:.3g} uJ", j * 1e6);
  if (j >= 1e-9) return fmt::format("{:.3g} nJ", j * 1e9);
  return fmt::format("{:.3g} pJ", j * 1e12);
}

// Digits of numbers written to CSV: enough that two values a report tells apart differ there.
inline constexpr int kCsvDigits = 12;

// A CSV field, quoted (RFC 4180) when it holds a comma, quote or newline.
inline std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

// A word for /bin/sh, single-quoted.
inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace quasar::text
