"""Train the second example language model (LLaMA-style, byte-pair vocabulary) and write it to examples/.

    /usr/bin/python3 scripts/examples/train_tiny_llama.py [--steps N] [--no-ort]

Same text, split and training loop as train_tiny_lm.py; model in tiny_llama_model.py. Writes
examples/models/tiny_llama.onnx, tiny_llama.tokenizer.json, the `tiny_llama` entry of reference.json, and
examples/data/llama-calib.npy and llama-heldout.npy. The tokenizer is trained here (plain BPE over words);
the corpus is then encoded by @huggingface/tokenizers through tokenize_text.mjs and must match this
script's own encoding token for token.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import torch

import fmnist_data
import onnx_export
import train_tiny_lm as base
from tiny_llama_model import TinyLlama

NAME = "tiny_llama"
VOCAB = 512
CONTEXT = base.CONTEXT  # 128 tokens (about 420 characters)
D_MODEL = 256
LAYERS = 3
HEADS = 4
HIDDEN = 640
STEPS = 800
MAX_PERPLEXITY = 60.0

SPACE = "\u2581"  # spaces are written as ▁ so that merges ("a b") never contain a space
PRE_TOKEN = f"{SPACE}?[A-Za-z]+|{SPACE}?[^A-Za-z{SPACE}\\n]+|{SPACE}|\\n"


def train_bpe(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Byte-pair merges over the training text's words until the vocabulary has VOCAB entries."""
    words = collections.Counter(re.findall(PRE_TOKEN, text.replace(" ", SPACE)))
    vocab = sorted({c for w in words for c in w})
    split = {w: list(w) for w in words}
    merges = []
    while len(vocab) < VOCAB:
        pairs = collections.Counter()
        for w, count in words.items():
            parts = split[w]
            for a, b in zip(parts, parts[1:]):
                pairs[a, b] += count
        if not pairs:
            break
        best = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))[0]
        merges.append(best)
        vocab.append(best[0] + best[1])
        for w, parts in split.items():
            i, out = 0, []
            while i < len(parts):
                if i + 1 < len(parts) and (parts[i], parts[i + 1]) == best:
                    out.append(parts[i] + parts[i + 1])
                    i += 2
                else:
                    out.append(parts[i])
                    i += 1
            split[w] = out
    return vocab, merges


def encode(text: str, vocab: list[str], merges: list[tuple[str, str]]) -> np.ndarray:
    """BPE by merge rank, as Hugging Face's BPE model applies it."""
    ids = {t: i for i, t in enumerate(vocab)}
    rank = {m: i for i, m in enumerate(merges)}
    cache: dict[str, list[int]] = {}
    out: list[int] = []
    for word in re.findall(PRE_TOKEN, text.replace(" ", SPACE)):
        if word not in cache:
            parts = list(word)
            while len(parts) > 1:
                r, i = min((rank.get((a, b), len(rank)), i) for i, (a, b) in enumerate(zip(parts, parts[1:])))
                if r == len(rank):
                    break
                parts[i:i + 2] = [parts[i] + parts[i + 1]]
            cache[word] = [ids[p] for p in parts]
        out.extend(cache[word])
    return np.array(out, dtype=np.int64)


def tokenizer_json(vocab: list[str], merges: list[tuple[str, str]]) -> dict:
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": {"type": "Replace", "pattern": {"String": " "}, "content": SPACE},
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": PRE_TOKEN}, "behavior": "Isolated", "invert": False},
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": SPACE}, "content": " "}, {"type": "Fuse"}]},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
            "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": {t: i for i, t in enumerate(vocab)},
            "merges": [f"{a} {b}" for a, b in merges],
        },
    }


def check_with_tokenizers_js(tokenizer_path: str, text: str, expected: np.ndarray) -> None:
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenize_text.mjs")
    with tempfile.TemporaryDirectory() as tmp:
        text_path, ids_path = os.path.join(tmp, "text.txt"), os.path.join(tmp, "ids.bin")
        with open(text_path, "w", encoding="ascii", newline="") as f:
            f.write(text)
        subprocess.run(["node", script, tokenizer_path, text_path, ids_path], check=True, cwd=base.REPO)
        got = np.fromfile(ids_path, dtype="<i4").astype(np.int64)
    if got.shape != expected.shape or not np.array_equal(got, expected):
        first = next((i for i in range(min(len(got), len(expected))) if got[i] != expected[i]), None)
        raise AssertionError(f"@huggingface/tokenizers gives {len(got)} ids, this script {len(expected)}; "
                             f"first difference at {first}")


def name_weights(proto: onnx.ModelProto) -> None:
    """`blocks.0.q_proj.weight` … as stored ([in, out]); the tied head's folded copy becomes `lm_head.weight`."""
    inits = {t.name: t for t in proto.graph.initializer}
    for node in proto.graph.node:
        weight = node.input[1] if node.op_type == "MatMul" else None
        if weight not in inits or not weight.startswith("onnx::"):
            continue
        path = node.name[1:].rsplit("/", 1)[0].replace("/", ".")
        base.rename_initializer(proto, inits, weight, f"{path}.weight" if path.startswith("blocks") else "lm_head.weight")


