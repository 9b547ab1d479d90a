"""PCA of Fashion-MNIST by a NumPy eigendecomposition, independent of the trainer.

Fits PCA on all 60,000 training images (pixels in [0, 1], centred by the training
mean) and prints, as JSON, the squared error summed over a test image's pixels and
averaged over the 10,000 test images, for each code size given:

    python bench/experiments/pca_numpy.py 30 32

The IDX files are read from $AE_DATA_DIR/fashion-mnist or the system's data folder,
as the trainer reads them.
"""

import gzip
import json
import os
import sys

import numpy as np


def folder():
    candidates = []
    if os.environ.get("AE_DATA_DIR"):
        candidates.append(os.path.join(os.environ["AE_DATA_DIR"], "fashion-mnist"))
    candidates.append("/usr/share/datasets/fashion-mnist")
    for c in candidates:
        if os.path.exists(os.path.join(c, "train-images-idx3-ubyte.gz")):
            return c
    sys.exit("Fashion-MNIST not found in $AE_DATA_DIR/fashion-mnist or the system's data folder")


def images(path):
    with gzip.open(path) as f:
        data = f.read()
    n = int.from_bytes(data[4:8], "big")
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, 784).astype(np.float64) / 255.0


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [30, 32]
    base = folder()
    train = images(os.path.join(base, "train-images-idx3-ubyte.gz"))
    test = images(os.path.join(base, "t10k-images-idx3-ubyte.gz"))
    mean = train.mean(axis=0)
    centred = train - mean
    # Eigenvectors of the scatter matrix are the right singular vectors of the
    # centred data: the principal axes, largest first.
    values, vectors = np.linalg.eigh(centred.T @ centred)
    axes = vectors[:, np.argsort(values)[::-1]]
    t = test - mean
    rows = []
    for k in sizes:
        v = axes[:, :k]
        residual = t - (t @ v) @ v.T
        rows.append({"code_size": k, "sq_error_per_image": float((residual**2).sum(axis=1).mean())})
    print(json.dumps({"numpy": np.__version__, "rows": rows}))


if __name__ == "__main__":
    main()
