"""Training: the settings, fitting every source, tuning each grid and labelling candidates for the ranker.

Nothing here looks at an evaluation's test split: grids are chosen, and the ranker learns, on shares of the
training interactions held out by `holdout`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .candidates import Sources, batch_size, features, nominate
from .data import ItemMeta, TrainingData, owned_items
from .ranker import FEATURES, LearnedRanker
from .sources.collaborative import EASE, ImplicitALS, RP3Beta, UserKNN
from .sources.content import ContentSource
from .sources.fresh import FreshSource
from .sources.popularity import PopularitySource
from .sources.social import SocialSource
from .topk import segment_starts, top_k_rows


@dataclass
class Settings:
    """Defaults that hold across data sets; grids are chosen per data set on an internal validation split."""

    seed: int = 2026
    # EASE: (popularity damping beta, l2, input weighting)
    ease: tuple[tuple[float, float, str], ...] = (
        (0.2, 60.0, "binary"),
        (0.3, 200.0, "binary"),
        (0.2, 30.0, "rank"),
        (0.2, 60.0, "rank"),
        (0.3, 200.0, "rank"),
    )
    ease_min_support: int = 3
    ease_max_items: int = 6000
    rp3: tuple[tuple[float, float], ...] = ((0.8, 0.2), (1.0, 0.35))
    rp3_neighbours: int = 200
    # user kNN: (neighbours, power on their cosine, popularity damping beta); 0 neighbours switches it off
    user_knn: tuple[tuple[int, float, float], ...] = ((100, 1.0, 0.0), (100, 2.0, 0.0), (100, 1.0, 0.3))
    # implicit ALS: (factors, regularization, alpha, confidence weighting)
    als: tuple[tuple[int, float, float, str], ...] = (
        (64, 100.0, 40.0, "log"),
        (128, 100.0, 40.0, "log"),
        (64, 20.0, 10.0, "log"),
    )
    als_iterations: int = 6
    # Random starts of ALS whose scores are averaged; one above max_tuning_interactions (each start costs a fit).
    als_starts: int = 3
    # Grids are tried only below this many training pairs; above it each grid's first setting is used.
    max_tuning_interactions: int = 3_000_000
    max_tuning_users: int = 1000
    max_ranker_rows: int = 60_000
    max_ranker_users: int = 4000
    ranker_folds: int = 2
    enough_ranker_positives: int = 30_000
    candidates_per_source: int = 50
    holdout_share: float = 0.2
    ranker_members: int = 3
    social_second_hop: float = 0.2
    social_half_life_days: float = 90.0
    trending_half_life_days: float = 7.0
    fresh_half_life_days: float = 7.0
    max_per_author: int = 2
    max_per_community: int = 4
    # BLAS and OpenMP threads while training and scoring. More than one pays only on an idle machine: when
    # other processes share the cores, spinning worker threads made the EASE inverse 8x and the ranker's
    # fit 30x slower than one thread here.
    threads: int = 1


class Clock:
    """Wall and CPU seconds spent per named phase, summed over repeats (CPU time is what a busy machine
    does not inflate)."""

    def __init__(self) -> None:
        self.seconds: dict[str, list[float]] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            spent = self.seconds.setdefault(name, [0.0, 0.0])
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    def rounded(self) -> dict[str, list[float]]:
        """Phase -> [wall seconds, CPU seconds]."""
        return {name: [round(wall, 2), round(cpu, 2)] for name, (wall, cpu) in self.seconds.items()}


def fit_sources(
    data: TrainingData,
    meta: ItemMeta | None,
    settings: Settings,
    chosen: dict[str, Any],
    content: ContentSource,
    clock: Clock,
    fitted: dict[str, Any] | None = None,
) -> Sources:
    """Fit every source with the chosen settings, reusing models already fitted on the same data."""
    fitted = fitted or {}
    X = data.X
    with clock.phase("ease"):
        ease = fitted.get("ease") or build_ease(chosen["ease"], settings).fit(X)
    with clock.phase("als"):
        als = fitted.get("als") or build_als(chosen["als"], settings, X.nnz).fit(X)
    with clock.phase("rp3"):
        walk = fitted.get("rp3") or RP3Beta(*chosen["rp3"], settings.rp3_neighbours).fit(X)
    with clock.phase("user knn"):
        users = fitted.get("user_knn") or UserKNN(*chosen["user_knn"]).fit(X)
    with clock.phase("social"):
        social = SocialSource(
            second_hop=settings.social_second_hop, half_life_days=settings.social_half_life_days
        ).fit(data)
    communities = item_field(data, meta, "communities")
    popularity = PopularitySource(settings.trending_half_life_days).fit(data, communities)
    fresh = FreshSource(settings.fresh_half_life_days).fit(
        data, communities, item_field(data, meta, "authors"), item_times(data, meta)
    )
    return Sources(ease, als, walk, users, social, content, popularity, fresh)


def build_ranker(settings: Settings) -> LearnedRanker:
    """The learned ranker these settings describe, not yet fitted."""
    return LearnedRanker(settings.seed, members=settings.ranker_members, max_rows=settings.max_ranker_rows)


def build_als(params: tuple, settings: Settings, pairs: int) -> ImplicitALS:
    """Implicit ALS with one grid setting: several random starts unless the data is too big to tune."""
    factors, regularization, alpha, weighting = params
    starts = settings.als_starts if pairs <= settings.max_tuning_interactions else 1
    return ImplicitALS(
        int(factors),
        regularization,
        alpha,
        weighting,
        iterations=settings.als_iterations,
        seed=settings.seed,
        starts=starts,
    )


def build_ease(params: tuple, settings: Settings) -> EASE:
    """EASE with one grid setting."""
    beta, l2, weighting = params
    return EASE(l2, beta, settings.ease_min_support, settings.ease_max_items, weighting)


def item_field(data: TrainingData, meta: ItemMeta | None, name: str) -> np.ndarray:
    """One metadata field (titles, authors, communities) per indexed item; "" where unknown."""
    values = np.full(data.n_items, "", dtype=object)
    if meta is not None:
        for item, value in zip(meta.item_ids, getattr(meta, name), strict=True):
            i = data.item_index.get(item)
            if i is not None:
                values[i] = value
    return values


def item_times(data: TrainingData, meta: ItemMeta | None) -> np.ndarray:
    """Each indexed item's publication time (NaN where unknown)."""
    values = np.full(data.n_items, np.nan)
    if meta is not None:
        for item, value in zip(meta.item_ids, meta.created, strict=True):
            i = data.item_index.get(item)
            if i is not None:
                values[i] = value
    return values


