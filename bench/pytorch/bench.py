"""PyTorch reference for `cargo xtask bench`: the same architectures, optimiser, batch
size, data and thread count as the Rust benchmark, measured the same way.

    python bench.py --family mlp --threads 2 --steps 300 --data-dir DIR [--device cuda] [--batch-size 1024]

prints one JSON object: training samples/s, encode samples/s, peak resident memory
(and on a GPU the peak memory PyTorch allocated there), and the mean time of each part
of a step (data, forward, backward, update, readback; on a GPU only the step as a
whole is synchronised, by reading the loss back, as in the Rust benchmark).
"""

import argparse
import gzip
import json
import os
import resource
import struct
import time

import torch
from torch import nn
import torch.nn.functional as F


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return torch.frombuffer(bytearray(data[16:]), dtype=torch.uint8).view(count, rows * cols)
    raise ValueError(f"{path}: not an IDX image file")


def find_images(data_dir, split="train"):
    for name in (f"{split}-images-idx3-ubyte.gz", f"{split}-images-idx3-ubyte"):
        path = os.path.join(data_dir, name)
        if os.path.exists(path):
            return read_idx(path)
    raise FileNotFoundError(f"no {split}-images-idx3-ubyte[.gz] in {data_dir}")


def mlp(sizes, last_activation=None):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i + 2 < len(sizes):
            layers.append(nn.ReLU())
    if last_activation is not None:
        layers.append(last_activation)
    return nn.Sequential(*layers)


class MlpAE(nn.Module):
    """Linear+ReLU encoder to a linear code, mirrored decoder, sigmoid output, MSE."""

    def __init__(self, hidden, latent):
        super().__init__()
        self.encoder = mlp([784, *hidden, latent])
        self.decoder = mlp([latent, *reversed(hidden), 784], nn.Sigmoid())

    def encode(self, x):
        return self.encoder(x)

    def reconstruct(self, x):
        return self.decoder(self.encoder(x))

    def loss(self, x):
        return F.mse_loss(self.reconstruct(x), x)


