#!/usr/bin/env bash
# Builds everything the GPU benchmark needs into one folder, to copy to a GPU machine
# that has no network and no Rust: the `families` and `matmul` bench binaries (built
# with the GPU features that build offline), the xtask that drives them, the PyTorch
# reference script, the Fashion-MNIST files and `run.sh`.
#
#   bench/gpu/bundle.sh [OUT]            (OUT: target/gpu-bench; FEATURES to change them)
#
# Then on the GPU machine: `OUT/run.sh` (see "Performance" in the README).
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-target/gpu-bench}
features=${FEATURES:-flex,wgpu,vulkan,fusion}
data=${AE_DATA_DIR:-/usr/share/datasets}/fashion-mnist
[ -d "$data" ] || data=/usr/share/datasets/fashion-mnist
mkdir -p "$out/bin" "$out/data/fashion-mnist" "$out/bench/pytorch"
for bench in families matmul; do
  exe=$(cargo bench -q -p trainer --no-default-features --features "$features" \
      --bench "$bench" --no-run --message-format=json |
    python3 -c 'import json, sys
for m in map(json.loads, sys.stdin):
    if m.get("reason") == "compiler-artifact" and m.get("executable") and "bench" in m["target"]["kind"]:
        print(m["executable"])' | tail -n 1)
  cp "$exe" "$out/bin/$bench"
  strip "$out/bin/$bench"
done
cargo build -q --release -p xtask
cp target/release/xtask "$out/bin/xtask"
strip "$out/bin/xtask"
cp "$data"/*-ubyte* "$out/data/fashion-mnist/"
cp bench/pytorch/bench.py "$out/bench/pytorch/"
cp bench/gpu/run.sh "$out/run.sh"
du -sh "$out"