def holdout(data: TrainingData, share: float, seed: int, fold: int = 0) -> tuple[TrainingData, sp.csr_matrix]:
    """Move a share of the items to a holdout matrix; same indexing.

    With timestamps, the newest: fold 0 holds out the newest `share` of the pairs and trains on what came
    before, fold 1 the share before that (dropping fold 0's), and so on, the inner data's `now` set to where its
    window starts, so the ranker learns what predicts the next days (what new items get picked, how much newness
    counts) as the model is used. Without timestamps, a random share of each user's items (users with >= 3):
    folds 0, 1, ... of the same seed hold out disjoint shares (a user keeps at least one item inside).
    """
    seen = data.last_seen.tocsr()
    aligned = seen.nnz == data.X.nnz and np.array_equal(seen.indices, data.X.tocsr().indices)
    if aligned and seen.nnz and not np.isnan(seen.data).any():
        return temporal_holdout(data, share, fold)
    rng = np.random.default_rng(seed)
    X = data.X.tocsr()
    counts = np.diff(X.indptr)
    # One uniform key per stored pair; a user's `take` smallest keys are a uniform random subset.
    keys = rng.random(X.nnz)
    rows = np.repeat(np.arange(X.shape[0]), counts)
    order = np.lexsort((keys, rows))
    position = np.empty(X.nnz, dtype=np.int64)
    position[order] = np.arange(X.nnz) - X.indptr[rows[order]]
    take = np.where(counts >= 3, np.maximum(1, np.round(share * counts)).astype(np.int64), 0)
    first = np.minimum(fold * take, np.maximum(counts - 1, 0))
    last = np.minimum((fold + 1) * take, np.maximum(counts - 1, 0))
    held = (position >= first[rows]) & (position < last[rows])
    keep = ~held

    def part(M: sp.csr_matrix, mask: np.ndarray) -> sp.csr_matrix:
        out = sp.csr_matrix((M.data[mask], (rows[mask], M.indices[mask])), shape=M.shape)
        out.sort_indices()
        return out

    inner = TrainingData(
        data.user_ids,
        data.item_ids,
        part(X, keep),
        part(data.last_seen, keep),
        data.follows,
        data.n_active,
        data.now,
        data.user_index,
        data.item_index,
    )
    return inner, part(X, held)


