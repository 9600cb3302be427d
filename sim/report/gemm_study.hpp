// `quasar gemm`: one M x K x N problem (synthetic LLM-like data or tensors from a safetensors
// file) through one or more schemes, with the error of each against the fp32 product and what
// each counted; printed as a table or JSON, optionally stored as safetensors.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "gpu/device.hpp"
#include "numerics/scheme_runner.hpp"
#include "numerics/synthetic.hpp"

namespace quasar {

struct GemmStudySpec {
  std::vector<Scheme> schemes;  // in the order to run and print
  SyntheticSpec synthetic;      // used when input_path is empty
  std::string input_path;       // safetensors with float tensors "x" [M, K] and "w" [N, K]
  SchemeConfig config;
  // config.gemm.acc_bits was given: a block-scaled scheme's fixed accumulator takes it (else
  // kBlockAccBits; the other schemes' default is 32).
  bool acc_bits_given = false;
  DeviceChoice device = DeviceChoice::cpu;  // where the GEMMs run (quantizers run on the CPU)
};

// The settings scheme s runs with: spec.config, with a block-scaled scheme's group set to its
// block and its accumulator width defaulted as acc_bits_given says.
SchemeConfig scheme_config(const GemmStudySpec& spec, Scheme s);

struct GemmStudy {
  GemmStudySpec spec;
  std::string source;  // "synthetic (seed N)" or the input path
  std::string device;  // the engine that ran, and why (a fallback says so)
  MatrixF x, w, reference;
  std::vector<SchemeRun> runs;
};

// Throws quasar::Error (naming the file, tensor or option) on any bad input; nothing is
// returned half-done.
GemmStudy run_gemm_study(const GemmStudySpec& spec);
// The same on given operands (x [M, K], w [N, K]; spec.synthetic and input_path unused), named
// `source` in messages and reports: the Python API's gemm on numpy arrays.
GemmStudy run_gemm_study_on(const GemmStudySpec& spec, MatrixF x, MatrixF w, std::string source);

void print_gemm_table(std::ostream& os, const GemmStudy& study);
void print_gemm_json(std::ostream& os, const GemmStudy& study);
// x, w, reference and every scheme's output and operands, with the settings as metadata.
void write_gemm_safetensors(const std::string& path, const GemmStudy& study);
// The study as a data-bearing trace: DIR/trace.yaml with one linear layer per scheme (named
// after it) and DIR/payload.safetensors with every layer's operands and expected output.
void write_gemm_trace(const std::string& dir, const GemmStudy& study);

}  // namespace quasar
