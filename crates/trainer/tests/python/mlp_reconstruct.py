"""Recompute an exported MLP autoencoder's reconstructions in NumPy, without burn.

Usage: mlp_reconstruct.py MODEL.safetensors ARCHITECTURE.json INPUTS.npy EXPECTED.npy

Reads the weights with the `safetensors` package, builds the forward pass from
architecture.json alone, and exits 1 unless the reconstructions of INPUTS equal
EXPECTED (what the trainer computed) within 1e-5.
"""

import json
import sys

import numpy as np
from safetensors.numpy import load_file

ACTIVATIONS = {
    "identity": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "tanh": np.tanh,
    "exp": np.exp,
    "softplus": lambda x: np.logaddexp(0.0, x),
}


def stack(weights, prefix, count, x, hidden, last):
    """Linear layers prefix.0 … prefix.(count-1); `hidden` after each but the last."""
    for i in range(count):
        w = weights[f"{prefix}.{i}.weight"]  # PyTorch layout: [out, in]
        b = weights.get(f"{prefix}.{i}.bias")
        x = x @ w.T + (b if b is not None else 0.0)
        x = (last if i == count - 1 else hidden)(x)
    return x


def main():
    model_path, architecture_path, inputs_path, expected_path = sys.argv[1:5]
    weights = load_file(model_path)
    architecture = json.load(open(architecture_path))
    model = architecture["model"]
    assert architecture["family"] == "mlp", architecture["family"]
    listed = [t["name"] for t in architecture["tensors"]]
    assert sorted(listed) == sorted(weights), (listed, sorted(weights))
    depth = len(model["hidden"]) + 1
    act = ACTIVATIONS[model["activation"]]
    x = np.load(inputs_path).astype(np.float32)
    code = stack(weights, "encoder", depth, x, act, ACTIVATIONS[model["code_activation"]])
    out = stack(weights, "decoder", depth, code, act, ACTIVATIONS[model["output_activation"]])
    expected = np.load(expected_path)
    error = float(np.max(np.abs(out - expected)))
    print(f"{x.shape[0]} reconstructions of {x.shape[1]} features: largest difference {error:.3g}")
    sys.exit(0 if out.shape == expected.shape and error < 1e-5 else 1)


if __name__ == "__main__":
    main()