def temporal_holdout(data: TrainingData, share: float, fold: int = 0) -> tuple[TrainingData, sp.csr_matrix]:
    """The pairs in the fold's window of time (by newest timestamp) held out, the older ones kept, newer dropped."""
    X = data.X.tocsr()
    stamps = data.last_seen.tocsr().data
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    high = np.quantile(stamps, 1.0 - share * fold) if fold else np.inf
    low = np.quantile(stamps, max(0.0, 1.0 - share * (fold + 1)))
    keep, held = stamps < low, (stamps >= low) & (stamps < high)
    if not keep.any() or not held.any():
        return data, sp.csr_matrix(X.shape)

    def part(M: sp.csr_matrix, mask: np.ndarray) -> sp.csr_matrix:
        out = sp.csr_matrix((M.data[mask], (rows[mask], M.indices[mask])), shape=M.shape)
        out.sort_indices()
        return out

    last_seen = data.last_seen.tocsr()
    inner = TrainingData(
        data.user_ids,
        data.item_ids,
        part(X, keep),
        part(last_seen, keep),
        data.follows,
        data.n_active,
        float(stamps[keep].max()),
        data.user_index,
        data.item_index,
    )
    return inner, part(X, held)


def ndcg20(scores: np.ndarray, seen: sp.csr_matrix, truth: sp.csr_matrix) -> float:
    """Mean NDCG@20 of dense scores against binary truth rows, seen items excluded (scores are modified)."""
    scores[owned_items(seen).nonzero()] = -np.inf
    k = min(20, scores.shape[1] - 1)
    rows, cols = top_k_rows(scores, k)
    rank = np.arange(len(rows)) - segment_starts(rows, scores.shape[0])[rows]
    hits = np.asarray(truth[rows, cols]).ravel() > 0
    discount = 1.0 / np.log2(rank + 2.0)
    dcg = np.bincount(rows, weights=hits * discount, minlength=scores.shape[0])
    n_true = np.minimum(np.diff(truth.indptr), k)
    ideal = np.cumsum(1.0 / np.log2(np.arange(2, k + 2)))[np.maximum(n_true - 1, 0)]
    return float(np.mean(dcg / ideal))


def batched_ndcg20(
    model: Any, X_rows: sp.csr_matrix, truth: sp.csr_matrix, batch: int, users: np.ndarray
) -> float:
    """ndcg20 of a source's scores, computed a batch of users at a time to bound memory."""
    total = 0.0
    for start in range(0, X_rows.shape[0], batch):
        part = slice(start, start + batch)
        rows = X_rows[part]
        if isinstance(model, UserKNN):  # it must know who is asking, to leave them out of their neighbours
            scores = np.array(model.score(rows, users[part]), dtype=np.float32)
        else:
            scores = np.array(model.score(rows), dtype=np.float32)
        total += ndcg20(scores, rows, truth[part]) * rows.shape[0]
    return total / max(X_rows.shape[0], 1)


