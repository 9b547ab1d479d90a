"""PyTorch reference for the photographs experiments: the trainer's conv autoencoder
(`trainer train --model conv --colour rgb --patches SIZE:STRIDE …`) on the same patches
of the same photographs, trained and scored as the trainer does it.

    python patches.py --folder DIR --patches 32:16 --channels 64,128,256 --latent 32 \
        --leaky 0.2 [--batch-norm] --batch-size 32 --lr 3e-3 --schedule cosine \
        --epochs 15 [--seed S] [--threads N]

DIR holds `train/` and `test/`, each with PNG or JPEG files directly in it. Every file
(in byte order of its name) is read as RGB with Pillow and cut into SIZE × SIZE patches
every STRIDE pixels from the top-left corner, row after row, the last row and column
that do not fit left out — the trainer's `--patches`. Every training patch is trained
on (the trainer's `--valid-fraction 0`), shuffled each epoch; Adam (PyTorch's
defaults) with the learning rate constant or annealed by a cosine over every update
to 0 (the trainer's `--schedule cosine`). Prints one JSON object: the test patches'
squared error per patch (summed over the 3·SIZE² values in [0, 1], as `trainer pca
--artifact DIR` reports it), the same on the training patches, the counts and the
seconds of the epochs. JPEG decoders may differ by a level here and there between
Pillow and the trainer; PNG files decode to the same values.
"""

import argparse
import json
import math
import os
import time

import torch
from PIL import Image

from bench import ConvAE

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def patches_of(folder, size, stride):
    """Every patch of every image file in `folder`, as rows of 3·size² values in [0, 1]."""
    names = sorted(
        n for n in os.listdir(folder) if n.lower().endswith(IMAGE_SUFFIXES) and not n.startswith(".")
    )
    if not names:
        raise SystemExit(f"{folder}: no PNG or JPEG files")
    rows = []
    for name in names:
        with Image.open(os.path.join(folder, name)) as im:
            rgb = im.convert("RGB")
            w, h = rgb.size
            planes = torch.frombuffer(bytearray(rgb.tobytes()), dtype=torch.uint8)
        planes = planes.view(h, w, 3).permute(2, 0, 1)  # [3, h, w]
        for y in range(0, h - size + 1, stride):
            for x in range(0, w - size + 1, stride):
                rows.append(planes[:, y : y + size, x : x + size].reshape(-1))
    return torch.stack(rows).float() / 255.0


def sq_error_per_patch(model, patches, batch_size):
    model.eval()
    with torch.no_grad():
        total = sum(
            ((model.reconstruct(x) - x) ** 2).sum().item()
            for x in patches.split(batch_size)
        )
    return total / patches.shape[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--folder", required=True)
    p.add_argument("--patches", default="32:16", help="SIZE:STRIDE")
    p.add_argument("--channels", default="64,128,256")
    p.add_argument("--latent", type=int, default=32)
    p.add_argument("--leaky", type=float, help="LeakyReLU slope (ReLU without it)")
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--schedule", choices=["constant", "cosine"], default="constant")
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--threads", type=int, default=torch.get_num_threads())
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    size, _, stride = a.patches.partition(":")
    size, stride = int(size), int(stride or size)
    train = patches_of(os.path.join(a.folder, "train"), size, stride)
    test = patches_of(os.path.join(a.folder, "test"), size, stride)
    channels = [int(c) for c in a.channels.split(",")]
    model = ConvAE((3, size, size), channels, a.latent, a.batch_norm, a.leaky)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    per_epoch = math.ceil(train.shape[0] / a.batch_size)
    updates = a.epochs * per_epoch
    if a.schedule == "cosine":
        # The rate of update t (from 0): lr · (1 + cos(π t / updates)) / 2.
        sched = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda t: 0.5 * (1.0 + math.cos(math.pi * t / updates))
        )
    else:
        sched = None
    start = time.perf_counter()
    for _ in range(a.epochs):
        model.train()
        for x in train[torch.randperm(train.shape[0])].split(a.batch_size):
            loss = model.loss(x)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
    seconds = time.perf_counter() - start
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}",
        "train_patches": train.shape[0],
        "test_patches": test.shape[0],
        "epochs": a.epochs,
        "epochs_seconds": seconds,
        "test_sq_error_per_patch": sq_error_per_patch(model, test, 256),
        "train_sq_error_per_patch": sq_error_per_patch(model, train, 256),
    }))


if __name__ == "__main__":
    main()
