"""Train the bundled tiny character-level language model and write it with its data to examples/.

    /usr/bin/python3 scripts/examples/train_tiny_lm.py [--steps N] [--torch-logits PATH] [--no-ort]

Writes examples/models/tiny_lm.onnx, tiny_lm.vocab.json, tiny_lm.tokenizer.json, the `tiny_lm` entry of
examples/models/reference.json, examples/data/lm-calib.npy and examples/data/lm-heldout.npy. Then runs
tiny_lm_ort.mjs (Node, onnxruntime-node from the repository) to check ONNX Runtime's logits and perplexity
against torch's and records ONNX Runtime's perplexity too. See README.md beside this file.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Callable

import numpy as np
import onnx
import torch
from torch.nn import functional as F

import fmnist_data  # write_json: the JSON layout Prettier accepts
import onnx_export
from tiny_lm_model import TinyLm, parameter_count

SEED = 0
THREADS = 2
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS_DIR = os.path.join(REPO, "examples", "models")
DATA_DIR = os.path.join(REPO, "examples", "data")
NAME = "tiny_lm"
OPSET = 17

CONTEXT = 128
D_MODEL = 192
LAYERS = 4
HEADS = 6
MLP_RATIO = 4

HELDOUT_FRACTION = 0.05  # the held-out text starts at the book boundary closest to 95% of the text
CALIB_WINDOWS = 128
HELDOUT_WINDOWS = 64

# Training: AdamW, linear warm-up then cosine decay to a tenth of the peak, gradient clipping at 1.
STEPS = 800
BATCH = 32
PEAK_LR = 2e-3
WARMUP = 60
WEIGHT_DECAY = 0.1  # on the 2-D weights only (not on LayerNorm, biases, embeddings)
MAX_PERPLEXITY = 5.0  # on the held-out windows; the script fails above it

VERSE = re.compile(r"^([0-9]?[A-Za-z]+)([0-9]+):([0-9]+) (.*)$")


def read_bible() -> list[tuple[str, str]]:
    """(book, verse text) for the 31,102 verses of the King James Bible, in book order.

    `bible -f` turns pretty-printing off: one verse a line, preceded by its reference (`Ge1:1 In the
    beginning ...`, `1Cor13:4 Charity ...`), which is stripped here."""
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"], check=True, capture_output=True, text=True,
                         encoding="ascii").stdout
    verses = []
    for line in out.splitlines():
        m = VERSE.match(line)
        if not m:
            raise ValueError(f"unexpected line from `bible`: {line!r}")
        verses.append((m.group(1), m.group(4)))
    if len(verses) != 31102:
        raise ValueError(f"expected the 31102 verses of the KJV, got {len(verses)}")
    return verses


def corpus(verses: list[tuple[str, str]]) -> tuple[str, int, str, str]:
    """The text (one verse a line, each ending with a newline), the character offset where the held-out
    part begins, and the last training and first held-out book (as `bible` abbreviates them)."""
    text_parts, starts = [], []  # starts: (offset, book) at each book's first verse
    offset = 0
    for book, verse in verses:
        if not starts or starts[-1][1] != book:
            starts.append((offset, book))
        text_parts.append(verse + "\n")
        offset += len(verse) + 1
    target = (1 - HELDOUT_FRACTION) * offset
    i = min(range(len(starts)), key=lambda k: abs(starts[k][0] - target))
    return "".join(text_parts), starts[i][0], starts[i - 1][1], starts[i][1]


def windows(ids: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.stack([ids[s:s + CONTEXT] for s in starts]).astype(np.int64)


def heldout_starts(length: int) -> np.ndarray:
    """HELDOUT_WINDOWS non-overlapping windows spread evenly over the held-out text, in text order."""
    stride = (length - CONTEXT) // (HELDOUT_WINDOWS - 1)
    assert stride >= CONTEXT
    return np.arange(HELDOUT_WINDOWS) * stride


@torch.no_grad()
def perplexity(model: TinyLm, batch_windows: np.ndarray, batch_size: int = 64) -> tuple[float, np.ndarray]:
    """Perplexity over windows [N, T]: position t predicts token t+1, all N·(T−1) predictions weighted
    equally, log-softmax in float64. Also returns the logits (float32)."""
    model.eval()
    nll, count, logits_all = 0.0, 0, []
    for i in range(0, len(batch_windows), batch_size):
        x = torch.from_numpy(batch_windows[i:i + batch_size])
        logits = model(x)
        logits_all.append(logits.numpy())
        logp = F.log_softmax(logits[:, :-1].double(), dim=-1)
        nll -= logp.gather(-1, x[:, 1:, None]).sum().item()
        count += x[:, 1:].numel()
    return math.exp(nll / count), np.concatenate(logits_all)


def bigram_perplexity(train: np.ndarray, heldout_windows: np.ndarray, vocab: int) -> float:
    """Add-one bigram model from the training text, on the same predictions as `perplexity`."""
    counts = np.ones((vocab, vocab))
    np.add.at(counts, (train[:-1], train[1:]), 1)
    logp = np.log(counts / counts.sum(1, keepdims=True))
    return math.exp(-logp[heldout_windows[:, :-1], heldout_windows[:, 1:]].mean())


def train(model: TinyLm, train_ids: np.ndarray, steps: int) -> tuple[float, float]:
    """Returns the wall time and the process CPU time in seconds."""
    data = torch.from_numpy(train_ids.astype(np.int64))
    gen = torch.Generator().manual_seed(SEED)
    decay = [p for n, p in model.named_parameters() if p.dim() == 2 and n not in ("embed.weight", "pos")]
    rest = [p for n, p in model.named_parameters() if not (p.dim() == 2 and n not in ("embed.weight", "pos"))]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": rest, "weight_decay": 0}],
                            lr=PEAK_LR, betas=(0.9, 0.95))

    def lr_at(step: int) -> float:
        if step < WARMUP:
            return PEAK_LR * (step + 1) / WARMUP
        progress = (step - WARMUP) / max(1, steps - WARMUP)
        return PEAK_LR * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))

    offsets = torch.arange(CONTEXT + 1)
    start, cpu_start = time.perf_counter(), time.process_time()
    running = None
    model.train()
    for step in range(steps):
        starts = torch.randint(0, len(data) - CONTEXT - 1, (BATCH,), generator=gen)
        xy = data[starts[:, None] + offsets]
        logits = model(xy[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), xy[:, 1:].reshape(-1))
        for group in opt.param_groups:
            group["lr"] = lr_at(step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if (step + 1) % 50 == 0 or step + 1 == steps:
            print(f"  step {step + 1}/{steps}: loss {running:.4f} ({time.perf_counter() - start:.0f} s)", flush=True)
    model.eval()
    return time.perf_counter() - start, time.process_time() - cpu_start


def export(model: torch.nn.Module, rename: Callable[[onnx.ModelProto], None] | None = None) -> onnx.ModelProto:
    """The model as ONNX (input_ids → logits, batch and sequence dynamic), its weights named by `rename`
    (default: name_weights)."""
    import io
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model, (torch.zeros([2, 16], dtype=torch.int64),), buf, opset_version=OPSET,
            input_names=["input_ids"], output_names=["logits"],
            dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}},
        )
    proto = onnx.load_from_string(buf.getvalue())
    onnx_export.undo_initializer_dedup(proto)
    (rename or name_weights)(proto)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def name_weights(proto: onnx.ModelProto) -> None:
    """torch names the transposed Linear weights it exports `onnx::MatMul_<n>`; call each after its
    module instead (`blocks.0.q_proj.weight`, `lm_head.weight`), as stored: [in, out], the transpose of
    torch's [out, in]. The MatMul nodes are named `/<module path>/MatMul`."""
    inits = {t.name: t for t in proto.graph.initializer}
    for node in proto.graph.node:
        weight = node.input[1] if node.op_type == "MatMul" else None
        if weight not in inits or not weight.startswith("onnx::") or not node.name.endswith("/MatMul"):
            continue
        rename_initializer(proto, inits, weight, node.name[1:-len("/MatMul")].replace("/", ".") + ".weight")


