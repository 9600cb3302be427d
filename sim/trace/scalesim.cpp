#include "scalesim.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <vector>

#include "io/input_file.hpp"
#include "numerics/error.hpp"

namespace quasar::trace {
namespace {

std::string trim(const std::string& s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::vector<std::string> split(const std::string& row) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(row);
  while (std::getline(in, field, ',')) out.push_back(trim(field));
  return out;
}

}  // namespace

Trace import_scalesim_csv(const std::string& text, const std::string& source,
                          const LayerScheme& scheme) {
  std::istringstream in(text);
  std::string row;
  int line = 0;
  bool conv = false, header_seen = false;
  Trace t;
  t.name = source.substr(
      source.find_last_of('/') == std::string::npos ? 0 : source.find_last_of('/') + 1);
  t.meta["generator"] = "quasar trace scalesim-import";
  t.meta["source"] = source;
  auto fail = [&](const std::string& what) -> void {
    throw Error(source + ":" + std::to_string(line) + ": " + what);
  };
  auto number = [&](const std::string& field, const char* what) {
    std::size_t used = 0;
    unsigned long long v = 0;
    try {
      v = std::stoull(field, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != field.size() || field[0] == '-' || v == 0) {
      fail(std::string(what) + " '" + field + "' is not a positive integer");
    }
    return static_cast<std::uint64_t>(v);
  };
  while (std::getline(in, row)) {
    ++line;
    if (!row.empty() && row.back() == '\r') row.pop_back();
    if (trim(row).empty()) continue;
    if (!header_seen) {
      header_seen = true;
      const std::vector<std::string> h = split(row);
      const std::string first = h.empty() ? "" : lower(h[0]);
      if (h.size() >= 4 && lower(h[1]) == "m" && lower(h[2]) == "n" && lower(h[3]) == "k") {
        conv = false;
      } else if (h.size() >= 8 && first == "layer name" && lower(h[1]) == "ifmap height") {
        conv = true;
      } else {
        fail(
            "header is neither SCALE-Sim's GEMM form 'Layer, M, N, K,' nor its conv form "
            "'Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num "
            "Filter, Strides,'");
      }
      continue;
    }
    if (trim(row).back() != ',')
      fail("row does not end with ',' (SCALE-Sim drops the last field of every row)");
    std::vector<std::string> f = split(trim(row));
    Layer l;
    l.op = Op::linear;
    l.scheme = scheme;
    l.line = line;
    l.name = f.empty() ? "" : f[0];
    if (l.name.empty()) fail("row has no layer name");
    if (!conv) {
      if (f.size() < 4) fail("a GEMM row needs 'name, M, N, K,'");
      l.m = number(f[1], "M");
      l.n = number(f[2], "N");
      l.k = number(f[3], "K");
    } else {
      if (f.size() < 8)
        fail(
            "a conv row needs name, ifmap h, ifmap w, filter h, filter w, channels, filters, "
            "stride");
      const std::uint64_t ih = number(f[1], "IFMAP Height"), iw = number(f[2], "IFMAP Width");
      const std::uint64_t fh = number(f[3], "Filter Height"), fw = number(f[4], "Filter Width");
      std::uint64_t ch = number(f[5], "Channels");
      const std::uint64_t nf = number(f[6], "Num Filter"), sh = number(f[7], "Strides");
      const std::uint64_t sw = f.size() >= 9 ? number(f[8], "Stride W") : sh;
      if (fh > ih || fw > iw) fail("filter larger than the input feature map");
      if (l.name.find("DP") != std::string::npos) {  // depthwise: per-channel convolutions
        l.repeat = ch;
        ch = 1;
      }
      const std::uint64_t oh = (ih - fh + sh + sh - 1) / sh, ow = (iw - fw + sw + sw - 1) / sw;
      l.m = oh * ow;
      l.k = fh * fw * ch;
      l.n = nf;
    }
    for (const Layer& other : t.layers) {
      if (other.name == l.name) fail("layer name '" + l.name + "' repeats");
    }
    t.layers.push_back(l);
  }
  if (!header_seen) throw Error(source + ": empty file (expected a SCALE-Sim topology CSV)");
  if (t.layers.empty()) throw Error(source + ": a header but no layer rows");
  validate(t, source);
  return t;
}

Trace read_scalesim_csv(const std::string& path, const LayerScheme& scheme) {
  return import_scalesim_csv(io::read_text_file(path, "SCALE-Sim topology CSV"), path, scheme);
}

std::string export_scalesim_csv(const Trace& t) {
  std::ostringstream o;
  o << "Layer, M, N, K,\n";
  for (const Layer& l : t.layers) {
    if (!is_gemm(l.op)) continue;
    const std::uint64_t copies = l.batch * l.repeat;
    for (std::uint64_t i = 0; i < copies; ++i) {
      std::string name = copies > 1 ? l.name + "#" + std::to_string(i) : l.name;
      std::replace(name.begin(), name.end(), ',', '_');  // the CSV has no quoting
      o << name << ", " << l.m << ", " << l.n << ", " << l.k << ",\n";
    }
  }
  return o.str();
}

}  // namespace quasar::trace
