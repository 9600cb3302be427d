#!/usr/bin/env bash
# onnx_trace.sh QUASAR ROOT WORK: scripts/onnx-trace.py on small ONNX models built here with
# onnx.helper: a dynamic-quantization graph (DynamicQuantizeLinear -> MatMulInteger) and a static
# one (QLinearMatMul) become linear w8a8 records of the right shapes that `quasar run` simulates;
# the other nodes are listed as not imported; bad input is a clear error.
set -euo pipefail
q="$1"; root="$2"; work="$3"
rm -rf "$work"; mkdir -p "$work"
py=/usr/bin/python3
"$py" - "$work" <<'PY'
import sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
work = sys.argv[1]
rng = np.random.default_rng(1)
w1 = numpy_helper.from_array(rng.integers(-127, 128, (64, 96), dtype=np.int8), "w1")
w2 = numpy_helper.from_array(rng.integers(-127, 128, (96, 32), dtype=np.int8), "w2")
zp = numpy_helper.from_array(np.array(0, dtype=np.int8), "wzp")
nodes = [
    helper.make_node("DynamicQuantizeLinear", ["x"], ["xq", "xs", "xz"], name="quant_x"),
    helper.make_node("MatMulInteger", ["xq", "w1", "xz", "wzp"], ["h32"], name="fc1"),
    helper.make_node("Cast", ["h32"], ["hf"], to=TensorProto.FLOAT, name="to_float"),
    helper.make_node("DynamicQuantizeLinear", ["hf"], ["hq", "hs", "hz"], name="quant_h"),
    helper.make_node("MatMulInteger", ["hq", "w2", "hz", "wzp"], ["y"], name="fc2"),
]
g = helper.make_graph(nodes, "tiny-dyn",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 64])],
                      [helper.make_tensor_value_info("y", TensorProto.INT32, [8, 32])],
                      [w1, w2, zp])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), f"{work}/dyn.onnx")
# Static: QLinearMatMul with a dynamic batch dimension.
s = lambda n, v: numpy_helper.from_array(np.array(v, dtype=np.float32), n)
z8 = lambda n: numpy_helper.from_array(np.array(0, dtype=np.int8), n)
wq = numpy_helper.from_array(rng.integers(-127, 128, (128, 48), dtype=np.int8), "wq")
g2 = helper.make_graph(
    [helper.make_node("QLinearMatMul", ["a", "as", "az", "wq", "ws", "wz", "ys", "yz"], ["o"], name="proj")],
    "tiny-static",
    [helper.make_tensor_value_info("a", TensorProto.INT8, ["batch", 128])],
    [helper.make_tensor_value_info("o", TensorProto.INT8, ["batch", 48])],
    [s("as", 0.1), z8("az"), wq, s("ws", 0.02), z8("wz"), s("ys", 0.5), z8("yz")])
onnx.save(helper.make_model(g2, opset_imports=[helper.make_opsetid("", 13)]), f"{work}/static.onnx")
PY
conv="$root/scripts/onnx-trace.py"
"$py" "$conv" "$work/dyn.onnx" --out "$work/dyn.yaml" 2> "$work/dyn.err"
grep -q "not imported (3 nodes, not quantized matrix multiplies): quant_x (DynamicQuantizeLinear), to_float (Cast), quant_h (DynamicQuantizeLinear)" "$work/dyn.err" ||
  { echo "FAIL: the skipped nodes are not listed"; cat "$work/dyn.err"; exit 1; }
"$q" trace show "$work/dyn.yaml" > "$work/dyn.show"
grep -Eq "fc1 +linear +1 +8 +64 +96 " "$work/dyn.show" && grep -Eq "fc2 +linear +1 +8 +96 +32 " "$work/dyn.show" ||
  { echo "FAIL: wrong layers"; cat "$work/dyn.show"; exit 1; }
"$q" run --arch int8-baseline --trace "$work/dyn.yaml" > "$work/dyn.run"
grep -q "covers: 2 records simulated, 0 not" "$work/dyn.run" || { echo "FAIL: run"; cat "$work/dyn.run"; exit 1; }
# Dynamic batch: M must be given.
if "$py" "$conv" "$work/static.onnx" --out "$work/static.yaml" 2> "$work/static.err"; then
  echo "FAIL: a dynamic row count was accepted without --tokens"; exit 1
fi
grep -q "node 0 'proj' (QLinearMatMul): A 'a' has no static row count; give --tokens M" "$work/static.err" ||
  { echo "FAIL: error text"; cat "$work/static.err"; exit 1; }
"$py" "$conv" "$work/static.onnx" --out "$work/static.yaml" --tokens 16 > /dev/null
"$q" trace show "$work/static.yaml" | grep -Eq "proj +linear +1 +16 +128 +48 " || { echo "FAIL: static layer"; exit 1; }
# Not ONNX at all.
echo "not a model" > "$work/bad.onnx"
if "$py" "$conv" "$work/bad.onnx" --out "$work/bad.yaml" 2> "$work/bad.err"; then echo "FAIL: bad file accepted"; exit 1; fi
grep -q "bad.onnx: not a readable ONNX model" "$work/bad.err" || { echo "FAIL: bad file message"; cat "$work/bad.err"; exit 1; }
echo "PASS: onnx-trace"