def rename_initializer(proto: onnx.ModelProto, inits: dict, old: str, new: str) -> None:
    """Renames initializer `old` (inits: name → initializer) and every node input reading it."""
    assert new not in inits, new
    inits[old].name = new
    for node in proto.graph.node:
        for i, x in enumerate(node.input):
            if x == old:
                node.input[i] = new


def check_graph(proto: onnx.ModelProto) -> dict[str, list[str]]:
    """Every Linear must be MatMul(activation, constant 2-D [in, out]) + Add(bias): the form weight-only
    quantization rewrites. Returns the weight-MatMuls' initializer names by role."""
    inits = {t.name: t for t in proto.graph.initializer}
    counts = onnx_export.op_counts(proto)
    for op in ("Gemm", "Identity"):
        if op in counts:
            raise AssertionError(f"unexpected {op} nodes: {counts}")
    for node in proto.graph.node:  # the exporter's shape arithmetic (axes, indices), never a weight
        if node.op_type == "Constant" and np.prod(node.attribute[0].t.dims) > 4:
            raise AssertionError(f"Constant '{node.name}' holds a tensor {list(node.attribute[0].t.dims)}")
    if counts.get("LayerNormalization") != 2 * LAYERS + 1:
        raise AssertionError(f"expected {2 * LAYERS + 1} LayerNormalization nodes: {counts}")
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in proto.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    weights = []
    for node in proto.graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            continue
        w = inits[node.input[1]]
        if len(w.dims) != 2:
            raise AssertionError(f"MatMul '{node.name}' has a {len(w.dims)}-D weight")
        after = consumers.get(node.output[0], [])
        if len(after) != 1 or after[0].op_type != "Add" or not any(i in inits for i in after[0].input):
            raise AssertionError(f"MatMul '{node.name}' is not followed by Add(bias)")
        weights.append((node.input[1], list(w.dims)))
    expected = 6 * LAYERS + 1
    if len(weights) != expected:
        raise AssertionError(f"expected {expected} MatMuls with constant weights, found {len(weights)}: {counts}")
    last = weights[-1]
    if last[1] != [D_MODEL, proto.graph.output[0].type.tensor_type.shape.dim[2].dim_value or last[1][1]]:
        raise AssertionError(f"the last weight MatMul is not the LM head: {last}")
    return {"weightMatMuls": [f"{n} {d}" for n, d in weights]}


