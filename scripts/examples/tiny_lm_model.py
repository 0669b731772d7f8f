"""The bundled tiny language model: a character-level decoder-only transformer (GPT-style).

Written so that torch 1.13's ONNX exporter gives the graph weight-only quantization targets: every Linear
is applied to a 3-D activation, which exports as MatMul(x, W) with a constant 2-D [in, out] weight
followed by Add(bias); attention is spelled out with MatMul/Softmax (no fused op); LayerNorm exports as
one LayerNormalization (opset 17); GELU is the exact erf form.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


class Block(nn.Module):
    """Pre-LayerNorm: x + attn(ln1(x)), then x + mlp(ln2(x))."""

    def __init__(self, d_model: int, heads: int, mlp_ratio: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d_model)
        # Separate q/k/v projections (as in LLaMA-family models): three MatMuls reading one LayerNorm.
        self.q_proj = nn.Linear(d_model, d_model)
        self.k_proj = nn.Linear(d_model, d_model)
        self.v_proj = nn.Linear(d_model, d_model)
        self.o_proj = nn.Linear(d_model, d_model)
        self.ln2 = nn.LayerNorm(d_model)
        self.fc_in = nn.Linear(d_model, mlp_ratio * d_model)
        self.fc_out = nn.Linear(mlp_ratio * d_model, d_model)

    def attention(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        hd = d // self.heads
        q = self.q_proj(x).reshape(b, t, self.heads, hd).transpose(1, 2)
        k = self.k_proj(x).reshape(b, t, self.heads, hd).transpose(1, 2)
        v = self.v_proj(x).reshape(b, t, self.heads, hd).transpose(1, 2)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hd)) + mask
        y = F.softmax(scores, dim=-1) @ v
        return self.o_proj(y.transpose(1, 2).reshape(b, t, d))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.attention(self.ln1(x), mask)
        return x + self.fc_out(F.gelu(self.fc_in(self.ln2(x))))


class TinyLm(nn.Module):
    def __init__(self, vocab: int, context: int = 128, d_model: int = 192, layers: int = 4, heads: int = 6,
                 mlp_ratio: int = 4) -> None:
        super().__init__()
        self.context = context
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.Parameter(torch.zeros(context, d_model))
        # Additive causal mask (0 on and below the diagonal, -inf above), one initializer for every block.
        self.register_buffer("causal_mask", torch.full((context, context), float("-inf")).triu(1))
        self.blocks = nn.ModuleList(Block(d_model, heads, mlp_ratio) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d_model)
        self.lm_head = nn.Linear(d_model, vocab)  # untied from the embedding
        self.reset_parameters(layers)

    def reset_parameters(self, layers: int) -> None:
        # GPT-2's initialisation: N(0, 0.02), residual output projections scaled by 1/sqrt(2·layers).
        for name, p in self.named_parameters():
            if p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * layers) if name.endswith(("o_proj.weight", "fc_out.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                nn.init.zeros_(p)

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        t = input_ids.shape[1]
        x = self.embed(input_ids) + self.pos[:t]
        mask = self.causal_mask[:t, :t]
        for block in self.blocks:
            x = block(x, mask)
        return self.lm_head(self.ln_f(x))


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
