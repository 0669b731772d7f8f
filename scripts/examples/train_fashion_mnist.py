"""Train the bundled Fashion-MNIST example models and write them with their data to examples/.

    /usr/bin/python3 scripts/examples/train_fashion_mnist.py [--models a,b] [--torch-logits-dir DIR]

Writes examples/models/<name>.onnx, examples/models/reference.json, examples/data/fmnist-calib.npz and
examples/data/fmnist-test.npz. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from typing import Callable

import numpy as np
import onnx
import torch
from torch import nn

import fmnist_data as data
import fmnist_models as arch
import onnx_export
import training
from training import TrainConfig

SEED = 0
THREADS = 2
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS_DIR = os.path.join(REPO, "examples", "models")
DATA_DIR = os.path.join(REPO, "examples", "data")

CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]


@dataclass
class ModelSpec:
    name: str
    build: Callable[[], nn.Module]
    flatten: bool  # MLP: the input is the flattened image
    opset: int
    keep_batchnorm: bool
    config: TrainConfig
    min_accuracy: float  # on the full 10k test split
    require_ops: dict[str, int]
    forbid_ops: list[str]
    description: str


SPECS = [
    ModelSpec(
        "fmnist_cnn", lambda: arch.ResidualCnn(width=64), False, 13, True,
        TrainConfig(epochs=6, batch_size=128, max_lr=3e-3, weight_decay=1e-4, seed=SEED), 0.90,
        {"Conv": 6, "BatchNormalization": 6, "Add": 2, "MaxPool": 1, "GlobalAveragePool": 1, "Gemm": 1},
        ["Identity"],
        "Residual CNN: Conv+BN+ReLU stem, MaxPool, two residual blocks (the second strided, with a 1x1 "
        "Conv+BN shortcut), GlobalAveragePool, Flatten, Gemm. BatchNormalization kept as separate nodes.",
    ),
    ModelSpec(
        "fmnist_mlp", arch.Mlp, True, 13, False,
        TrainConfig(epochs=15, batch_size=128, max_lr=2e-3, weight_decay=1e-4, seed=SEED), 0.87,
        {"Gemm": 3, "Relu": 2}, ["Identity"],
        "MLP 784-256-128-10 with ReLU (Gemm nodes) on the flattened image.",
    ),
    ModelSpec(
        "fmnist_transformer", arch.TinyVit, False, 17, False,
        TrainConfig(epochs=12, batch_size=128, max_lr=2e-3, weight_decay=0.05, seed=SEED), 0.85,
        {"LayerNormalization": 5, "MatMul": 4, "Softmax": 2, "Erf": 2}, ["Conv", "Identity"],
        "Tiny ViT: 7x7 patches (Reshape/Transpose) -> 16 tokens, Linear patch embedding, learned position "
        "embedding, 2 pre-LayerNorm encoder blocks (d=64, 4 heads, MLP 128, erf GELU), LayerNorm, mean "
        "pooling, Linear head.",
    ),
    ModelSpec(
        "fmnist_mobilenet", arch.MobileNet, False, 13, False,
        TrainConfig(epochs=6, batch_size=128, max_lr=4e-3, weight_decay=1e-4, seed=SEED), 0.88,
        {"Conv": 20, "Add": 4, "Clip": 10, "GlobalAveragePool": 1}, ["BatchNormalization", "Identity"],
        "MobileNetV2-style: stride-2 stem, inverted residual blocks (1x1 expand, 3x3 depthwise, 1x1 "
        "project) with ReLU6 as Clip(0,6), residual Adds, BatchNorm folded into the Convs.",
    ),
]


def blas_library() -> str:
    """Which BLAS this process loaded: it sets the training speed, and the trained weights' last bits."""
    with open("/proc/self/maps", encoding="utf-8") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return ", ".join(sorted(os.path.basename(p) for p in libs)) or "none found"


def input_shape(spec: ModelSpec) -> list[int]:
    return [784] if spec.flatten else [1, 28, 28]


def read_entries(path: str) -> dict[str, dict]:
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)["models"]


def write_reference(path: str, entries: dict[str, dict], test_images: int) -> None:
    """Merged with the entries already in the file, so one model can be retrained on its own (or several
    runs can train disjoint sets of models side by side)."""
    merged = {**read_entries(path), **entries}
    models = {spec.name: merged[spec.name] for spec in SPECS if spec.name in merged}
    tmp = f"{path}.{os.getpid()}.tmp"
    data.write_json(tmp, {
        "generatedBy": "scripts/examples/train_fashion_mnist.py",
        "dataset": {
            "name": "Fashion-MNIST",
            "source": "Debian package dataset-fashion-mnist (idx files)",
            "classes": CLASS_NAMES,
            "calibration": {
                "file": "../data/fmnist-calib.npz",
                "images": data.CALIB_SIZE,
                "drawnFrom": f"training split, seeded draw (numpy default_rng({SEED})), held out from training",
            },
            "test": {
                "file": "../data/fmnist-test.npz",
                "images": data.BUNDLED_TEST_SIZE,
                "drawnFrom": "the first images of the official test split",
            },
            "arrays": {"x": "uint8 [N,28,28]", "y": "uint8 [N], class index"},
        },
        "top1Definitions": {
            "bundledTest": f"FP32 top-1 in PyTorch on the {data.BUNDLED_TEST_SIZE} images of fmnist-test.npz",
            "fullTest": f"FP32 top-1 in PyTorch on all {test_images} images of the official test split",
        },
        "models": models,
    })
    os.replace(tmp, path)  # atomic, for runs side by side


