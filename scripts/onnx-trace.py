#!/usr/bin/env python3
"""onnx-trace.py MODEL.onnx --out TRACE.yaml [--tokens M]: a quasar shape trace of an ONNX
model's quantized linear layers (issue 21, interop).

Reads the graph with Debian's python3-onnx and writes one `linear` record per quantized matrix
multiply: MatMulInteger (A int8/uint8 x B int8/uint8 -> int32, as ONNX Runtime's dynamic
quantization writes it) and QLinearMatMul (static quantization). Its K x N come from B, which
must be a constant initializer of rank 2 ([K, N], the weights); M is A's row count when the
graph gives it (the product of A's leading dimensions, all static), else --tokens.

What is carried, and what is not ([choice], docs/trace-format.md "ONNX"):
  - the layers' shapes and order, and that they are 8-bit x 8-bit: each becomes scheme w8a8
    (int8 per-channel weights, int8 per-token activations, the one quasar scheme of that width);
  - NOT the model's numbers: ONNX zero points (asymmetric uint8) and per-tensor scales have no
    quasar scheme, so the trace is shape-only (no payload) and `quasar validate` has nothing to
    check; quasar's w8a8 numerics apply when a design runs it;
  - every other node (Gemm/MatMul in float, attention, norms...) is listed on stderr as not
    imported, with its op type, so nothing is dropped silently.
Errors (a missing file, no quantized matmul, a B that is not a rank-2 initializer, an M that
cannot be known without --tokens) name the file and node and exit 1.
"""
import argparse
import sys


def fail(msg):
    print(f"onnx-trace: error: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model")
    ap.add_argument("--out", required=True, help="the trace manifest to write (YAML)")
    ap.add_argument("--tokens", type=int, default=0,
                    help="M (activation rows) where the graph leaves it dynamic")
    ap.add_argument("--name", default="", help="trace name (default: the graph's)")
    args = ap.parse_args()
    try:
        import onnx
        from onnx import numpy_helper, shape_inference
    except ImportError:
        fail("python3-onnx is needed (apt-get install python3-onnx)")
    try:
        model = onnx.load(args.model)
    except Exception as e:  # onnx raises several types for a bad file
        fail(f"{args.model}: not a readable ONNX model ({e})")
    try:
        model = shape_inference.infer_shapes(model)
    except Exception:
        pass  # shapes stay as the graph gives them
    g = model.graph
    inits = {i.name: i for i in g.initializer}
    shapes = {}
    for v in list(g.input) + list(g.value_info) + list(g.output):
        t = v.type.tensor_type
        if t.HasField("shape"):
            shapes[v.name] = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
    layers, skipped = [], []
    for i, node in enumerate(g.node):
        where = f"{args.model}: node {i} '{node.name or node.op_type}'"
        if node.op_type in ("MatMulInteger", "QLinearMatMul"):
            a, b = (node.input[0], node.input[1]) if node.op_type == "MatMulInteger" else (
                node.input[0], node.input[3])
            if b not in inits:
                fail(f"{where} ({node.op_type}): its B '{b}' is not a constant initializer "
                     "(accepted: weights stored in the model)")
            w = numpy_helper.to_array(inits[b])
            if w.ndim != 2:
                fail(f"{where} ({node.op_type}): B '{b}' has shape {list(w.shape)}; accepted: [K, N]")
            k, n = int(w.shape[0]), int(w.shape[1])
            ashape = shapes.get(a)
            m = 0
            if ashape and all(d for d in ashape[:-1]) and ashape[-1] in (k, None):
                m = 1
                for d in ashape[:-1]:
                    m *= d
            if not m:
                if args.tokens <= 0:
                    fail(f"{where} ({node.op_type}): A '{a}' has no static row count; give --tokens M")
                m = args.tokens
            name = node.name or f"{node.op_type.lower()}_{i}"
            layers.append((name, m, k, n, node.op_type))
        else:
            skipped.append(f"{node.name or '#' + str(i)} ({node.op_type})")
    if not layers:
        fail(f"{args.model}: no MatMulInteger or QLinearMatMul node (the quantized linear layers "
             "this reads)")
    trace_name = args.name or g.name or "onnx"
    lines = ["quasar_trace: 1", f'name: "{trace_name}"', "meta:",
             '  "generator": "scripts/onnx-trace.py"', f'  "source": "{args.model}"',
             '  "numerics": "shape-only: ONNX zero points and scales not carried; w8a8 is quasar\'s"',
             "layers:"]
    for name, m, k, n, op in layers:
        lines += [f'  - name: "{name}"', "    op: linear", f"    m: {m}", f"    k: {k}",
                  f"    n: {n}", "    scheme: w8a8"]
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"onnx-trace: {len(layers)} quantized linear layers from {args.model} -> {args.out}")
    if skipped:
        print(f"onnx-trace: not imported ({len(skipped)} nodes, not quantized matrix multiplies): "
              + ", ".join(skipped), file=sys.stderr)


if __name__ == "__main__":
    main()
