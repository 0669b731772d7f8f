"""Training and evaluation on uint8 images; the only preprocessing is x = uint8 / 255 (and, for the MLP,
a flatten), so a model's ONNX input is exactly what the bundled .npz files give after that."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


@dataclass
class TrainConfig:
    epochs: int
    batch_size: int
    max_lr: float
    weight_decay: float
    seed: int


def preprocess(x_uint8: torch.Tensor, flatten: bool) -> torch.Tensor:
    x = x_uint8.to(torch.float32) / 255
    return x.reshape(-1, 784) if flatten else x.reshape(-1, 1, 28, 28)


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, cfg: TrainConfig, flatten: bool) -> float:
    """AdamW with a one-cycle schedule and random horizontal flips; returns the wall time in seconds."""
    xs, ys = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = (len(xs) + cfg.batch_size - 1) // cfg.batch_size
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.max_lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.max_lr, total_steps=cfg.epochs * steps_per_epoch)
    start = time.perf_counter()
    for epoch in range(cfg.epochs):
        model.train()
        order = torch.randperm(len(xs), generator=gen)
        flip = torch.rand(len(xs), generator=gen) < 0.5
        total_loss = 0.0
        for step in range(steps_per_epoch):
            idx = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            images = xs[idx]
            # Fashion-MNIST items are left-right symmetric enough that a mirror image is the same class.
            images = torch.where(flip[idx].view(-1, 1, 1), images.flip(-1), images)
            loss = F.cross_entropy(model(preprocess(images, flatten)), ys[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total_loss += loss.item()
        print(f"  epoch {epoch + 1}/{cfg.epochs}: loss {total_loss / steps_per_epoch:.4f} "
              f"({time.perf_counter() - start:.0f} s)", flush=True)
    model.eval()
    return time.perf_counter() - start


@torch.no_grad()
def predict(model: nn.Module, x: np.ndarray, flatten: bool, batch_size: int = 1000) -> np.ndarray:
    """Eval-mode logits, float32 [N,10]."""
    model.eval()
    out = [model(preprocess(torch.from_numpy(x[i:i + batch_size]), flatten)) for i in range(0, len(x), batch_size)]
    return torch.cat(out).numpy()


def top1(logits: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(logits, axis=1) == y))
