import numpy as np

from recommender.ranker import normalise_within, rank_within
from recommender.topk import segment_starts, top_k_rows


def reference_top_k(scores, k, positive):
    out = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[:k]
        out.append([c for c in order if np.isfinite(row[c]) and (row[c] > 0 or not positive)])
    return out


def test_top_k_rows_matches_a_full_sort_on_ties_zeros_and_excluded_items():
    rng = np.random.default_rng(1)
    scores = rng.random((40, 500)).astype(np.float32)
    scores[scores < 0.6] = 0.0  # rows full of ties at zero
    scores[3] = 0.0
    scores[4, :490] = -np.inf
    scores[5] = np.round(scores[5], 1)  # ties above zero
    for positive in (False, True):
        rows, cols = top_k_rows(scores, 20, positive=positive)
        expected = reference_top_k(scores, 20, positive)
        for r in range(len(scores)):
            got = cols[rows == r]
            assert len(got) == len(expected[r])
            # the same values best first (which of several equal values is taken may differ)
            assert np.array_equal(scores[r, got], scores[r, expected[r]])


def test_top_k_rows_handles_k_above_the_row_length():
    scores = np.array([[0.3, 0.1, 0.2]], dtype=np.float32)
    rows, cols = top_k_rows(scores, 10)
    assert rows.tolist() == [0, 0, 0] and cols.tolist() == [0, 2, 1]


def test_within_row_rank_margin_and_normalisation():
    rows = np.array([0, 0, 0, 2, 2])
    values = np.array([1.0, 3.0, 2.0, -4.0, 2.0], dtype=np.float32)
    starts = segment_starts(rows, 3)
    assert starts.tolist() == [0, 3, 3, 5]
    ranks, margins = rank_within(values, rows, starts, page=2)
    assert np.allclose(ranks, np.log2(2 + np.array([2, 0, 1, 1, 0])))
    assert np.allclose(margins, [-1.0, 1.0, 0.0, 0.0, 6.0])  # distance above the row's 2nd best
    assert np.allclose(normalise_within(values, rows, starts), [1 / 3, 1.0, 2 / 3, -1.0, 0.5])
