// Data-bearing trace layers: their operands loaded from the payload (every tensor's dtype and
// shape checked against the manifest), run through an engine, and written back from a run.
#pragma once

#include <optional>
#include <string>

#include "numerics/engine.hpp"
#include "numerics/scheme_runner.hpp"
#include "trace/safetensors.hpp"
#include "trace/trace.hpp"

namespace quasar::trace {

struct LayerData {
  SchemeOperands operands;
  std::optional<MatrixH> expected_y;  // role y
};

// Errors name `source` (the payload), the layer, the role and the tensor.
LayerData load_layer_data(const Layer& layer, const safetensors::File& payload,
                          const std::string& source);

// The layer's GEMM on `engine`, with the options its scheme parameters give. An operand that
// fails the engine's checks is named as the layer's payload tensor (and its role).
GemmResult run_layer(const GemmEngine& engine, const Layer& layer, const SchemeOperands& ops);

// A data-bearing linear layer from a scheme run: its tensors go into `payload` as
// "<layer name>/<role>", and the layer's `tensors` map names them.
Layer layer_from_run(const std::string& name, const SchemeRun& run, const SchemeConfig& cfg,
                     safetensors::File& payload);

// The manifest's payload path resolved against the manifest's folder.
std::string payload_path(const std::string& manifest_path, const Trace& t);

}  // namespace quasar::trace
