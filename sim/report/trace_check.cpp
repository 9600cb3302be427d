#include "trace_check.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "numerics/error.hpp"
#include "numerics/float_formats.hpp"
#include "trace/layer_data.hpp"
#include "trace/op_data.hpp"
#include "trace/tensor_loader.hpp"

namespace quasar {

namespace {

// "[i, j, ...]": the flat index `flat` in a C-order tensor of `shape`.
std::string index_in(const std::vector<std::int64_t>& shape, std::size_t flat) {
  std::vector<std::size_t> idx(shape.size());
  for (std::size_t d = shape.size(); d-- > 0;) {
    const auto n = static_cast<std::size_t>(std::max<std::int64_t>(shape[d], 1));
    idx[d] = flat % n;
    flat /= n;
  }
  std::string out = "[";
  for (std::size_t d = 0; d < idx.size(); ++d) out += (d ? ", " : "") + std::to_string(idx[d]);
  return out + "]";
}

// One element of a tensor as a number, for the mismatch report.
float element(const safetensors::Tensor& t, std::size_t i) {
  using safetensors::DType;
  const std::uint8_t* p = t.bytes.data() + i * safetensors::dtype_size(t.dtype);
  switch (t.dtype) {
    case DType::F16: {
      std::uint16_t h;
      std::memcpy(&h, p, 2);
      return f16_to_f32(h);
    }
    case DType::F32: {
      float f;
      std::memcpy(&f, p, 4);
      return f;
    }
    case DType::I8:
      return static_cast<float>(static_cast<std::int8_t>(*p));
    case DType::U8:
      return static_cast<float>(*p);
    case DType::I32: {
      std::int32_t v;
      std::memcpy(&v, p, 4);
      return static_cast<float>(v);
    }
    default:
      return 0.0f;
  }
}

// A non-GEMM record: recomputed from its recorded inputs, every output role it holds compared
// element by element, bit for bit (an F32 NaN equals only the same NaN).
LayerCheck check_op_record(const trace::Layer& l, const safetensors::File& payload,
                           const std::string& payload_file, const VectorEngine& engine) {
  trace::OpResult r = trace::run_op_record(l, payload, payload_file, engine);
  LayerCheck lc;
  lc.layer = l.name;
  lc.kind = trace::op_record_kind(l);
  lc.gemm = false;
  lc.counters = std::move(r.counters);
  lc.has_expected = true;
  for (const auto& [role, got] : r.outputs) {
    const auto it = l.tensors.find(role);
    if (it == l.tensors.end()) continue;
    const safetensors::Tensor& want = payload.get(it->second, payload_file);
    if (want.dtype != got.dtype || want.shape != got.shape) {
      throw Error(payload_file + ": layer '" + l.name + "': tensor '" + it->second + "' (role " +
                  role + ") has dtype " + std::string(safetensors::dtype_name(want.dtype)) +
                  " and shape " + trace::TensorLoader::str(want.shape) + ", expected " +
                  std::string(safetensors::dtype_name(got.dtype)) + " and shape " +
                  trace::TensorLoader::str(got.shape));
    }
    const std::size_t size = safetensors::dtype_size(got.dtype), n = got.numel();
    lc.compared += n;
    for (std::size_t i = 0; i < n; ++i) {
      if (std::memcmp(got.bytes.data() + i * size, want.bytes.data() + i * size, size) != 0 &&
          lc.mismatches++ == 0) {
        lc.first = i;
        lc.first_role = role;
        lc.first_at = index_in(got.shape, i);
        lc.got = element(got, i);
        lc.want = element(want, i);
      }
    }
    if (role == "y" && got.dtype == safetensors::DType::F16 && got.shape.size() == 2) {
      lc.y =
          MatrixH(static_cast<std::size_t>(got.shape[0]), static_cast<std::size_t>(got.shape[1]));
      if (n) std::memcpy(lc.y.values().data(), got.bytes.data(), got.bytes.size());
    }
  }
  return lc;
}

}  // namespace

bool TraceCheck::all_match() const {
  for (const LayerCheck& l : layers) {
    if (!l.has_expected || l.mismatches) return false;
  }
  return !layers.empty();
}

TraceCheck check_trace(const std::string& manifest_path, const GemmEngine& engine,
                       const std::string& engine_note,
                       const std::function<std::string(const trace::Layer&)>& not_run_by_engine,
                       const VectorEngine& vector_engine) {
  const trace::Trace t = trace::read_manifest(manifest_path);
  if (t.payload.empty()) {
    throw Error(manifest_path + ": trace '" + t.name +
                "' is shape-only (no payload): nothing to check");
  }
  const std::string payload_file = trace::payload_path(manifest_path, t);
  const safetensors::File payload = safetensors::read(payload_file);
  TraceCheck c;
  c.trace = t.name;
  c.engine = engine_note;
  c.vector_engine = std::string(vector_engine.name());
  for (const trace::Layer& l : t.layers) {
    if (l.tensors.empty()) {
      c.shape_only.push_back(l.name);
      continue;
    }
    if (l.op_data()) {
      c.layers.push_back(check_op_record(l, payload, payload_file, vector_engine));
      continue;
    }
    const trace::LayerData d = trace::load_layer_data(l, payload, payload_file);
    LayerCheck lc;
    lc.layer = l.name;
    lc.scheme = l.scheme->scheme;
    lc.kind = scheme_name(lc.scheme);
    GemmResult r;
    const std::string why = not_run_by_engine ? not_run_by_engine(l) : std::string();
    if (!why.empty()) c.on_reference.push_back(l.name + " (" + why + ")");
    try {
      r = trace::run_layer(why.empty() ? engine : cpu_engine(), l, d.operands);
    } catch (const Error& e) {
      // run_layer names the payload tensor; say which file and layer it came from.
      throw Error(payload_file + ": layer '" + l.name + "': " + e.what());
    }
    lc.counters = std::move(r.counters);
    lc.y = std::move(r.y);
    if (d.expected_y) {
      lc.has_expected = true;
      lc.compared = lc.y.size();
      for (std::size_t i = 0; i < lc.y.size(); ++i) {
        if (lc.y.values()[i] != d.expected_y->values()[i] && lc.mismatches++ == 0) {
          lc.first = i;
          lc.first_role = "y";
          lc.first_at = index_in(
              {static_cast<std::int64_t>(lc.y.rows()), static_cast<std::int64_t>(lc.y.cols())}, i);
          lc.got = f16_to_f32(lc.y.values()[i]);
          lc.want = f16_to_f32(d.expected_y->values()[i]);
        }
      }
    }
    c.layers.push_back(std::move(lc));
  }
  if (c.layers.empty())
    throw Error(manifest_path + ": no layer of trace '" + t.name + "' carries tensors");
  return c;
}

void print_trace_check(std::ostream& os, const TraceCheck& c) {
  os << "trace " << c.trace << ", " << c.engine << "\n";
  std::size_t ops = 0;
  for (const LayerCheck& l : c.layers) ops += l.gemm ? 0 : 1;
  if (ops) {
    if (c.vector_engine == "cpu")
      os << "non-GEMM records: recomputed from their recorded inputs by the numerics reference "
            "(CPU), every output role compared\n";
    else
      os << "non-GEMM records: recomputed from their recorded inputs on the " << c.vector_engine
         << " (smoothed or block activation quantization and attention's optional scores and "
            "probabilities on the CPU reference), every output role compared\n";
  }
  std::size_t name_w = 32, kind_w = 12;  // widened to the longest, so the columns line up
  for (const LayerCheck& l : c.layers) {
    name_w = std::max(name_w, l.layer.size());
    kind_w = std::max(kind_w, l.kind.size());
  }
  os << fmt::format("\n{:<{}} {:<{}} {:<8} {:>10} {:>10}  {}\n", "layer", name_w, "scheme/op",
                    kind_w, "match", "overflows", "invalid", "first mismatch");
  for (const LayerCheck& l : c.layers) {
    const std::string match = !l.has_expected ? "no ref" : l.mismatches ? "NO" : "yes";
    std::string first;
    if (l.mismatches && l.gemm) {
      first =
          fmt::format("{}: got {} want {} ({} differ)", l.first_at, l.got, l.want, l.mismatches);
    } else if (l.mismatches) {
      first = fmt::format("{}{}: got {} want {} ({} of {} differ)", l.first_role, l.first_at, l.got,
                          l.want, l.mismatches, l.compared);
    }
    os << fmt::format("{:<{}} {:<{}} {:<8} {:>10} {:>10}  {}\n", l.layer, name_w, l.kind, kind_w,
                      match, l.counters.overflow_events(), l.counters.invalid_codes, first);
  }
  if (!c.on_reference.empty()) {
    os << "\nnot run by the design, checked on the CPU reference instead:";
    for (std::size_t i = 0; i < c.on_reference.size(); ++i)
      os << (i ? ", " : " ") << c.on_reference[i];
    os << "\n";
  }
  if (!c.shape_only.empty()) {
    std::string names;
    for (const std::string& n : c.shape_only) names += (names.empty() ? "" : ", ") + n;
    os << "\nshape-only records, not checked (" << c.shape_only.size() << "): " << names << "\n";
  }
  if (c.all_match()) {
    os << "\nall layers bit-exact (" << c.layers.size() << " records: " << c.layers.size() - ops
       << " GEMM, " << ops << " non-GEMM)\n";
  } else {
    os << "\nMISMATCH: see the table\n";
  }
}

std::string counters_json(const TraceCheck& c) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (const LayerCheck& l : c.layers) {
    j[l.layer] = {{"actions", l.counters.actions},
                  {"overflow", l.counters.overflow},
                  {"invalid_codes", l.counters.invalid_codes}};
  }
  return j.dump(2) + "\n";
}

}  // namespace quasar