def tokenizer_json(chars: list[str]) -> dict:
    """A Hugging Face tokenizer.json for the same ids: every character is its own pre-token (Split on any
    one character, isolated) and a BPE model with no merges maps it to its id; decoding concatenates.
    BPE rather than WordLevel because Tokenizers.js (@huggingface/tokenizers, what transformers.js uses)
    implements BPE but has no WordLevel model. A character outside the vocabulary is dropped (unk_token
    is null): check the text's characters against tiny_lm.vocab.json first."""
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": None,
        "pre_tokenizer": {
            "type": "Split",
            "pattern": {"Regex": "[\\s\\S]"},
            "behavior": "Isolated",
            "invert": False,
        },
        "post_processor": None,
        "decoder": {"type": "Fuse"},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {c: i for i, c in enumerate(chars)},
            "merges": [],
        },
    }


def blas_library() -> str:
    with open("/proc/self/maps", encoding="utf-8") as f:
        libs = {line.split()[-1] for line in f if "blas" in line}
    return ", ".join(sorted(os.path.basename(p) for p in libs)) or "none found"


def run_ort_check(model_path: str, heldout_path: str, torch_logits_path: str) -> dict | None:
    """ONNX Runtime (onnxruntime-node from the repository) on the held-out windows: perplexity and the
    largest logit difference from torch's."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny_lm_ort.mjs")
    try:
        out = subprocess.run(["node", script, model_path, heldout_path, torch_logits_path], check=True,
                             capture_output=True, text=True, cwd=REPO).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"warning: the ONNX Runtime check did not run: {e}", file=sys.stderr)
        return None
    return json.loads(out)


def write_reference(entry: dict, name: str = NAME) -> None:
    """Merged into reference.json under `name`, keeping every other key."""
    path = os.path.join(MODELS_DIR, "reference.json")
    with open(path, encoding="utf-8") as f:
        ref = json.load(f)
    ref[name] = entry
    tmp = f"{path}.{os.getpid()}.tmp"
    fmnist_data.write_json(tmp, ref)
    with open(tmp, encoding="utf-8") as f:
        text = f.read()
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        # Numbers as Prettier writes them: 2e-05 → 2e-5, 1e+20 → 1e20.
        f.write(re.sub(r"(?<=[0-9])e([+-])0*(?=[0-9])", lambda m: "e-" if m.group(1) == "-" else "e", text))
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=STEPS, help=f"training steps (default {STEPS})")
    parser.add_argument("--torch-logits", metavar="PATH",
                        help="also keep torch's logits on lm-heldout.npy in this .npy file")
    parser.add_argument("--no-ort", action="store_true", help="skip the ONNX Runtime check")
    args = parser.parse_args()
    torch.set_num_threads(THREADS)
    torch.set_flush_denormal(True)  # Adam's second moments go subnormal and slow every step down
    torch.manual_seed(SEED)

    verses = read_bible()
    text, split, last_training_book, first_heldout_book = corpus(verses)
    chars = sorted(set(text))
    ids = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    lookup = np.zeros(128, dtype=np.int64)
    lookup[[ord(c) for c in chars]] = np.arange(len(chars))
    ids = lookup[ids]
    train_ids, heldout_ids = ids[:split], ids[split:]
    print(f"corpus: {len(text)} characters, vocabulary {len(chars)}; training on {len(train_ids)}, holding out "
          f"{len(heldout_ids)} ({first_heldout_book}–Rev); BLAS: {blas_library()}", flush=True)

    rng = np.random.default_rng(SEED)
    calib = windows(train_ids, np.sort(rng.choice(len(train_ids) - CONTEXT, CALIB_WINDOWS, replace=False)))
    heldout = windows(heldout_ids, heldout_starts(len(heldout_ids)))
    os.makedirs(DATA_DIR, exist_ok=True)
    np.save(os.path.join(DATA_DIR, "lm-calib.npy"), calib)
    np.save(os.path.join(DATA_DIR, "lm-heldout.npy"), heldout)

    model = TinyLm(len(chars), CONTEXT, D_MODEL, LAYERS, HEADS, MLP_RATIO)
    print(f"{NAME}: {parameter_count(model)} parameters", flush=True)
    wall, cpu = train(model, train_ids, args.steps)

    ppl_windows, logits = perplexity(model, heldout)
    all_starts = np.arange(0, len(heldout_ids) - CONTEXT + 1, CONTEXT)
    ppl_full, _ = perplexity(model, windows(heldout_ids, all_starts))
    ppl_train, _ = perplexity(model, calib)
    bigram = bigram_perplexity(train_ids, heldout, len(chars))
    print(f"  perplexity: {ppl_windows:.4f} on lm-heldout.npy, {ppl_full:.4f} on all {len(all_starts)} held-out "
          f"windows, {ppl_train:.4f} on lm-calib.npy (training text); add-one bigram: {bigram:.4f}", flush=True)

    proto = export(model)
    structure = check_graph(proto)
    model_path = os.path.join(MODELS_DIR, f"{NAME}.onnx")
    onnx_export.save(proto, model_path)
    fmnist_data.write_json(os.path.join(MODELS_DIR, f"{NAME}.vocab.json"), chars)
    fmnist_data.write_json(os.path.join(MODELS_DIR, f"{NAME}.tokenizer.json"), tokenizer_json(chars))

    ort = None
    with tempfile.TemporaryDirectory() as tmp:
        logits_path = args.torch_logits or os.path.join(tmp, "torch-logits.npy")
        np.save(logits_path, logits)
        if not args.no_ort:
            ort = run_ort_check(model_path, os.path.join(DATA_DIR, "lm-heldout.npy"), logits_path)
    if ort:
        print(f"  ONNX Runtime: perplexity {ort['perplexity']:.4f}, max |logit − torch| {ort['maxAbsDiff']:.2e}",
              flush=True)

    entry = {
        "file": f"{NAME}.onnx",
        "description": "Character-level decoder-only transformer (GPT-style): learned token and position "
                       f"embeddings, {LAYERS} pre-LayerNorm blocks (d_model {D_MODEL}, {HEADS} heads, separate "
                       f"q/k/v/o projections, causal softmax attention, MLP {MLP_RATIO}x with erf GELU), final "
                       "LayerNorm, untied output projection lm_head. Every Linear is MatMul with a constant 2-D "
                       "[in, out] weight + Add(bias); the last one is lm_head.",
        "opset": OPSET,
        "input": {"name": "input_ids", "dtype": "int64", "shape": ["batch", "sequence"]},
        "output": {"name": "logits", "dtype": "float32", "shape": ["batch", "sequence", len(chars)]},
        "maxSequence": CONTEXT,
        "vocabulary": {
            "size": len(chars),
            "file": f"{NAME}.vocab.json",
            "tokenizer": f"{NAME}.tokenizer.json",
            "definition": "every distinct character of the corpus, sorted by code point; id = index "
                          "(0 is the newline that ends each verse, 1 the space)",
        },
        "architecture": {"context": CONTEXT, "dModel": D_MODEL, "layers": LAYERS, "heads": HEADS,
                         "mlpRatio": MLP_RATIO},
        "parameters": parameter_count(model),
        "opCounts": onnx_export.op_counts(proto),
        **structure,
        "corpus": {
            "source": "King James Bible, Debian package bible-kjv-text, read with `bible -f Gen1:1-Rev22:21`",
            "form": "verse references stripped; one verse a line, each ending with a newline; ASCII",
            "characters": len(text),
            "bookCodes": "as the `bible` command abbreviates them",
            "training": {"characters": len(train_ids), "books": f"{verses[0][0]}–{last_training_book}"},
            "heldout": {"characters": len(heldout_ids), "books": f"{first_heldout_book}–{verses[-1][0]}"},
        },
        "data": {
            "calibration": {
                "file": "../data/lm-calib.npy",
                "array": f"int64 [{CALIB_WINDOWS}, {CONTEXT}]",
                "drawnFrom": f"training text, {CALIB_WINDOWS} windows at starts drawn without replacement with "
                             f"numpy default_rng({SEED}), sorted",
            },
            "heldout": {
                "file": "../data/lm-heldout.npy",
                "array": f"int64 [{HELDOUT_WINDOWS}, {CONTEXT}]",
                "drawnFrom": f"held-out text, {HELDOUT_WINDOWS} non-overlapping windows spread evenly over it, "
                             "in text order",
            },
        },
        "perplexity": {
            "definition": "exp(mean next-token NLL): in each window position t predicts token t+1, "
                          "N·(T−1) predictions weighted equally, log-softmax in float64",
            "heldoutTorch": round(ppl_windows, 5),
            **({"heldoutOrt": round(ort["perplexity"], 5)} if ort else {}),
            "allHeldoutTorch": round(ppl_full, 5),
            "allHeldoutWindows": len(all_starts),
            "calibTorch": round(ppl_train, 5),
            "bigramHeldout": round(bigram, 4),
        },
        **({"ortCheck": {"maxAbsLogitDiff": float(f"{ort['maxAbsDiff']:.3g}"), "onnxruntime": ort["version"]}}
           if ort else {}),
        "training": {
            "steps": args.steps,
            "batchSize": BATCH,
            "tokensSeen": args.steps * BATCH * CONTEXT,
            "optimizer": f"AdamW (betas 0.9, 0.95), {WARMUP}-step linear warm-up, cosine decay to 0.1x, "
                         "gradient clipping at 1",
            "peakLr": PEAK_LR,
            "weightDecay": f"{WEIGHT_DECAY} on 2-D weights except the embeddings",
            "dropout": 0,
            "windows": f"random {CONTEXT + 1}-character windows of the training text (torch.Generator seed {SEED})",
            "seed": SEED,
            "wallTimeSeconds": round(wall, 1),
            "cpuTimeSeconds": round(cpu, 1),
            "torch": torch.__version__,
            "onnx": onnx.__version__,
            "threads": torch.get_num_threads(),
            "blas": blas_library(),
        },
    }
    write_reference(entry)
    failures = []
    if ppl_windows > MAX_PERPLEXITY:
        failures.append(f"held-out perplexity {ppl_windows:.3f} is above {MAX_PERPLEXITY}")
    if ort and abs(ort["perplexity"] / ppl_windows - 1) > 1e-4:
        failures.append(f"ONNX Runtime perplexity {ort['perplexity']:.5f} differs from torch's {ppl_windows:.5f}")
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
