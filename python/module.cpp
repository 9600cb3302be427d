// The Python API's native half (`quasar._quasar`): each function calls the library functions
// the command line calls, and returns what the matching command prints as JSON (the Python half,
// quasar/__init__.py, turns it into dicts). Every call that simulates runs in a forked child
// (io::run_in_child: SystemC elaborates once per process), so a notebook can run any number.
// Errors are quasar.QuasarError with the library's message (file, key and what is accepted).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>
#include <sstream>

#include "config/arch_config.hpp"
#include "config/sweep_config.hpp"
#include "io/child_process.hpp"
#include "mapping/workload.hpp"
#include "numerics/error.hpp"
#include "config/tech_config.hpp"
#include "report/arch_json.hpp"
#include "report/cost_report.hpp"
#include "report/gemm_study.hpp"
#include "report/run_report.hpp"
#include "request/request.hpp"
#include "sweep/evaluate.hpp"
#include "sweep/points.hpp"
#include "sweep/report.hpp"
#include "sweep/runner.hpp"
#include "sweep/store.hpp"
#include "trace/generate.hpp"
#include "trace/trace.hpp"

namespace py = pybind11;
using namespace quasar;

namespace {

arch::Fidelity fidelity(const std::string& mode) {
  if (mode == "fast") return arch::Fidelity::fast;
  if (mode == "cycle") return arch::Fidelity::cycle;
  throw Error("mode '" + mode + "': accepted: fast, cycle");
}

// In a child, with the GIL released (the child never touches Python).
std::string in_child(const std::function<std::string()>& work) {
  py::gil_scoped_release release;
  return io::run_in_child(work);
}

std::string design_json(const std::string& arch, const std::vector<std::string>& sets) {
  return arch_to_json(config::load_arch_with(arch, sets)).dump();
}

std::string run_json(const std::string& arch, const std::vector<std::string>& sets,
                     const std::string& trace_path, const std::string& mode) {
  const arch::ArchSpec spec = config::load_arch_with(arch, sets);  // errors before the fork
  const arch::Fidelity f = fidelity(mode);
  const trace::Trace t =
      trace_path.empty() ? default_run_trace(spec) : trace::read_manifest(trace_path);
  return in_child([&] {
    std::ostringstream os;
    print_run_json(os, run_trace(spec, t, f));
    return os.str();
  });
}

std::string request_json(const std::string& arch, const std::vector<std::string>& sets,
                         const std::string& model, std::uint64_t prompt, std::uint64_t generate,
                         std::uint64_t batch, std::uint64_t layers, const std::string& mode) {
  const arch::ArchSpec spec = config::load_arch_with(arch, sets);
  request::RequestSpec rs;
  rs.model = trace::embedded_model(model);
  rs.prompt = prompt;
  rs.generate = generate;
  rs.batch = batch;
  rs.decoder_layers = layers;
  rs.linear_scheme = mapping::design_layer_scheme(spec, spec.schemes.front());
  const arch::Fidelity f = fidelity(mode);
  return in_child([&] {
    std::ostringstream os;
    request::print_request_json(os, request::run_request(spec, rs, f));
    return os.str();
  });
}

// Runs a sweep spec into a store (each point in its own child, as `quasar sweep`); returns the
// summary as JSON.
std::string sweep_json(const std::string& spec_path, const std::vector<std::string>& sets,
                       const std::string& store_path, unsigned jobs) {
  const sweep::SweepSpec s = config::read_sweep_spec(spec_path, sets);
  const std::vector<sweep::Point> points =
      sweep::enumerate_points(s, std::string(QUASAR_VERSION) + ", " + sweep::model_fingerprint());
  const std::string path = store_path.empty() ? s.name + ".sweep.db" : store_path;
  sweep::Store st(path);
  st.bind_sweep(s.name, s.text,
                std::filesystem::absolute(spec_path).parent_path().lexically_normal().string());
  sweep::RunOptions o;
  o.jobs = jobs;
  o.progress = io::ProgressLine::Mode::off;
  sweep::RunSummary r;
  {
    py::gil_scoped_release release;
    r = sweep::run_sweep(s, points, st, o);
  }
  nlohmann::json j = {{"sweep", s.name},     {"store", path},        {"points", r.points},
                      {"already", r.already}, {"ran", r.ran},         {"failed", r.failed},
                      {"skipped", r.skipped}, {"failures", r.failures},
                      {"interrupted", r.interrupted}, {"not_run", r.not_run}};
  return j.dump();
}

std::string sweep_points_json(const std::string& store_path) {
  const sweep::Store st(store_path, sweep::Store::Mode::read_only);
  std::ostringstream os;
  sweep::export_json(os, st.all());
  return os.str();
}

// `quasar compare --format json` on report.json files, priced with the shipped tables.
std::string compare_json(const std::vector<std::string>& reports, bool allow_different_traces,
                         const std::string& stream) {
  if (reports.size() < 2) throw Error("compare needs two or more report.json files");
  const cost::Tech tech = config::load_tech();
  std::vector<RunRecord> runs;
  std::vector<cost::CostReport> costs;
  for (const std::string& f : reports) {
    runs.push_back(read_run_report(f));
    costs.push_back(price_record(runs.back(), tech, stream));
  }
  std::ostringstream os;
  compare_runs(os, runs, costs, CompareFormat::json, allow_different_traces);
  return os.str();
}

MatrixF to_matrix(const py::array_t<float, py::array::c_style | py::array::forcecast>& a,
                  const char* name) {
  if (a.ndim() != 2)
    throw Error(std::string(name) + " must be a 2-D array, got " + std::to_string(a.ndim()) + "-D");
  MatrixF m(static_cast<std::size_t>(a.shape(0)), static_cast<std::size_t>(a.shape(1)));
  std::copy(a.data(), a.data() + a.size(), m.values().begin());
  return m;
}

py::array_t<float> to_array(const MatrixF& m) {
  py::array_t<float> a({m.rows(), m.cols()});
  std::copy(m.values().begin(), m.values().end(), a.mutable_data());
  return a;
}

// gemm on numpy arrays: the `quasar gemm --format json` report, the fp32 reference and each
// scheme's fp32 output (its fp16 codes widened exactly).
py::dict gemm(const py::array_t<float, py::array::c_style | py::array::forcecast>& x,
              const py::array_t<float, py::array::c_style | py::array::forcecast>& w,
              const std::vector<std::string>& schemes, std::uint32_t group) {
  GemmStudySpec spec;
  for (const std::string& n : schemes) {
    const auto s = scheme_from_name(n);
    if (!s) throw Error("scheme '" + n + "': accepted: " + scheme_names_joined(", "));
    spec.schemes.push_back(*s);
  }
  spec.config.group_size = group;
  const GemmStudy st = run_gemm_study_on(spec, to_matrix(x, "x"), to_matrix(w, "w"), "numpy");
  std::ostringstream os;
  print_gemm_json(os, st);
  py::dict out, ys;
  for (const SchemeRun& r : st.runs) ys[py::str(std::string(scheme_name(r.scheme)))] = to_array(to_f32(r.result.y));
  out["report"] = os.str();
  out["reference"] = to_array(st.reference);
  out["outputs"] = ys;
  return out;
}

}  // namespace

