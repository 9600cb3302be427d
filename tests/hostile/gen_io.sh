#!/usr/bin/env bash
# gen_io.sh CORPUS QUASAR SOURCE_DIR: inputs that are not regular files, or too large, where a
# file is expected; traces whose plan would not fit in memory or time (cases_io.txt).
set -euo pipefail
c="$1"; src="$3"
golden="$src/traces/golden/schemes-default"

# A trace whose payload is a device, a FIFO, a folder, or larger than the payload limit (a
# sparse file: no disk used).
for kind in devzero urandom fifo dir huge; do
  d="$c/io_payload_$kind"; mkdir -p "$d"
  cp "$golden/trace.yaml" "$d/trace.yaml"
  case "$kind" in
    devzero) ln -s /dev/zero "$d/payload.safetensors" ;;
    urandom) ln -s /dev/urandom "$d/payload.safetensors" ;;
    fifo) mkfifo "$d/payload.safetensors" ;;
    dir) mkdir "$d/payload.safetensors" ;;
    huge) truncate -s 33G "$d/payload.safetensors" ;;
  esac
done

# Configs that are devices, FIFOs, folders, or above the 64 MiB text limit.
mkfifo "$c/io_fifo.yaml"
mkdir -p "$c/io_folder.yaml"
truncate -s 65M "$c/io_huge.yaml"
ln -s /dev/zero "$c/io_devzero.yaml"
mkfifo "$c/io_fifo.csv"
mkfifo "$c/io_fifo.json"
mkfifo "$c/io_fifo.safetensors"
ln -s /dev/zero "$c/io_devzero.safetensors"
mkdir -p "$c/io_ckpt_fifo"; mkfifo "$c/io_ckpt_fifo/config.json"

# Traces at the documented dimension limit (2^40) whose work is under 2^62: accepted by the
# reader, refused by the planner before it allocates (tile commands: memory; tiles played: time).
layer() {  # name m k n [repeat]
  printf '  - name: "%s"\n    op: linear\n    m: %s\n    k: %s\n    n: %s\n' "$1" "$2" "$3" "$4"
  if [ -n "${5:-}" ]; then printf '    repeat: %s\n' "$5"; fi
  printf '    scheme: w4a8-is\n    group_size: 128\n'
}
{ printf 'quasar_trace: 1\nname: "k-max"\nlayers:\n'; layer big_k 16 1099511627776 4096; } > "$c/io_trace_k_max.yaml"
{ printf 'quasar_trace: 1\nname: "n-max"\nlayers:\n'; layer big_n 16 4096 1099511627776; } > "$c/io_trace_n_max.yaml"
{ printf 'quasar_trace: 1\nname: "repeat-max"\nlayers:\n'; layer many 1 128 32 1099511627776; } > "$c/io_trace_repeat_max.yaml"
# Many layers, each within the limits, together above them (every plan is held at once).
{ printf 'quasar_trace: 1\nname: "many-layers"\nlayers:\n'
  for i in $(seq 1 12); do layer "l$i" 4096 65536 65536; done; } > "$c/io_trace_sum.yaml"
cat > "$c/io_sweep_k_max.yaml" <<YAML
quasar_sweep: 1
name: k-max
designs: [intscale]
workloads:
  - {file: io_trace_k_max.yaml}
objectives:
  - {minimize: latency_ms}
YAML