class ConvAE(nn.Module):
    """As the trainer's conv family: strided convolutions (kernel 3, stride 2, padding
    1), each followed by batch norm when asked and the activation; a linear code; a
    linear layer and the activation back to the feature map; mirrored transposed
    convolutions (batch norm and the activation after all but the last); sigmoid; MSE.
    The defaults are the trainer's `--model conv` on 28×28 grey images: 1→32→64, ReLU,
    3136→32 code."""

    def __init__(self, image=(1, 28, 28), channels=(32, 64), latent=32, batch_norm=False, leaky=None):
        super().__init__()
        self.image = image
        act = (lambda: nn.LeakyReLU(leaky)) if leaky is not None else nn.ReLU
        chans = [image[0], *channels]
        enc = []
        for a, b in zip(chans, chans[1:]):
            enc += [nn.Conv2d(a, b, 3, 2, 1), *([nn.BatchNorm2d(b)] if batch_norm else []), act()]
        self.convs = nn.Sequential(*enc)
        # The side after each convolution, starting with the image's.
        sizes = [image[1]]
        for _ in channels:
            sizes.append((sizes[-1] - 1) // 2 + 1)
        self.inner = (chans[-1], sizes[-1], sizes[-1])
        flat = chans[-1] * sizes[-1] ** 2
        self.to_code = nn.Linear(flat, latent)
        self.from_code = nn.Sequential(nn.Linear(latent, flat), act())
        dec = []
        pairs = list(zip(chans, chans[1:]))[::-1]
        for i, (a, b) in enumerate(pairs):
            # The output padding that lands it on the encoder's size.
            target, source = sizes[len(pairs) - 1 - i], sizes[len(pairs) - i]
            pad = target - ((source - 1) * 2 - 2 + 3)
            dec.append(nn.ConvTranspose2d(b, a, 3, 2, 1, output_padding=pad))
            if i + 1 < len(pairs):
                dec += [*([nn.BatchNorm2d(a)] if batch_norm else []), act()]
        self.deconvs = nn.Sequential(*dec)

    def encode(self, x):
        return self.to_code(self.convs(x.view(-1, *self.image)).flatten(1))

    def reconstruct(self, x):
        h = self.from_code(self.encode(x)).view(-1, *self.inner)
        return torch.sigmoid(self.deconvs(h).flatten(1))

    def loss(self, x):
        return F.mse_loss(self.reconstruct(x), x)


class Vae(nn.Module):
    """784-400-20, ReLU; Bernoulli likelihood (BCE summed over pixels) + KL, per sample."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(784, 400)
        self.mean = nn.Linear(400, 20)
        self.log_var = nn.Linear(400, 20)
        self.decoder = mlp([20, 400, 784])

    def encode(self, x):
        return self.mean(F.relu(self.hidden(x)))

    def reconstruct(self, x):
        # One posterior sample decoded, as the trainer's test error of a VAE.
        h = F.relu(self.hidden(x))
        mean, log_var = self.mean(h), self.log_var(h)
        return torch.sigmoid(self.decoder(mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)))

    def loss(self, x):
        h = F.relu(self.hidden(x))
        mean, log_var = self.mean(h), self.log_var(h)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)
        logits = self.decoder(z)
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]
        kl = 0.5 * (log_var.exp() + mean.pow(2) - log_var - 1).sum(1).mean()
        return nll + kl


class Aae(nn.Module):
    """MLP AE 784-512-256-8 plus a discriminator 8-256-256-1 on codes against N(0, I);
    one backward pass whose terms reach only their own parts."""

    def __init__(self, weight=0.003):
        super().__init__()
        self.ae = MlpAE([512, 256], 8)
        self.disc = mlp([8, 256, 256, 1])
        self.weight = weight

    def encode(self, x):
        return self.ae.encode(x)

    def reconstruct(self, x):
        return self.ae.reconstruct(x)

    def loss(self, x):
        code = self.ae.encoder(x)
        rec = F.mse_loss(self.ae.decoder(code), x)
        prior = torch.randn_like(code)
        ones = torch.ones(x.shape[0], 1, device=x.device)
        zeros = torch.zeros(x.shape[0], 1, device=x.device)
        bce = F.binary_cross_entropy_with_logits
        disc = bce(self.disc(prior), ones) + bce(self.disc(code.detach()), zeros)
        frozen = {k: v.detach() for k, v in self.disc.named_parameters()}
        gen = bce(torch.func.functional_call(self.disc, frozen, (code,)), ones)
        return rec + disc + self.weight * gen


FAMILIES = {
    "mlp": lambda: MlpAE([512, 256], 32),
    "deep": lambda: MlpAE([1000, 500, 250], 30),
    "conv": ConvAE,
    "conv-bn": lambda: ConvAE(batch_norm=True),
    "vae": Vae,
    "aae": Aae,
}


def peak_rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--family", choices=sorted(FAMILIES), required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--data-dir", required=True)
    p.add_argument("--device", default="cpu", help="cpu, or cuda for the GPU benchmark")
    a = p.parse_args()
    device = torch.device(a.device)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    images = find_images(a.data_dir)
    model = FAMILIES[a.family]().to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(0)

    def batch():
        idx = torch.randint(0, images.shape[0], (a.batch_size,), generator=g)
        return images[idx].to(device).float() / 255.0

    phases = dict.fromkeys(["data", "forward", "backward", "update", "readback"], 0.0)

    def step():
        t0 = time.perf_counter()
        x = batch()
        t1 = time.perf_counter()
        loss = model.loss(x)
        t2 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        value = loss.item()
        t5 = time.perf_counter()
        for key, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            phases[key] += dt
        return value

    for _ in range(5):
        step()
    for key in phases:
        phases[key] = 0.0
    start = time.perf_counter()
    for _ in range(a.steps):
        step()
    elapsed = time.perf_counter() - start
    train = a.steps * a.batch_size / elapsed

    model.eval()
    with torch.no_grad():
        xs = [images[i * 512:(i + 1) * 512].to(device).float() / 255.0 for i in range(20)]
        model.encode(xs[0])
        start = time.perf_counter()
        for x in xs:
            model.encode(x).sum().item()
        encode = 20 * 512 / (time.perf_counter() - start)
    print(json.dumps({
        "family": a.family,
        "framework": f"pytorch {torch.__version__}",
        "device": a.device,
        "batch_size": a.batch_size,
        "peak_device_bytes": torch.cuda.max_memory_allocated() if device.type == "cuda" else None,
        "threads": a.threads,
        "train_samples_per_s": train,
        "encode_samples_per_s": encode,
        "peak_rss_bytes": peak_rss_bytes(),
        "data_fraction": phases["data"] / elapsed,
        "phases_ms": {k: 1e3 * v / a.steps for k, v in phases.items()},
    }))


if __name__ == "__main__":
    main()
