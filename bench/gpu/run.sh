#!/usr/bin/env bash
# The GPU benchmark, on the machine with the GPU, from the folder `bundle.sh` made:
# every family on burn's Vulkan backend (wgpu with kernel fusion and autotune) at
# batches of 128, 1024 and 4096, beside PyTorch on CUDA when the machine's Python has
# it. Nothing is downloaded. Extra arguments go to `xtask bench` (`--repeat 3`, …).
#
#   ./run.sh [--backends wgpu] [--families mlp,vae] …
#
# It needs the Vulkan loader (libvulkan.so.1) and the NVIDIA driver's Vulkan ICD; if
# the driver is not found, set VK_DRIVER_FILES to the driver's `nvidia_icd.json`.
set -euo pipefail
cd "$(dirname "$0")"
export AE_DATA_DIR="$PWD/data"
python=${PYTHON:-python3}
torch=()
"$python" -c 'import torch; assert torch.cuda.is_available()' 2>/dev/null || {
  echo "no PyTorch with CUDA in $python: burn alone" >&2
  torch=(--no-pytorch)
}
exec bin/xtask bench --binaries bin --python "$python" --backends vulkan \
  --batch-sizes 128,1024,4096 --repeat 1 --max-seconds 10 "${torch[@]}" "$@"