// libsystemc references sc_main (its own main() would call it); simulations start from library
// code, so this is never called. Visible, so the module's load group resolves it.
extern "C" __attribute__((visibility("default"))) int sc_main(int, char**) { return 0; }

PYBIND11_MODULE(_quasar, m) {
  m.doc() = "quasar's native functions; use the quasar package (python/quasar/__init__.py)";
  py::register_exception<Error>(m, "QuasarError");
  m.def("design_json", &design_json, py::arg("arch"), py::arg("sets"));
  m.def("run_json", &run_json, py::arg("arch"), py::arg("sets"), py::arg("trace"), py::arg("mode"));
  m.def("request_json", &request_json, py::arg("arch"), py::arg("sets"), py::arg("model"),
        py::arg("prompt"), py::arg("generate"), py::arg("batch"), py::arg("layers"),
        py::arg("mode"));
  m.def("sweep_json", &sweep_json, py::arg("spec"), py::arg("sets"), py::arg("store"),
        py::arg("jobs"));
  m.def("sweep_points_json", &sweep_points_json, py::arg("store"));
  m.def("compare_json", &compare_json, py::arg("reports"), py::arg("allow_different_traces"),
        py::arg("stream"));
  m.def("gemm", &gemm, py::arg("x"), py::arg("w"), py::arg("schemes"), py::arg("group"));
  m.def("shipped_designs", [] { return config::shipped_arch_names(); });
  m.attr("version") = QUASAR_VERSION;
}
