#include "trace_command.hpp"

#include <fstream>
#include <iostream>
#include <memory>

#include "cli_checks.hpp"
#include "cpu/parallel.hpp"
#include "gpu/device.hpp"
#include "gpu/vector_engine.hpp"
#include "io/output_file.hpp"
#include "numerics/error.hpp"
#include "report/trace_report.hpp"
#include "trace/generate.hpp"
#include "trace/scalesim.hpp"
#include "trace/synthetic_model.hpp"

namespace quasar::app {
namespace {

struct TraceArgs {
  // gen
  std::string model, config, phase = "prefill", scheme = "w4a8-is", out, lm_head = "all";
  std::uint64_t seq = 2048, batch = 1, context = 4096;
  std::vector<std::string> layer_schemes;
  std::vector<std::uint64_t> expert_tokens;
  trace::LayerScheme params;
  std::string act = "per-token", int_scale = "fixed", dint_set = "A", dequant = "fused";
  std::string block_acc = "fp32";
  bool list_models = false;
  // show
  std::string file;
  // scalesim-import / scalesim-export
  std::string csv, csv_scheme = "w8a8", csv_out;
  // synth
  trace::SyntheticModelSpec synth;
  std::string synth_scheme = "w4a8-is", synth_out, device = "cpu";
  std::string synth_kv = "fp16", synth_attention = "fp32";
  std::uint64_t synth_attention_tile = 0;
  std::vector<std::string> synth_layer_schemes;
};

Scheme parse_scheme(const std::string& name, const std::string& option) {
  const auto s = scheme_from_name(name);
  if (!s)
    throw Error(option + ": unknown scheme '" + name + "'; accepted: " + scheme_names_joined());
  return *s;
}

int run_gen(TraceArgs& a) {
  if (a.list_models) {
    for (const std::string& n : trace::embedded_model_names()) std::cout << n << "\n";
    return 0;
  }
  if (a.model.empty() == a.config.empty())
    throw Error("trace gen: give exactly one of --model or --config");
  trace::GenSpec spec;
  spec.model =
      a.config.empty() ? trace::embedded_model(a.model) : trace::read_model_config(a.config);
  spec.phase = a.phase == "prefill" ? trace::Phase::prefill : trace::Phase::decode;
  spec.seq = a.seq, spec.batch = a.batch, spec.context = a.context;
  spec.lm_head_last_token = a.lm_head == "last";
  spec.expert_tokens = a.expert_tokens;
  trace::LayerScheme base = a.params;
  base.act = a.act == "per-token" ? ActQuantMode::per_token : ActQuantMode::per_tensor;
  base.int_scale = a.int_scale == "fixed" ? IntScaleMode::fixed : IntScaleMode::per_layer;
  base.dint_set = a.dint_set == "A" ? DintSet::A : DintSet::B;
  base.dequant = a.dequant == "fused" ? DequantMode::fused : DequantMode::materialized;
  base.block_acc = a.block_acc == "fp32" ? BlockAcc::fp32 : BlockAcc::fixed;
  spec.linear_scheme = trace::for_scheme(parse_scheme(a.scheme, "--scheme"), base);
  // A fixed block accumulator applies to the MX schemes only: a layer of another scheme does
  // not write the key, so asking for it there would silently do nothing.
  if (a.block_acc == "fixed" && !has_trace_key(spec.linear_scheme.scheme, trace_key::block_acc)) {
    throw Error("--block-acc fixed: scheme " + a.scheme +
                " has no fixed block accumulation (accepted with w4a8-mx, w4a4-mxfp4, "
                "w8a8-mxint8)");
  }
  for (const std::string& ls : a.layer_schemes) {
    const auto eq = ls.find('=');
    if (eq == std::string::npos)
      throw Error("--layer-scheme '" + ls + "': expected CLASS=SCHEME, e.g. down_proj=w8a8");
    spec.overrides[ls.substr(0, eq)] =
        trace::for_scheme(parse_scheme(ls.substr(eq + 1), "--layer-scheme"), base);
  }
  const trace::Trace t = trace::generate(spec);
  if (!a.out.empty()) trace::write_manifest(a.out, t);
  print_trace_summary(std::cout, t);
  if (!a.out.empty()) std::cout << "wrote " << a.out << "\n";
  return 0;
}

int run_synth(TraceArgs& a) {
  trace::SyntheticModelSpec spec = a.synth;
  spec.scheme = parse_scheme(a.synth_scheme, "--scheme");
  spec.kv = parse_kv_format(a.synth_kv);
  spec.attention.mode = parse_attention_mode(a.synth_attention);
  spec.attention.tile = a.synth_attention_tile;
  if (spec.attention.mode == AttentionMode::int8 && spec.kv != KvFormat::int8)
    throw Error("--attention int8 needs --kv int8 (int8 QK^T and PV read the int8 cache's codes)");
  if (spec.attention.mode == AttentionMode::int8 && spec.attention.tile != 0)
    throw Error("--attention int8 is defined for the unfused softmax only: drop --attention-tile");
  for (const std::string& ls : a.synth_layer_schemes) {
    const auto eq = ls.find('=');
    if (eq == std::string::npos) throw Error("--layer-scheme '" + ls + "': expected CLASS=SCHEME");
    const std::string cls = ls.substr(0, eq);
    if (cls != "q_proj" && cls != "k_proj" && cls != "v_proj" && cls != "o_proj" &&
        cls != "gate_proj" && cls != "up_proj" && cls != "down_proj" && cls != "lm_head") {
      throw Error("--layer-scheme: no layer class '" + cls +
                  "' (classes: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj lm_head)");
    }
    spec.overrides[cls] = parse_scheme(ls.substr(eq + 1), "--layer-scheme");
  }
  const DeviceChoice device = a.device == "gpu"    ? DeviceChoice::gpu
                              : a.device == "auto" ? DeviceChoice::automatic
                                                   : DeviceChoice::cpu;
  const EngineChoice e = choose_engine(device);
  // The non-GEMM records on the same device (a prefill's attention grows with tokens squared).
  const VectorEngineChoice v = choose_vector_engine(device);
  const trace::SyntheticModelTrace t =
      trace::synthesize_model_trace(spec, *e.engine, *v.engine, cpu::for_each_parallel());
  trace::write_synthetic_model_trace(a.synth_out, t);
  print_trace_summary(std::cout, t.trace);
  std::cout << e.note << "\n";
  if (device != DeviceChoice::cpu && v.note != e.note)
    std::cout << "vector records: " << v.note << "\n";
  std::cout << "wrote " << a.synth_out << "/trace.yaml and " << a.synth_out << "/"
            << t.trace.payload << "\n";
  return 0;
}

}  // namespace

std::function<int()> add_trace_command(CLI::App& app) {
  auto a = std::make_shared<TraceArgs>();
  CLI::App* cmd =
      app.add_subcommand("trace", "Generate and inspect layer traces (docs/trace-format.md)");
  cmd->require_subcommand(1);

  CLI::App* gen =
      cmd->add_subcommand("gen", "Write the shape trace of a model's prefill or decode step");
  gen->add_option("--model", a->model, "Embedded model (see --list-models)");
  gen->add_option("--config", a->config, "Hugging Face config.json of another model")
      ->check(CLI::ExistingFile);
  gen->add_flag("--list-models", a->list_models, "List the embedded models and exit");
  gen->add_option("--phase", a->phase, "prefill (S tokens x batch) or decode (batch, KV length L)")
      ->check(CLI::IsMember({"prefill", "decode"}))
      ->capture_default_str();
  const CLI::Range positive(std::uint64_t{1}, std::uint64_t{1} << 24);
  gen->add_option("--seq", a->seq, "Prefill: tokens per sequence")
      ->check(positive)
      ->capture_default_str();
  gen->add_option("--batch", a->batch, "Sequences in the batch")
      ->check(positive)
      ->capture_default_str();
  gen->add_option("--context", a->context, "Decode: KV-cache length")
      ->check(positive)
      ->capture_default_str();
  gen->add_option("--scheme", a->scheme, "Scheme of the linear layers")->capture_default_str();
  gen->add_option("--layer-scheme", a->layer_schemes,
                  "Per layer class, e.g. down_proj=w8a8 (classes: q_proj k_proj v_proj o_proj "
                  "gate_proj up_proj down_proj fc1 fc2 router lm_head attention)");
  gen->add_option("--group", a->params.group_size, "Group size")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  gen->add_option("--acc-bits", a->params.acc_bits, "Integer accumulator width")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  gen->add_option("--psum-bits", a->params.psum_bits, "Group partial-sum width")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  gen->add_option("--act", a->act, "Activation quantization")
      ->check(CLI::IsMember({"per-token", "per-tensor"}))
      ->capture_default_str();
  gen->add_option("--int-scale", a->int_scale, "w4a8-is amplifier")
      ->check(CLI::IsMember({"fixed", "per-layer"}))
      ->capture_default_str();
  gen->add_option("--alpha-bits", a->params.alpha_bits, "w4a8-is alpha = 2^bits")
      ->check(CLI::Range(0, 30))
      ->capture_default_str();
  gen->add_option("--dint-set", a->dint_set, "dint4 value set")
      ->check(CLI::IsMember({"A", "B"}))
      ->capture_default_str();
  gen->add_option("--dequant", a->dequant, "w4a8-dgq dequantization")
      ->check(CLI::IsMember({"fused", "materialized"}))
      ->capture_default_str();
  gen->add_option("--block-acc", a->block_acc,
                  "MX schemes: blocks accumulate in fp32 or fixed (shift-aligned; --acc-bits wide, "
                  "48 unless given, with --frac-bits fraction bits)")
      ->check(CLI::IsMember({"fp32", "fixed"}))
      ->capture_default_str();
  gen->add_option("--frac-bits", a->params.frac_bits, "MX schemes, fixed: fraction bits")
      ->check(CLI::Range(0, 62))
      ->capture_default_str();
  gen->add_option("--lm-head", a->lm_head, "Prefill logits for all tokens or the last one")
      ->check(CLI::IsMember({"all", "last"}))
      ->capture_default_str();
  gen->add_option("--expert-tokens", a->expert_tokens, "MoE: tokens per expert (default: uniform)")
      ->delimiter(',');
  gen->add_option("-o,--out", a->out, "Write the manifest (YAML) here");

  CLI::App* show = cmd->add_subcommand("show", "Validate a trace manifest and print its layers");
  show->add_option("file", a->file, "Trace manifest (YAML)")->required()->check(CLI::ExistingFile);

  CLI::App* synth = cmd->add_subcommand("synth",
                                        "Quantize and run a small seeded LLaMA-architecture model; "
                                        "record every operation's inputs and outputs "
                                        "(data-bearing trace)");
  trace::SyntheticModelSpec& sm = a->synth;
  const CLI::Range dim(std::uint64_t{1}, std::uint64_t{1} << 16);
  synth
      ->add_option("-o,--out", a->synth_out,
                   "Folder for trace.yaml and payload.safetensors (created if missing)")
      ->required();
  synth->add_option("--tokens", sm.tokens, "Prefill tokens (with --context: the step's new tokens)")
      ->check(dim)
      ->capture_default_str();
  synth
      ->add_option("--context", sm.context,
                   "Record a decode step instead: --tokens new tokens after a KV cache of this "
                   "many (0: a prefill)")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 16))
      ->capture_default_str();
  synth->add_option("--layers", sm.layers, "Decoder layers")->check(dim)->capture_default_str();
  synth->add_option("--hidden", sm.hidden, "Hidden size")->check(dim)->capture_default_str();
  synth->add_option("--intermediate", sm.intermediate, "MLP size")
      ->check(dim)
      ->capture_default_str();
  synth->add_option("--heads", sm.heads, "Attention heads")->check(dim)->capture_default_str();
  synth->add_option("--kv-heads", sm.kv_heads, "KV heads (GQA)")->check(dim)->capture_default_str();
  synth->add_option("--vocab", sm.vocab, "Vocabulary")->check(dim)->capture_default_str();
  synth->add_option("--seed", sm.seed, "Seed of weights, tokens and outlier channels")
      ->check(seed_check())
      ->capture_default_str();
  synth->add_option("--scheme", a->synth_scheme, "Scheme of the linear layers")
      ->capture_default_str();
  synth->add_option("--layer-scheme", a->synth_layer_schemes,
                    "Per class, e.g. down_proj=w8a8 (lm_head defaults to fp16)");
  synth->add_option("--group", sm.config.group_size, "Group size")
      ->check(CLI::Range(1, 1 << 16))
      ->capture_default_str();
  synth->add_option("--acc-bits", sm.config.gemm.acc_bits, "Integer accumulator width")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  synth->add_option("--kv", a->synth_kv, "KV cache format of the kv_append records (spec §6)")
      ->check(CLI::IsMember({"fp16", "int8", "int4"}))
      ->capture_default_str();
  synth
      ->add_option("--attention", a->synth_attention,
                   "Attention arithmetic: fp32, or int8 (needs --kv int8) (spec §7)")
      ->check(CLI::IsMember({"fp32", "int8"}))
      ->capture_default_str();
  synth
      ->add_option("--attention-tile", a->synth_attention_tile,
                   "Keys a softmax tile (flash-style); 0 = the unfused softmax")
      ->check(CLI::Range(std::uint64_t{0}, std::uint64_t{1} << 16))
      ->capture_default_str();
  synth->add_option("--device", a->device,
                    "Where the forward pass's GEMMs run: cpu (the fast kernels, or the clear "
                    "reference with QUASAR_CPU_ENGINE=reference), gpu, auto")
      ->check(CLI::IsMember({"cpu", "gpu", "auto"}))
      ->capture_default_str();

  CLI::App* sim_in = cmd->add_subcommand(
      "scalesim-import", "Turn a SCALE-Sim v2 topology CSV (GEMM or conv form) into a shape trace");
  sim_in->add_option("csv", a->csv, "SCALE-Sim topology CSV")->required()->check(CLI::ExistingFile);
  sim_in->add_option("--scheme", a->csv_scheme, "Scheme of every GEMM")->capture_default_str();
  sim_in->add_option("-o,--out", a->csv_out, "Write the manifest (YAML) here");
  CLI::App* sim_out = cmd->add_subcommand(
      "scalesim-export", "Write a trace's GEMMs as a SCALE-Sim v2 GEMM topology CSV");
  sim_out->add_option("trace", a->file, "Trace manifest (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  sim_out->add_option("-o,--out", a->csv_out, "CSV file (default: stdout)");

  return [a, gen, show, synth, sim_in, sim_out]() {
    if (gen->parsed()) return run_gen(*a);
    if (sim_in->parsed()) {
      trace::LayerScheme s;
      s.scheme = parse_scheme(a->csv_scheme, "--scheme");
      const trace::Trace t = trace::read_scalesim_csv(a->csv, s);
      if (!a->csv_out.empty()) trace::write_manifest(a->csv_out, t);
      print_trace_summary(std::cout, t);
      return 0;
    }
    if (sim_out->parsed()) {
      const std::string csv = trace::export_scalesim_csv(trace::read_manifest(a->file));
      if (a->csv_out.empty()) {
        std::cout << csv;
      } else {
        io::write_file(a->csv_out, csv);
      }
      return 0;
    }
    if (synth->parsed()) return run_synth(*a);
    if (show->parsed()) {
      print_trace_summary(std::cout, trace::read_manifest(a->file));
      return 0;
    }
    return 0;
  };
}

}  // namespace quasar::app
