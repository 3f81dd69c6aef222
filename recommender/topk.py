"""The k best entries of every row of a dense score matrix, fast even when rows are full of ties.

numpy's argpartition is slow on rows with many equal values (zeros outside a source's reach), and it is the
hottest call when every user's scores over the catalogue are cut to candidates.
"""

from __future__ import annotations

import numpy as np


def segment_starts(rows: np.ndarray, n_rows: int) -> np.ndarray:
    """Start offset of every row's segment in an array sorted by row (n_rows + 1 entries)."""
    return np.searchsorted(rows, np.arange(n_rows + 1))


def top_k_rows(scores: np.ndarray, k: int, positive: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(rows, cols) of the k largest scores of every row, best first within a row (ties: lower column first).

    -inf marks an excluded entry; with `positive`, only scores above zero count. So rows may get fewer than k.
    """
    n_rows, n = scores.shape
    k = min(k, n)
    if k <= 0 or n_rows == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    # The k-th largest of the row's block maxima is a lower bound of its k-th largest score: everything at or
    # above it is a small superset of the top k, found in one pass instead of a partition of the whole row.
    width = int(np.clip(n // (2 * k), 1, 64))
    n_blocks = n // width
    maxima = scores[:, : n_blocks * width].reshape(n_rows, n_blocks, width).max(axis=2)
    if n_blocks * width < n:
        maxima = np.concatenate([maxima, scores[:, n_blocks * width :].max(axis=1, keepdims=True)], axis=1)
    kk = min(k, maxima.shape[1])
    bound = np.partition(maxima, maxima.shape[1] - kk, axis=1)[:, maxima.shape[1] - kk]
    if positive:  # one comparison finds entries that are both high enough and above zero
        bound = np.maximum(bound, np.finfo(scores.dtype).tiny if scores.dtype.kind == "f" else 1)
    mask = scores >= bound[:, None]
    # Ties at the bound (a row of zeros) would let a whole row through: partition those rows directly.
    counts = np.count_nonzero(mask, axis=1)
    crowded = np.flatnonzero(counts > 8 * k + 256)
    mask[crowded] = False
    rows, cols = np.nonzero(mask)
    if len(crowded):
        extra_rows, extra_cols = [rows], [cols]
        for r in crowded:
            top = np.argpartition(scores[r], n - k)[n - k :]
            extra_rows.append(np.full(len(top), r, dtype=rows.dtype))
            extra_cols.append(top.astype(cols.dtype))
        rows, cols = np.concatenate(extra_rows), np.concatenate(extra_cols)
    values = scores[rows, cols]
    order = np.lexsort((cols, -values, rows))
    rows, cols, values = rows[order], cols[order], values[order]
    position = np.arange(len(rows)) - segment_starts(rows, n_rows)[rows]
    keep = (position < k) & (values > 0 if positive else values > -np.inf)
    return rows[keep], cols[keep]
