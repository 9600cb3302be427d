#include "gemm_command.hpp"

#include <iostream>
#include <memory>
#include <sstream>

#include "cli_checks.hpp"
#include "numerics/error.hpp"
#include "report/gemm_study.hpp"

namespace quasar::app {
namespace {

struct GemmArgs {
  std::vector<std::string> schemes{"all"};
  GemmStudySpec spec;
  std::string int_scale = "fixed";
  std::string act = "per-token";
  std::string dint_set = "A";
  std::string dgq_dequant = "fused";
  std::string scale_dtype = "fp16";
  std::string device = "cpu";
  bool no_aqas = false, no_dgq_search = false, no_dgq_smoothing = false;
  std::string out;
  std::string trace_out;
  std::string format = "table";
  std::string block_acc = "fp32";
};

std::vector<Scheme> parse_schemes(const std::vector<std::string>& names) {
  std::vector<Scheme> out;
  for (const std::string& n : names) {
    if (n == "all") {
      for (const SchemeInfo& i : all_schemes()) out.push_back(i.id);
      continue;
    }
    const auto s = scheme_from_name(n);
    if (!s)
      throw Error("--scheme: unknown scheme '" + n + "'; accepted: all, " + scheme_names_joined());
    out.push_back(*s);
  }
  return out;
}

int run(GemmArgs& a) {
  GemmStudySpec spec = a.spec;
  spec.schemes = parse_schemes(a.schemes);
  SchemeConfig& c = spec.config;
  c.int_scale.mode = a.int_scale == "fixed" ? IntScaleMode::fixed : IntScaleMode::per_layer;
  c.act_mode = a.act == "per-token" ? ActQuantMode::per_token : ActQuantMode::per_tensor;
  c.dint_set = a.dint_set == "A" ? DintSet::A : DintSet::B;
  c.dgq_dequant = a.dgq_dequant == "fused" ? DequantMode::fused : DequantMode::materialized;
  c.weight_scale_dtype = a.scale_dtype == "fp16"   ? ScaleDtype::fp16
                         : a.scale_dtype == "bf16" ? ScaleDtype::bf16
                                                   : ScaleDtype::fp32;
  spec.device = a.device == "auto"  ? DeviceChoice::automatic
                : a.device == "gpu" ? DeviceChoice::gpu
                                    : DeviceChoice::cpu;
  c.dint_aqas = !a.no_aqas;
  c.dgq_search = !a.no_dgq_search;
  c.dgq_smoothing = !a.no_dgq_smoothing;
  c.gemm.block_acc = a.block_acc == "fp32" ? BlockAcc::fp32 : BlockAcc::fixed;

  const GemmStudy study = run_gemm_study(spec);
  // Written before printing, so a failed write never follows a printed "success".
  if (!a.out.empty()) write_gemm_safetensors(a.out, study);
  if (!a.trace_out.empty()) write_gemm_trace(a.trace_out, study);
  std::ostringstream text;
  if (a.format == "json") {
    print_gemm_json(text, study);
  } else {
    print_gemm_table(text, study);
    if (!a.out.empty()) text << "wrote " << a.out << "\n";
  }
  std::cout << text.str();
  return 0;
}

// Dimension-like options: at least 1, and small enough that a typo cannot ask for terabytes.
const CLI::Range kSizeRange(std::size_t{1}, std::size_t{1} << 20);

}  // namespace

std::function<int()> add_gemm_command(CLI::App& app) {
  auto a = std::make_shared<GemmArgs>();
  CLI::App* cmd = app.add_subcommand(
      "gemm", "Run quantized GEMM schemes on one problem and report their error and counters");
  cmd->footer("Schemes: all, " + scheme_names_joined() +
              "\nWithout --input the operands are synthetic, LLM-like and seeded: activations "
              "N(0,1) with ~1% outlier channels 20-60x larger, weights N(0, 0.02^2).");
  SyntheticSpec& syn = a->spec.synthetic;
  SchemeConfig& c = a->spec.config;
  cmd->add_option("-s,--scheme", a->schemes, "Schemes to run (repeat or comma-separate)")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("-m,--m", syn.m, "Rows of X (tokens)")->capture_default_str()->check(kSizeRange);
  cmd->add_option("-k,--k", syn.k, "Reduction length K")->capture_default_str()->check(kSizeRange);
  cmd->add_option("-n,--n", syn.n, "Rows of W (output channels)")
      ->capture_default_str()
      ->check(kSizeRange);
  cmd->add_option("--seed", syn.seed, "Seed of the synthetic operands")
      ->check(seed_check())
      ->capture_default_str();
  cmd->add_option("-i,--input", a->spec.input_path,
                  "safetensors file with float tensors x [M,K] and w [N,K] (replaces --m/--k/--n)")
      ->check(CLI::ExistingFile);
  cmd->add_option("-g,--group", c.group_size, "Group size along K")
      ->capture_default_str()
      ->check(kSizeRange);
  cmd->add_option("--act", a->act, "Activation quantization")
      ->check(CLI::IsMember({"per-token", "per-tensor"}))
      ->capture_default_str();
  cmd->add_option("--acc-bits", c.gemm.acc_bits, "Integer accumulator width (wraps, counted)")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  cmd->add_option("--psum-bits", c.gemm.psum_bits, "Group partial-sum width (w4a8-fs/is)")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  cmd->add_option("--block-acc", a->block_acc,
                  "MX schemes: accumulate blocks in fp32, or fixed (shift-aligned, acc-bits wide "
                  "with --frac-bits fraction bits; acc-bits " + std::to_string(kBlockAccBits) +
                      " unless given)")
      ->check(CLI::IsMember({"fp32", "fixed"}))
      ->capture_default_str();
  cmd->add_option("--frac-bits", c.gemm.frac_bits, "MX schemes, fixed: fraction bits")
      ->check(CLI::Range(0, 62))
      ->capture_default_str();
  cmd->add_option("--k-tile", c.gemm.k_tile,
                  "fp32 accumulation tile along K for fp16/w4a16 (0 = sequential)")
      ->capture_default_str();
  cmd->add_option("--int-scale", a->int_scale,
                  "w4a8-is amplifier: fixed 2^alpha-bits or the per-layer heuristic")
      ->check(CLI::IsMember({"fixed", "per-layer"}))
      ->capture_default_str();
  cmd->add_option("--alpha-bits", c.int_scale.bits, "w4a8-is fixed amplifier alpha = 2^bits")
      ->check(CLI::Range(0, 30))
      ->capture_default_str();
  cmd->add_option("--dint-set", a->dint_set, "dint4 value set")
      ->check(CLI::IsMember({"A", "B"}))
      ->capture_default_str();
  cmd->add_flag("--no-aqas", a->no_aqas, "w4a8-dint: skip AQAS smoothing");
  cmd->add_option("--dgq-dequant", a->dgq_dequant, "w4a8-dgq: dequantize fused or materialized")
      ->check(CLI::IsMember({"fused", "materialized"}))
      ->capture_default_str();
  cmd->add_flag("--no-dgq-search", a->no_dgq_search, "w4a8-dgq: plain RTN levels, no grid search");
  cmd->add_flag("--no-dgq-smoothing", a->no_dgq_smoothing, "w4a8-dgq: no percentile smoothing");
  cmd->add_option("--calib-rows", c.calib_rows, "Rows of X the DGQ/AQAS searches calibrate on")
      ->capture_default_str()
      ->check(kSizeRange);
  cmd->add_option("--scale-dtype", a->scale_dtype, "Storage type of weight scales")
      ->check(CLI::IsMember({"fp16", "bf16", "fp32"}))
      ->capture_default_str();
  cmd->add_option("-o,--out", a->out,
                  "Write inputs, reference and every scheme's operands and output (safetensors)");
  cmd->add_option("--trace-out", a->trace_out,
                  "Write the run as a data-bearing trace: DIR/trace.yaml + DIR/payload.safetensors")
      ->check(CLI::ExistingDirectory);
  cmd->add_option(
         "--device", a->device,
         "Where the GEMMs run: cpu (the reference), gpu (CUDA, bit-exact with it), or auto "
         "(the GPU when usable, else the CPU, saying why)")
      ->check(CLI::IsMember({"cpu", "gpu", "auto"}))
      ->capture_default_str();
  cmd->add_option("--format", a->format, "Output format")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  cmd->callback([]() {});
  return [a, cmd]() {
    if (!a->spec.input_path.empty() &&
        (cmd->count("--m") || cmd->count("--k") || cmd->count("--n") || cmd->count("--seed"))) {
      throw Error("--input takes the problem from the file; drop --m/--k/--n/--seed");
    }
    a->spec.acc_bits_given = cmd->count("--acc-bits") > 0;
    return run(*a);
  };
}

}  // namespace quasar::app
