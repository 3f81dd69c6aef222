"""A user's own items never come back, however their rows repeat or were re-rated (issue 15, item 9)."""

import csv

import numpy as np
import pytest

from recommender.cli import main
from recommender.data import Interactions
from recommender.evaluate import rank_dense
from recommender.model import Recommender, Settings
from recommender.synthetic import generate

from .conftest import write_csvs


def rerated(interactions: Interactions, seed: int) -> Interactions:
    """The rows again, with a third repeated under other weights and timestamps, and star ratings where 0
    stars is a rating too: some pairs are rated 0 only, some are re-rated to 0 later, some from 0 upwards."""
    rng = np.random.default_rng(seed)
    n = len(interactions)
    stars = rng.integers(0, 6, n).astype(np.float64)
    stars[rng.random(n) < 0.15] = 0.0
    again = rng.choice(n, n // 3, replace=False)
    shift = rng.integers(-90, 90, len(again)) * 86_400.0
    later = rng.integers(0, 6, len(again)).astype(np.float64)
    later[rng.random(len(again)) < 0.3] = 0.0
    twice = again[: len(again) // 4]  # rated a third time, without a timestamp
    return Interactions(
        np.concatenate([interactions.users, interactions.users[again], interactions.users[twice]]),
        np.concatenate([interactions.items, interactions.items[again], interactions.items[twice]]),
        np.concatenate([stars, later, np.zeros(len(twice))]),
        np.concatenate([interactions.timestamps, interactions.timestamps[again] + shift, np.full(len(twice), np.nan)]),
    )


def owned(interactions: Interactions) -> dict[str, set[str]]:
    by_user: dict[str, set[str]] = {}
    for user, item in zip(interactions.users.tolist(), interactions.items.tolist(), strict=True):
        by_user.setdefault(str(user), set()).add(str(item))
    return by_user


@pytest.fixture(scope="module")
def ratings():
    data = generate(n_users=150, n_items=200, n_interactions=3000, n_edges=1000, seed=11)
    data.interactions = rerated(data.interactions, seed=4)
    return data


@pytest.fixture(scope="module")
def rated_model(ratings) -> Recommender:
    return Recommender(Settings(seed=4)).fit(
        ratings.interactions, ratings.followers, ratings.followees, ratings.items
    )


def test_the_data_has_pairs_whose_ratings_sum_to_zero(ratings):
    it = ratings.interactions
    totals: dict[tuple[str, str], float] = {}
    for user, item, weight in zip(it.users.tolist(), it.items.tolist(), it.weights.tolist(), strict=True):
        totals[(user, item)] = totals.get((user, item), 0.0) + weight
    assert sum(1 for total in totals.values() if total == 0) > 100
    assert len(totals) < len(it)


def test_recommend_all_never_returns_a_users_own_item(rated_model, ratings):
    had = owned(ratings.interactions)
    returned = 0
    for user, recs in rated_model.recommend_all(20):
        assert len(recs) == 20
        assert not {r.item_id for r in recs} & had[user], user
        returned += len(recs)
    assert returned == 20 * len(had)


def test_recommend_never_returns_a_users_own_or_excluded_item(rated_model, ratings):
    had = owned(ratings.interactions)
    for user in sorted(had)[:40]:
        recs = rated_model.recommend(user, k=20, use_mmr=user.endswith("1"))
        assert len(recs) == 20 and not {r.item_id for r in recs} & had[user], user
        blocked = {r.item_id for r in recs[:5]}
        again = rated_model.recommend(user, k=20, exclude=blocked)
        assert not {r.item_id for r in again} & (had[user] | blocked), user


def test_an_unknown_user_never_gets_what_they_say_they_have_seen(rated_model, ratings):
    user = sorted(owned(ratings.interactions))[0]
    # Zero-rated pairs included: the model's own rows for this user, given as the history of a stranger.
    seen = {str(rated_model.data.item_ids[i]) for i in rated_model.data.X[rated_model.data.user_index[user]].indices}
    recs = rated_model.recommend("somebody new", k=20, seen=seen)
    assert len(recs) == 20 and not {r.item_id for r in recs} & seen


def test_a_stranger_in_a_batch_gets_what_they_get_alone(rated_model, ratings):
    # The batch's other rows are real users; the stranger's row must be empty, not theirs.
    users = [*sorted(owned(ratings.interactions))[:3], "somebody new"]
    batch = dict(rated_model.recommend_all(20, users=users))
    alone = rated_model.recommend("somebody new", k=20)
    assert [r.item_id for r in batch["somebody new"]] == [r.item_id for r in alone]


def test_a_tiny_catalogue_is_filled_without_a_users_own_items():
    tiny = generate(n_users=12, n_items=15, n_interactions=60, n_edges=20, seed=2)
    tiny.interactions = rerated(tiny.interactions, seed=2)
    model = Recommender(Settings(seed=2)).fit(tiny.interactions, tiny.followers, tiny.followees)
    had = owned(tiny.interactions)
    for user, recs in model.recommend_all(1000):
        ids = [r.item_id for r in recs]
        assert len(ids) == len(set(ids)) == model.data.n_items - len(had[user]), user
        assert not set(ids) & had[user], user


def test_the_cli_recommend_path_never_returns_a_users_own_item(ratings, tmp_path):
    paths = write_csvs(ratings, tmp_path / "in")
    out = tmp_path / "recs.csv"
    argv = ["recommend", "--interactions", str(paths["interactions"]), "--social", str(paths["social"])]
    code = main([*argv, "--items", str(paths["items"]), "--k", "20", "--out", str(out), "--seed", "4"])
    assert code == 0
    with paths["interactions"].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(ratings.interactions) and any(float(r["weight"]) == 0 for r in rows)
    had = {(r["user_id"], r["item_id"]) for r in rows}
    with out.open(newline="") as handle:
        recommended = {(r["user_id"], r["item_id"]) for r in csv.DictReader(handle)}
    assert len(recommended) == 20 * len({user for user, _ in had})
    assert not recommended & had


def test_peers_in_the_evaluation_never_rank_a_users_train_item(rated_model):
    data = rated_model.data
    rows = np.arange(data.n_active)
    # A peer that likes every item the same, a user's own ones most of all.
    binary = data.binary()
    ranked = rank_dense(lambda r: 1.0 + binary[r].toarray(), data.X, rows, data.item_ids, 20)
    for r, items in zip(rows, ranked, strict=True):
        assert not set(items) & {str(data.item_ids[i]) for i in data.X[r].indices}
