"""The matrix products of one training step of the MLP autoencoder 784-512-256-32 in
PyTorch, timed one by one, as `cargo bench -p trainer --bench matmul` does for burn.

    python matmul.py --threads 2
"""

import argparse
import time

import torch

WIDTHS = [784, 512, 256, 32, 256, 512, 784]
BATCH = 128


def time_ms(f):
    for _ in range(20):
        f()
    passes = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(100):
            f()
        passes.append((time.perf_counter() - start) * 1e3 / 100)
    return sorted(passes)[2]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    name = f"pytorch {torch.__version__}"
    print("| framework | product [m×k]·[k×n] | kind | ms |\n|---|---|---|---|")
    total = 0.0
    for fan_in, fan_out in zip(WIDTHS, WIDTHS[1:]):
        x = torch.rand(BATCH, fan_in)
        w = torch.rand(fan_in, fan_out)
        g = torch.rand(BATCH, fan_out)
        products = [
            ("forward", f"[{BATCH}×{fan_in}]·[{fan_in}×{fan_out}]", lambda: x @ w),
            ("input gradient", f"[{BATCH}×{fan_out}]·[{fan_out}×{fan_in}]ᵀ", lambda: g @ w.t()),
            ("weight gradient", f"[{fan_in}×{BATCH}]ᵀ·[{BATCH}×{fan_out}]", lambda: x.t() @ g),
        ]
        for kind, shape, f in products:
            ms = time_ms(f)
            total += ms
            print(f"| {name} | {shape} | {kind} | {ms:.3f} |")
    print(f"| {name} | all 18 products of a step | | {total:.3f} |")


if __name__ == "__main__":
    main()
