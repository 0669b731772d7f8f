"""ONNX export with a dynamic batch dimension, and structural checks on the exported graphs."""

from __future__ import annotations

import io
import os
import warnings
from collections import Counter

import onnx
import torch
from torch import nn

INPUT_NAME = "input"
OUTPUT_NAME = "logits"


def export(module: nn.Module, input_shape: list[int], opset: int, keep_batchnorm: bool) -> onnx.ModelProto:
    """keep_batchnorm: torch 1.13 folds every BatchNorm into the preceding Conv in its default EVAL
    export; TrainingMode.PRESERVE on a module in eval mode keeps BatchNormalization nodes (in inference
    form) instead."""
    module.eval()
    mode = torch.onnx.TrainingMode.PRESERVE if keep_batchnorm else torch.onnx.TrainingMode.EVAL
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch 1.13 warns about PRESERVE and constant folding
        torch.onnx.export(
            module,
            (torch.zeros([2, *input_shape]),),
            buf,
            opset_version=opset,
            training=mode,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
    model = onnx.load_from_string(buf.getvalue())
    undo_initializer_dedup(model)
    onnx.checker.check_model(model, full_check=True)
    return model


def undo_initializer_dedup(model: onnx.ModelProto) -> None:
    """torch's exporter stores parameters with equal values once and feeds the other users through
    Identity(initializer). Equal values are no accident here: the biases of two BatchNorms whose outputs
    are added get the same gradient from the same zero start. Give every such user its own initializer
    again, so each BatchNormalization/Conv reads its parameters directly."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    for node in [n for n in graph.node if n.op_type == "Identity" and n.input[0] in inits]:
        copy = onnx.TensorProto()
        copy.CopyFrom(inits[node.input[0]])
        copy.name = node.output[0]
        graph.initializer.append(copy)
        graph.node.remove(node)


def op_counts(model: onnx.ModelProto) -> dict[str, int]:
    return dict(sorted(Counter(n.op_type for n in model.graph.node).items()))


def parameter_count(model: onnx.ModelProto) -> int:
    total = 0
    for t in model.graph.initializer:
        n = 1
        for d in t.dims:
            n *= d
        total += n
    return total


def check_structure(name: str, model: onnx.ModelProto, require: dict[str, int], forbid: list[str]) -> None:
    """require: op type -> minimum count in the top-level graph; forbid: op types that must not occur."""
    counts = op_counts(model)
    for op, minimum in require.items():
        if counts.get(op, 0) < minimum:
            raise AssertionError(f"{name}: expected at least {minimum} {op} nodes, found {counts.get(op, 0)}: {counts}")
    for op in forbid:
        if op in counts:
            raise AssertionError(f"{name}: unexpected {op} nodes: {counts}")
    for node in model.graph.node:
        # A training-mode BatchNormalization has the running-stat outputs as well.
        if node.op_type == "BatchNormalization" and len(node.output) != 1:
            raise AssertionError(f"{name}: BatchNormalization '{node.name}' was exported in training form")
    for value in (*model.graph.input, *model.graph.output):
        batch = value.type.tensor_type.shape.dim[0]
        if batch.dim_param != "batch":
            raise AssertionError(f"{name}: '{value.name}' has no dynamic batch dimension")


def save(model: onnx.ModelProto, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    onnx.save_model(model, path)