def tune(
    inner: TrainingData, held: sp.csr_matrix, users: np.ndarray, rng: np.random.Generator, settings: Settings
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pick each collaborative model's settings by NDCG@20 on the held-out interactions.

    Returns the choices and the chosen models fitted on the inner data (reused for the ranker). Big data
    sets (more than max_tuning_interactions pairs) keep each grid's first setting untried.
    """
    grids: dict[str, list] = {
        "ease": [tuple(p) for p in settings.ease],
        "als": [tuple(p) for p in settings.als],
        "rp3": [tuple(p) for p in settings.rp3],
        "user_knn": [tuple(p) for p in settings.user_knn],
    }
    chosen: dict[str, Any] = {name: grid[0] for name, grid in grids.items()}
    if len(users) < 20 or inner.X.nnz > settings.max_tuning_interactions:
        return chosen, {}
    if len(users) > settings.max_tuning_users:
        users = np.sort(rng.choice(users, settings.max_tuning_users, replace=False))
    X_rows, truth = inner.X[users], held[users]
    grams: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def ease(params: tuple) -> EASE:
        weighting = params[2]
        if weighting not in grams:
            grams.clear()  # one dense Gram matrix at a time
            grams[weighting] = EASE.gram(inner.X, settings.ease_min_support, settings.ease_max_items, weighting)
        return build_ease(params, settings).fit(inner.X, grams[weighting])

    builders = {
        "ease": ease,
        "als": lambda p: build_als(p, settings, inner.X.nnz).fit(inner.X),
        "rp3": lambda p: RP3Beta(*p, settings.rp3_neighbours).fit(inner.X),
        "user_knn": lambda p: UserKNN(*p).fit(inner.X),
    }
    fitted: dict[str, Any] = {}
    report: dict[str, list] = {}
    for name, grid in grids.items():
        best = (-1.0, None, None)
        report[name] = []
        if len(grid) == 1:
            continue
        for params in grid:
            started = time.perf_counter()
            model = builders[name](params)
            fitted_at = time.perf_counter()
            value = batched_ndcg20(model, X_rows, truth, batch_size(inner.n_items), users)
            seconds = [round(fitted_at - started, 2), round(time.perf_counter() - fitted_at, 2)]
            report[name].append([list(params), round(value, 5), seconds])
            if value > best[0]:
                best = (value, params, model)
        chosen[name] = best[1]
        fitted[name] = best[2]
    chosen["validation_ndcg20"] = report
    return chosen, fitted


def ranker_examples(
    inner: TrainingData,
    sources: Sources,
    held: sp.csr_matrix,
    users: np.ndarray,
    rng: np.random.Generator,
    settings: Settings,
) -> tuple[np.ndarray, np.ndarray]:
    """Candidate features of held-out users and whether each candidate was held out (the label)."""
    if len(users) > settings.max_ranker_users:
        users = np.sort(rng.choice(users, settings.max_ranker_users, replace=False))
    examples, labels = [np.zeros((0, len(FEATURES)), dtype=np.float32)], [np.zeros(0, dtype=np.int8)]
    batch = batch_size(inner.n_items)
    for start in range(0, len(users), batch):
        rows = users[start : start + batch]
        X_rows = inner.X[rows]
        cands = nominate(inner, sources, rows, X_rows, owned_items(X_rows), settings.candidates_per_source)
        examples.append(features(inner, sources, rows, X_rows, cands))
        labels.append((np.asarray(held[rows[cands.rows], cands.cols]).ravel() > 0).astype(np.int8))
    return np.vstack(examples), np.concatenate(labels)


def train_ranker(
    data: TrainingData,
    items: ItemMeta | None,
    content: ContentSource,
    settings: Settings,
    ranker: LearnedRanker,
    clock: Clock,
) -> dict[str, Any]:
    """Choose each grid's setting and fit `ranker` on held-out shares of `data`; returns the choices.

    Fold 0 tunes the grids; every fold refits the sources without its held-out share and labels their
    candidates by it. More folds give the ranker more positives from the same data, while it has few.
    """
    rng = np.random.default_rng(settings.seed + 1)
    chosen: dict[str, Any] = {}
    examples = []
    for fold in range(max(1, settings.ranker_folds)):
        if fold and sum(int(labels.sum()) for _, labels in examples) >= settings.enough_ranker_positives:
            break
        with clock.phase("holdout"):
            inner, held = holdout(data, settings.holdout_share, settings.seed, fold)
        held_users = np.flatnonzero(np.diff(held.indptr) > 0)
        fitted: dict[str, Any] = {}
        if fold == 0:
            with clock.phase("tuning"):
                chosen, fitted = tune(inner, held, held_users, rng, settings)
        if len(held_users) == 0:
            break
        inner_sources = fit_sources(inner, items, settings, chosen, content, clock, fitted)
        with clock.phase("ranker examples"):
            examples.append(ranker_examples(inner, inner_sources, held, held_users, rng, settings))
        del inner_sources, fitted, inner, held
    with clock.phase("ranker fit"):
        if examples:
            ranker.fit(*(np.concatenate(parts) for parts in zip(*examples, strict=True)))
        else:  # nobody has enough items to hold any out: the hand-set blend
            ranker.fit(np.zeros((0, len(FEATURES)), dtype=np.float32), np.zeros(0, dtype=np.int8))
    return chosen