def weight_matmuls(proto: onnx.ModelProto) -> list[str]:
    inits = {t.name: t for t in proto.graph.initializer}
    found = [f"{n.input[1]} {list(inits[n.input[1]].dims)}" for n in proto.graph.node
             if n.op_type == "MatMul" and n.input[1] in inits]
    if len(found) != 7 * LAYERS + 1:
        raise AssertionError(f"expected {7 * LAYERS + 1} MatMuls with constant weights: {found}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--no-ort", action="store_true", help="skip the ONNX Runtime check")
    args = parser.parse_args()
    torch.set_num_threads(base.THREADS)
    torch.set_flush_denormal(True)
    torch.manual_seed(base.SEED)

    verses = base.read_bible()
    text, split, _, _ = base.corpus(verses)
    started = time.perf_counter()
    vocab, merges = train_bpe(text[:split])
    ids = encode(text, vocab, merges)
    tokenizer_path = os.path.join(base.MODELS_DIR, f"{NAME}.tokenizer.json")
    fmnist_data.write_json(tokenizer_path, tokenizer_json(vocab, merges))
    check_with_tokenizers_js(tokenizer_path, text, ids)
    train_len = len(encode(text[:split], vocab, merges))
    train_ids, heldout_ids = ids[:train_len], ids[train_len:]
    print(f"BPE: {len(vocab)} tokens in {time.perf_counter() - started:.0f} s; {len(ids)} tokens "
          f"({len(text) / len(ids):.2f} characters each), {len(heldout_ids)} held out", flush=True)

    rng = np.random.default_rng(base.SEED)
    calib = base.windows(train_ids, np.sort(rng.choice(len(train_ids) - CONTEXT, base.CALIB_WINDOWS, replace=False)))
    heldout = base.windows(heldout_ids, base.heldout_starts(len(heldout_ids)))
    np.save(os.path.join(base.DATA_DIR, "llama-calib.npy"), calib)
    np.save(os.path.join(base.DATA_DIR, "llama-heldout.npy"), heldout)

    model = TinyLlama(len(vocab), CONTEXT, D_MODEL, LAYERS, HEADS, HIDDEN)
    params = sum(p.numel() for p in model.parameters())
    print(f"{NAME}: {params} parameters", flush=True)
    wall, cpu = base.train(model, train_ids, args.steps)
    ppl, logits = base.perplexity(model, heldout)
    ppl_calib, _ = base.perplexity(model, calib)
    print(f"  perplexity {ppl:.3f} held out, {ppl_calib:.3f} on llama-calib.npy", flush=True)

    proto = base.export(model, name_weights)
    matmuls = weight_matmuls(proto)
    model_path = os.path.join(base.MODELS_DIR, f"{NAME}.onnx")
    onnx_export.save(proto, model_path)
    ort = None
    if not args.no_ort:
        with tempfile.TemporaryDirectory() as tmp:
            np.save(os.path.join(tmp, "logits.npy"), logits)
            ort = base.run_ort_check(model_path, os.path.join(base.DATA_DIR, "llama-heldout.npy"),
                                     os.path.join(tmp, "logits.npy"))
        if ort:
            print(f"  ONNX Runtime: perplexity {ort['perplexity']:.4f}, max |logit − torch| {ort['maxAbsDiff']:.2e}")

    entry = {
        "file": f"{NAME}.onnx",
        "description": f"LLaMA-style decoder: byte-pair vocabulary of {len(vocab)}, {LAYERS} blocks (d_model "
                       f"{D_MODEL}, {HEADS} heads, rotary positions, RMSNorm spelled out, SwiGLU MLP of {HIDDEN}, "
                       "no biases), embedding tied to the output projection (exported as its own "
                       "[d_model, vocab] initializer lm_head.weight).",
        "opset": base.OPSET,
        "input": {"name": "input_ids", "dtype": "int64", "shape": ["batch", "sequence"]},
        "output": {"name": "logits", "dtype": "float32", "shape": ["batch", "sequence", len(vocab)]},
        "maxSequence": CONTEXT,
        "tokenizer": f"{NAME}.tokenizer.json",
        "parameters": params,
        "opCounts": onnx_export.op_counts(proto),
        "weightMatMuls": matmuls,
        "data": {"calibration": f"../data/llama-calib.npy int64 [{base.CALIB_WINDOWS}, {CONTEXT}], training text",
                 "heldout": f"../data/llama-heldout.npy int64 [{base.HELDOUT_WINDOWS}, {CONTEXT}], held-out books"},
        "perplexity": {"heldoutTorch": round(ppl, 5), **({"heldoutOrt": round(ort["perplexity"], 5)} if ort else {}),
                       "calibTorch": round(ppl_calib, 5)},
        "training": {"steps": args.steps, "batchSize": base.BATCH, "peakLr": base.PEAK_LR,
                     "loop": "train_tiny_lm.train", "wallTimeSeconds": round(wall, 1),
                     "cpuTimeSeconds": round(cpu, 1), "torch": torch.__version__, "onnx": onnx.__version__,
                     "blas": base.blas_library()},
    }
    base.write_reference(entry, NAME)
    if ppl > MAX_PERPLEXITY:
        print(f"error: held-out perplexity {ppl:.3f} is above {MAX_PERPLEXITY}", file=sys.stderr)
        return 1
    if ort and abs(ort["perplexity"] / ppl - 1) > 1e-4:
        print(f"error: ONNX Runtime perplexity {ort['perplexity']:.5f} differs from torch's {ppl:.5f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
