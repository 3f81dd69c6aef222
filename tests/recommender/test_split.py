import math

import numpy as np
import pytest

from recommender.data import Interactions, read_interactions
from recommender.split import deduplicate, split_users

from .conftest import LASTFM


def rows(pairs):
    users, items = zip(*pairs, strict=True)
    n = len(pairs)
    return Interactions(
        np.array(users, dtype=object), np.array(items, dtype=object), np.ones(n), np.full(n, np.nan)
    )


def test_duplicates_count_once_and_small_users_are_dropped():
    pairs = [("u1", f"i{i}") for i in range(7)] + [("u1", "i0"), ("u2", "i1"), ("u2", "i2")]
    split = split_users(rows(pairs), seed=1)
    assert split.n_users == 1
    assert len(split.test["u1"]) == math.ceil(0.2 * 7)
    assert split.n_train_pairs + split.n_test_pairs == 7
    assert set(split.catalogue) == {f"i{i}" for i in range(7)}
    assert len(deduplicate(rows(pairs))) == 9


def test_split_follows_the_protocol_rng_order():
    pairs = [(u, f"i{i:02d}") for u in ("b", "a") for i in range(10)]
    split = split_users(rows(pairs), seed=5)
    rng = np.random.default_rng(5)
    expected = {}
    for user in ("a", "b"):
        items = [f"i{i:02d}" for i in range(10)]
        rng.shuffle(items)
        expected[user] = items[:2]
    assert split.test == expected
    train = set(zip(split.train.users, split.train.items, strict=True))
    assert not train & {(u, i) for u, its in expected.items() for i in its}


def test_lastfm_counts_match_the_readme():
    if not (LASTFM / "interactions.csv").exists():
        pytest.skip("shared/datasets/lastfm-2k is not present on this machine")
    split = split_users(read_interactions(LASTFM / "interactions.csv"), seed=2026)
    assert (split.n_users, len(split.catalogue), split.n_train_pairs, split.n_test_pairs) == (
        1877,
        17617,
        74223,
        18578,
    )
