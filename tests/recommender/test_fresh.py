"""The fresh source, the affinity features and the temporal split the ranker learns on when times are known."""
from __future__ import annotations

import math

import numpy as np

from recommender.data import Interactions, ItemMeta, build_training_data
from recommender.sources.fresh import UNKNOWN_AGE, FreshSource
from recommender.tuning import holdout

DAY = 86_400.0


def _data():
    # u1 reads the "hiking" community (and follows a2); u2 reads "beauty". Items: old/new in each community.
    now = 100 * DAY
    rows = [("u1", "h_old", 1.0, now - 50 * DAY), ("u1", "h_old2", 1.0, now), ("u2", "b_old", 1.0, now - 40 * DAY)]
    interactions = Interactions(*(np.array(column, dtype=object if k < 2 else float)
                                  for k, column in enumerate(zip(*rows, strict=True))))
    items = ["h_old", "h_old2", "h_new", "b_old", "b_new", "h_new_by_a2"]
    meta = ItemMeta(item_ids=items, titles=items, tags=[[] for _ in items],
                    communities=["hiking", "hiking", "hiking", "beauty", "beauty", "beauty"],
                    authors=["a1", "a1", "a3", "a4", "a4", "a2"],
                    created=[now - 60 * DAY, now - 30 * DAY, now - DAY, now - 45 * DAY, now - DAY, now - 2 * DAY])
    data = build_training_data(interactions, np.array(["u1"], dtype=object), np.array(["a2"], dtype=object),
                               extra_items=items)
    return data, meta


def _fit(data, meta):
    field = {name: np.array([dict(zip(meta.item_ids, getattr(meta, name), strict=True))[i] for i in data.item_ids],
                            dtype=object if name != "created" else float)
             for name in ("communities", "authors", "created")}
    return FreshSource(7.0).fit(data, field["communities"], field["authors"], field["created"])


def test_new_items_from_the_readers_community_and_followed_authors_score_highest():
    data, meta = _data()
    source = _fit(data, meta)
    rows = np.array([data.user_index["u1"]])
    scores = dict(zip(data.item_ids, source.score(data, rows, data.X[rows])[0], strict=True))
    # new in u1's community beats old in it; nothing from a community u1 never read, unless by a followee
    assert scores["h_new"] > scores["h_old"] > 0
    assert scores["b_new"] == 0
    assert scores["h_new_by_a2"] > scores["b_new"]
    cols = np.array([data.item_index[i] for i in ("h_new", "b_new", "h_new_by_a2")])
    features = source.pair_features(data, rows, data.X[rows], np.zeros(3, dtype=np.int64), cols)
    assert features["community_share"].tolist() == [1.0, 0.0, 0.0]
    assert features["follows_author"].tolist() == [0.0, 0.0, 1.0]
    assert math.isclose(features["age"][0], math.log1p(1.0), rel_tol=1e-5)


def test_items_without_a_publication_time_have_no_freshness():
    data, meta = _data()
    source = FreshSource().fit(data)
    rows = np.array([data.user_index["u1"]])
    assert not source.score(data, rows, data.X[rows]).any()
    features = source.pair_features(data, rows, data.X[rows], np.zeros(1, dtype=np.int64), np.array([0]))
    assert features["age"].tolist() == [UNKNOWN_AGE]


def test_with_timestamps_the_ranker_learns_on_the_newest_pairs_and_an_earlier_now():
    rng = np.random.default_rng(1)
    n = 400
    stamps = rng.uniform(0, 100 * DAY, n)
    interactions = Interactions(np.array([f"u{k % 20}" for k in range(n)], dtype=object),
                                np.array([f"i{k}" for k in range(n)], dtype=object), np.ones(n), stamps)
    data = build_training_data(interactions)
    inner, held = holdout(data, 0.2, seed=1, fold=0)
    kept = inner.last_seen.data
    held_times = data.last_seen.tocsr()[held.nonzero()].A1
    assert held.nnz == round(0.2 * n) and kept.max() < held_times.min()
    assert inner.now == kept.max() < data.now
    # the next fold holds out the share before, and drops the newest
    inner1, held1 = holdout(data, 0.2, seed=1, fold=1)
    assert inner1.X.nnz + held1.nnz == round(0.8 * n) and inner1.now < inner.now


def test_without_timestamps_the_holdout_stays_random_per_user():
    n = 400
    interactions = Interactions(np.array([f"u{k % 20}" for k in range(n)], dtype=object),
                                np.array([f"i{k}" for k in range(n)], dtype=object), np.ones(n), np.full(n, np.nan))
    data = build_training_data(interactions)
    inner, held = holdout(data, 0.2, seed=1)
    assert (np.diff(held.indptr) > 0).sum() == 20  # every user gives some


def test_similar_all_matches_similar_items(trained):
    every = dict(trained.similar_all(k=5, batch=37))
    for item in trained.data.item_ids[:25]:
        one = trained.similar_items(str(item), k=5)
        assert [(r.item_id, round(r.score, 6)) for r in one] == [(r.item_id, round(r.score, 6)) for r in every[item]]
