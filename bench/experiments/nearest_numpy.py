"""One-class anomaly detection on Fashion-MNIST by the nearest normal training image.

The reference of the one-class table, independent of the trainer: every test image is
scored by its Euclidean distance (pixels in [0, 1]) to the nearest of the 6,000
training images of the normal class, and the AUROC of those scores (the other nine
classes' test images as positives, ties counted half) is printed as JSON:

    python bench/experiments/nearest_numpy.py 8
    {"numpy": "2.4.6", "normal": 8, "auroc": 0.9...}
"""

import gzip
import json
import os
import sys

import numpy as np

from pca_numpy import folder, images


def labels(path):
    with gzip.open(path) as f:
        data = f.read()
    return np.frombuffer(data, np.uint8, offset=8)


def nearest_distances(queries, references, chunk=1000):
    """Squared distance of each query to its nearest reference, exactly."""
    ref_norms = (references**2).sum(axis=1)
    out = np.empty(len(queries))
    for start in range(0, len(queries), chunk):
        q = queries[start : start + chunk]
        d = (q**2).sum(axis=1)[:, None] - 2.0 * q @ references.T + ref_norms[None, :]
        out[start : start + chunk] = np.maximum(d.min(axis=1), 0.0)
    return out


def auroc(scores, positive):
    """Area under the ROC curve: the Mann-Whitney statistic, ties counted half."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    n_pos = positive.sum()
    n_neg = len(scores) - n_pos
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit() or int(sys.argv[1]) > 9:
        sys.exit("usage: nearest_numpy.py CLASS (a label from 0 to 9)")
    normal = int(sys.argv[1])
    base = folder()
    train = images(os.path.join(base, "train-images-idx3-ubyte.gz"))
    train_labels = labels(os.path.join(base, "train-labels-idx1-ubyte.gz"))
    test = images(os.path.join(base, "t10k-images-idx3-ubyte.gz"))
    test_labels = labels(os.path.join(base, "t10k-labels-idx1-ubyte.gz"))
    scores = nearest_distances(test, train[train_labels == normal])
    result = auroc(scores, test_labels != normal)
    print(json.dumps({"numpy": np.__version__, "normal": normal, "auroc": result}))


if __name__ == "__main__":
    main()
