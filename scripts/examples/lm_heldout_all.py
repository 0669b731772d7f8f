"""Write every held-out window of the bundled tiny LM's text, for measurements finer than lm-heldout.npy.

    /usr/bin/python3 scripts/examples/lm_heldout_all.py OUT.npy

The 1626 non-overlapping 128-character windows of the held-out books (Col–Rev), int64 [1626, 128], the
set reference.json's `allHeldoutTorch` perplexity is measured on; the same text, split and vocabulary as
train_tiny_lm.py. bench/weight-only.ts reads it through QUANTKIT_LM_HELDOUT. Needs `bible`
(Debian package bible-kjv).
"""

from __future__ import annotations

import sys

import numpy as np

from train_tiny_lm import CONTEXT, corpus, read_bible, windows


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    text, split, _, _ = corpus(read_bible())
    chars = sorted(set(text))
    lookup = np.zeros(128, dtype=np.int64)
    lookup[[ord(c) for c in chars]] = np.arange(len(chars))
    heldout_ids = lookup[np.frombuffer(text.encode("ascii"), dtype=np.uint8)][split:]
    starts = np.arange(0, len(heldout_ids) - CONTEXT + 1, CONTEXT)
    np.save(sys.argv[1], windows(heldout_ids, starts))
    print(f"{len(starts)} windows of {CONTEXT} → {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
