"""PyTorch reference for `cargo xtask bench-runs`: a whole training run of the same
architecture as `trainer train --model FAMILY` does it — every epoch over the training
images less a held-out tenth, shuffled, batches of 128, Adam 1e-3 (β₁ 0.5 for the
adversarial autoencoder, as the trainer), the validation loss after each epoch, then
the reconstruction error of the 10,000 test images.

    python train.py --family conv --epochs 3 --threads 2 [--data-dir DIR] [--limit N] [--seed S]

prints one JSON object: the seconds of the epochs (training and validation), of the
whole run after the imports, each epoch's validation loss, the test images' mean
squared error per pixel (the trainer's `mse_per_pixel` in `metrics.json`) and their
mean loss (its `loss`). Without --data-dir the IDX files are read from
$AE_DATA_DIR/fashion-mnist or the system's data folder, as the trainer reads them.
"""

import argparse
import json
import os
import time

import torch

from bench import FAMILIES, find_images


def default_data_dir():
    base = os.environ.get("AE_DATA_DIR")
    if base and os.path.isdir(os.path.join(base, "fashion-mnist")):
        return os.path.join(base, "fashion-mnist")
    return "/usr/share/datasets/fashion-mnist"


def main():
    start = time.perf_counter()
    p = argparse.ArgumentParser()
    p.add_argument("--family", choices=sorted(FAMILIES), required=True)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--limit", type=int, help="train on the first N training images only")
    p.add_argument("--data-dir", default=default_data_dir())
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    images = find_images(a.data_dir, "train")[: a.limit].float() / 255.0
    test = find_images(a.data_dir, "t10k").float() / 255.0
    order = torch.randperm(images.shape[0])
    n_valid = round(0.1 * images.shape[0])
    valid, train = images[order[:n_valid]], images[order[n_valid:]]
    model = FAMILIES[a.family]()
    beta1 = 0.5 if a.family == "aae" else 0.9
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(beta1, 0.999))

    def batches(x):
        return (x[i : i + a.batch_size] for i in range(0, x.shape[0], a.batch_size))

    valid_losses = []
    epochs_start = time.perf_counter()
    for _ in range(a.epochs):
        model.train()
        for x in batches(train[torch.randperm(train.shape[0])]):
            loss = model.loss(x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss.item()
        model.eval()
        with torch.no_grad():
            total = sum(model.loss(x).item() * x.shape[0] for x in batches(valid))
        valid_losses.append(total / valid.shape[0])
    epochs_seconds = time.perf_counter() - epochs_start
    with torch.no_grad():
        sq = sum(((model.reconstruct(x) - x) ** 2).sum().item() for x in batches(test))
        test_loss = sum(model.loss(x).item() * x.shape[0] for x in batches(test)) / test.shape[0]
    print(json.dumps({
        "family": a.family,
        "framework": f"pytorch {torch.__version__}",
        "epochs": a.epochs,
        "train_samples": train.shape[0],
        "epochs_seconds": epochs_seconds,
        "run_seconds": time.perf_counter() - start,
        "valid_loss": valid_losses,
        "test_mse_per_pixel": sq / test.numel(),
        "test_loss": test_loss,
    }))


if __name__ == "__main__":
    main()
