"""Fashion-MNIST from Debian's dataset-fashion-mnist package, the calibration/test split, and the
deterministic .npz / .json writers for the bundled files."""

from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
from dataclasses import dataclass

import numpy as np

DATASET_DIR = "/usr/share/datasets/fashion-mnist"

CALIB_SIZE = 1000
BUNDLED_TEST_SIZE = 2000


def read_idx(path: str) -> np.ndarray:
    """An idx file (gzip'd): big-endian magic 0x0000_08_<rank>, then <rank> uint32 dims, then uint8 data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    if raw[0:2] != b"\0\0" or raw[2] != 0x08:
        raise ValueError(f"{path}: not a uint8 idx file (magic {raw[0:4].hex()})")
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * rank)
    if data.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {data.size} bytes of data for dims {dims}")
    return data.reshape(dims).copy()  # writable: torch.from_numpy warns about read-only buffers


@dataclass
class Split:
    train_x: np.ndarray  # uint8 [N,28,28]
    train_y: np.ndarray  # uint8 [N]
    calib_x: np.ndarray
    calib_y: np.ndarray
    test_x: np.ndarray  # the full official test split (10k)
    test_y: np.ndarray

    @property
    def bundled_test_x(self) -> np.ndarray:
        return self.test_x[:BUNDLED_TEST_SIZE]

    @property
    def bundled_test_y(self) -> np.ndarray:
        return self.test_y[:BUNDLED_TEST_SIZE]


def load_split(seed: int) -> Split:
    """The training split minus CALIB_SIZE seeded images, which become the calibration set: calibration
    data the models never trained on, as a user's own held-out data would be."""
    d = DATASET_DIR
    train_x = read_idx(f"{d}/train-images-idx3-ubyte.gz")
    train_y = read_idx(f"{d}/train-labels-idx1-ubyte.gz")
    test_x = read_idx(f"{d}/t10k-images-idx3-ubyte.gz")
    test_y = read_idx(f"{d}/t10k-labels-idx1-ubyte.gz")
    # Sorted so the calibration file lists images in dataset order, independent of the draw order.
    calib_idx = np.sort(np.random.default_rng(seed).choice(len(train_x), CALIB_SIZE, replace=False))
    keep = np.ones(len(train_x), dtype=bool)
    keep[calib_idx] = False
    return Split(train_x[keep], train_y[keep], train_x[calib_idx], train_y[calib_idx], test_x, test_y)


# np.savez_compressed stamps entries with the current time; a fixed stamp keeps reruns byte-identical.
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def save_npz_compressed(path: str, arrays: dict[str, np.ndarray]) -> None:
    """The layout np.savez_compressed writes (one deflated `<name>.npy` per array), reproducibly."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"  # renamed into place: runs side by side write the same file
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue(), compresslevel=9)
    with np.load(tmp, allow_pickle=False) as z:
        for name, arr in arrays.items():
            assert z[name].dtype == arr.dtype and np.array_equal(z[name], arr), (path, name)
    os.replace(tmp, path)


PRINT_WIDTH = 110  # .prettierrc


def _dumps(value: object, indent: str, line_start: int) -> str:
    # Prettier's JSON layout (objects one key per line, a scalar array on one line when that line fits in
    # its print width), so the file passes `prettier --check` as written. line_start: the column where
    # the value begins.
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = []
        for k, v in value.items():
            prefix = f"{inner}{json.dumps(k)}: "
            items.append(prefix + _dumps(v, inner, len(prefix)))
        return "{\n" + ",\n".join(items) + "\n" + indent + "}"
    if isinstance(value, (list, tuple)):
        one_line = "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in value) + "]"
        nested = any(isinstance(v, (dict, list, tuple)) for v in value)
        if not nested and line_start + len(one_line) + 1 <= PRINT_WIDTH:  # +1: a following comma
            return one_line
        return "[\n" + ",\n".join(inner + _dumps(v, inner, len(inner)) for v in value) + "\n" + indent + "]"
    return json.dumps(value, ensure_ascii=False)


def write_json(path: str, value: dict) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(_dumps(value, "", 0) + "\n")
