import numpy as np
import scipy.sparse as sp

from recommender.explain import _dense_block
from recommender.ranker import LearnedRanker
from recommender.topk import segment_starts


def fitted_ranker(members: int = 3) -> tuple[LearnedRanker, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    features = rng.normal(size=(6000, 4)).astype(np.float32)
    labels = (features[:, 0] + 0.5 * features[:, 1] + rng.normal(scale=1.0, size=6000) > 1.2).astype(np.int8)
    ranker = LearnedRanker(seed=1, members=members, max_rows=3000).fit(features, labels)
    rows = np.sort(rng.integers(0, 30, size=len(features)))
    return ranker, features, rows, segment_starts(rows, 30)


def test_scoring_only_the_leaders_keeps_them_first_with_every_members_mean():
    ranker, features, rows, starts = fitted_ranker()
    full = ranker.score(features)
    first = ranker.model[0].decision_function(features)
    keep = 12
    lead = ranker.score_leaders(features, rows, starts, keep)
    for r in range(30):
        span = slice(starts[r], starts[r + 1])
        leaders = np.argsort(-first[span], kind="stable")[:keep]
        others = np.setdiff1d(np.arange(starts[r + 1] - starts[r]), leaders)
        assert np.allclose(lead[span][leaders], full[span][leaders], atol=1e-5)
        assert lead[span][others].max() < lead[span][leaders].min()
        # the others keep the first member's order
        assert (np.argsort(-lead[span][others], kind="stable") == np.argsort(-first[span][others], kind="stable")).all()
    assert not np.allclose(lead, full)  # the members do disagree below the leaders


def test_scoring_the_leaders_of_short_rows_is_the_full_score():
    ranker, features, rows, starts = fitted_ranker()
    assert np.allclose(ranker.score_leaders(features, rows, starts, keep=10_000), ranker.score(features), atol=1e-6)
    single, features, rows, starts = fitted_ranker(members=1)
    assert np.allclose(single.score_leaders(features, rows, starts, keep=3), single.score(features), atol=1e-6)


def test_dense_block_reads_the_same_entries_as_scipy_indexing():
    rng = np.random.default_rng(2)
    M = sp.random(300, 400, density=0.05, format="csr", random_state=1, dtype=np.float32)
    for _ in range(30):
        rows = rng.choice(300, rng.integers(0, 20))
        cols = rng.choice(400, rng.integers(0, 30), replace=False)
        assert np.allclose(_dense_block(M, rows, cols), M[rows][:, cols].toarray())