def train_and_export(spec: ModelSpec, split: data.Split) -> tuple[dict, np.ndarray, float]:
    """Returns the reference.json entry, the torch logits on the bundled test images, full-test top-1."""
    torch.manual_seed(spec.config.seed)
    module = spec.build()
    wall = training.train(module, split.train_x, split.train_y, spec.config, spec.flatten)
    bundled_logits = training.predict(module, split.bundled_test_x, spec.flatten)
    acc_bundled = training.top1(bundled_logits, split.bundled_test_y)
    acc_full = training.top1(training.predict(module, split.test_x, spec.flatten), split.test_y)
    print(f"  top-1: {acc_bundled:.4f} on the bundled {len(bundled_logits)}, {acc_full:.4f} on all "
          f"{len(split.test_x)} test images", flush=True)

    model = onnx_export.export(module, input_shape(spec), spec.opset, spec.keep_batchnorm)
    onnx_export.check_structure(spec.name, model, spec.require_ops, spec.forbid_ops)
    onnx_export.save(model, os.path.join(MODELS_DIR, f"{spec.name}.onnx"))
    entry = {
        "file": f"{spec.name}.onnx",
        "description": spec.description,
        "opset": spec.opset,
        "input": {"name": onnx_export.INPUT_NAME, "dtype": "float32", "shape": ["batch", *input_shape(spec)]},
        "output": {"name": onnx_export.OUTPUT_NAME, "dtype": "float32", "shape": ["batch", 10]},
        "preprocessing": ["x/255", "flatten"] if spec.flatten else ["x/255"],
        "parameters": onnx_export.parameter_count(model),
        "opCounts": onnx_export.op_counts(model),
        "top1": {"bundledTest": round(acc_bundled, 4), "fullTest": round(acc_full, 4)},
        "training": {
            "epochs": spec.config.epochs,
            "batchSize": spec.config.batch_size,
            "optimizer": "AdamW, one-cycle LR schedule",
            "maxLr": spec.config.max_lr,
            "weightDecay": spec.config.weight_decay,
            "augmentation": "random horizontal flip",
            "seed": spec.config.seed,
            "wallTimeSeconds": round(wall, 1),
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "threads": torch.get_num_threads(),
            "blas": blas_library(),
        },
    }
    return entry, bundled_logits, acc_full


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=",".join(s.name for s in SPECS),
                        help="comma-separated subset to train (default: all); the others keep their entries "
                             "in reference.json")
    parser.add_argument("--torch-logits-dir", metavar="DIR",
                        help="also write <model>.npy: torch logits on the bundled test images, to compare an "
                             "ONNX runtime's output with")
    args = parser.parse_args()
    names = args.models.split(",")
    unknown = set(names) - {s.name for s in SPECS}
    if unknown:
        parser.error(f"unknown model(s) {sorted(unknown)}; known: {[s.name for s in SPECS]}")
    torch.set_num_threads(THREADS)

    split = data.load_split(SEED)
    data.save_npz_compressed(os.path.join(DATA_DIR, "fmnist-calib.npz"), {"x": split.calib_x, "y": split.calib_y})
    data.save_npz_compressed(os.path.join(DATA_DIR, "fmnist-test.npz"),
                             {"x": split.bundled_test_x, "y": split.bundled_test_y})
    print(f"training on {len(split.train_x)} images, BLAS: {blas_library()}", flush=True)

    failures: list[str] = []
    for spec in (s for s in SPECS if s.name in names):
        print(f"{spec.name}:", flush=True)
        entry, logits, acc_full = train_and_export(spec, split)
        write_reference(os.path.join(MODELS_DIR, "reference.json"), {spec.name: entry}, len(split.test_x))
        if args.torch_logits_dir:
            os.makedirs(args.torch_logits_dir, exist_ok=True)
            np.save(os.path.join(args.torch_logits_dir, f"{spec.name}.npy"), logits)
        if acc_full < spec.min_accuracy:
            failures.append(f"{spec.name}: top-1 {acc_full:.4f} is below the target {spec.min_accuracy}")
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
