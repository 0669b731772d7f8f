"""A second small language model, built the way LLaMA-family models are, to check weight-only
quantization on a model whose graph differs from the bundled GPT-style one (tiny_lm_model.py).

What differs, and what each difference exercises:
- RMSNorm spelled out (Pow, ReduceMean, Add, Sqrt, Div, Mul by the gain): AWQ folds its scales into a
  plain Mul's constant instead of a LayerNormalization.
- SwiGLU MLP (down(silu(gate(x)) * up(x))): gate and up share one input; down reads a product, so its
  AWQ scale folds into up's output columns.
- Rotary position embeddings on q and k (no position table), no biases anywhere.
- Token embedding tied to the output projection: the exporter folds embed.weightᵀ into its own
  initializer, so the LM head is a MatMul with a [d_model, vocab] weight like any other.
- A byte-pair vocabulary (512 tokens) instead of characters; d_model 256 and an MLP width of 640, both
  multiples of 128, as in real models.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class RmsNorm(nn.Module):
    def __init__(self, d: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Block(nn.Module):
    def __init__(self, d_model: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.heads = heads
        self.attn_norm = RmsNorm(d_model)
        self.q_proj = nn.Linear(d_model, d_model, bias=False)
        self.k_proj = nn.Linear(d_model, d_model, bias=False)
        self.v_proj = nn.Linear(d_model, d_model, bias=False)
        self.o_proj = nn.Linear(d_model, d_model, bias=False)
        self.mlp_norm = RmsNorm(d_model)
        self.gate_proj = nn.Linear(d_model, hidden, bias=False)
        self.up_proj = nn.Linear(d_model, hidden, bias=False)
        self.down_proj = nn.Linear(hidden, d_model, bias=False)

    def attention(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        hd = d // self.heads
        q = self.q_proj(x).reshape(b, t, self.heads, hd).transpose(1, 2)
        k = self.k_proj(x).reshape(b, t, self.heads, hd).transpose(1, 2)
        v = self.v_proj(x).reshape(b, t, self.heads, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd)) + mask
        y = F.softmax(scores, dim=-1) @ v
        return self.o_proj(y.transpose(1, 2).reshape(b, t, d))

    def forward(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.attn_norm(x), cos, sin, mask)
        h = self.mlp_norm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class TinyLlama(nn.Module):
    def __init__(self, vocab: int, context: int, d_model: int, layers: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        hd = d_model // heads
        inv_freq = 1.0 / (10000 ** (torch.arange(0, hd, 2).float() / hd))
        angles = torch.arange(context).float()[:, None] * inv_freq[None, :]
        angles = torch.cat((angles, angles), dim=-1)
        self.register_buffer("rope_cos", angles.cos())
        self.register_buffer("rope_sin", angles.sin())
        self.register_buffer("causal_mask", torch.full((context, context), float("-inf")).triu(1))
        self.blocks = nn.ModuleList(Block(d_model, heads, hidden) for _ in range(layers))
        self.norm = RmsNorm(d_model)
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("o_proj.weight", "down_proj.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        t = input_ids.shape[1]
        x = self.embed(input_ids)
        cos, sin, mask = self.rope_cos[:t], self.rope_sin[:t], self.causal_mask[:t, :t]
        for block in self.blocks:
            x = block(x, cos, sin, mask)
        return F.linear(self.norm(x), self.embed.weight)
