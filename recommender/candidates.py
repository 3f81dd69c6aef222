"""Candidate generation and ranking: each source nominates its top items per user, the ranker orders them.

Every candidate passes one exclusion step first (`owned_items`): a user's own items, whatever their weight,
and the items the caller excludes are never nominated and never fill a short list.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .data import TrainingData, owned_items
from .ranker import (
    FEATURES,
    ITEM_SOURCES,
    NOMINATING,
    NORMALISED,
    USER_SOURCES,
    LearnedRanker,
    fallback_score,
    normalise_within,
    rank_within,
)
from .sources.collaborative import EASE, ImplicitALS, RP3Beta, UserKNN
from .sources.content import ContentSource
from .sources.fresh import FreshSource
from .sources.popularity import PopularitySource
from .sources.social import SocialSource
from .topk import segment_starts, top_k_rows


@dataclass
class Sources:
    """The fitted candidate sources."""

    ease: EASE
    als: ImplicitALS
    rp3: RP3Beta
    users: UserKNN
    social: SocialSource
    content: ContentSource
    popularity: PopularitySource
    fresh: FreshSource


@dataclass
class Candidates:
    """Candidates of a batch of users: pairs (rows[k], cols[k]) sorted by row, and feature values per pair.

    `starts[r]:starts[r + 1]` is row r's segment; `values` maps a feature name to one value per pair.
    """

    rows: np.ndarray
    cols: np.ndarray
    starts: np.ndarray
    values: dict[str, np.ndarray]


# Per row of a batch: candidate items best first, their scores, and the parts the reasons are built from.
Ranked = tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]


def batch_size(n_items: int) -> int:
    """How many users to score at once so that a batch's dense score rows stay within about 20M values."""
    return int(np.clip(20_000_000 // max(n_items, 1), 16, 1024))


def dense_scores(
    data: TrainingData, sources: Sources, rows: np.ndarray, X_rows: sp.csr_matrix
) -> dict[str, np.ndarray]:
    """Every per-user source's scores over the whole catalogue (float32, batch x items, writable)."""
    dense: dict[str, np.ndarray] = {
        "fresh": sources.fresh.score(data, rows, X_rows),
        "ease": sources.ease.score(X_rows),
        "als": sources.als.score(X_rows),
        "rp3": sources.rp3.score(X_rows),
        "neighbours": sources.users.score(X_rows, rows),
        "content": sources.content.score(X_rows),
    }
    social = sources.social.score(np.where(rows >= 0, rows, 0))
    if (rows < 0).any():  # unknown users follow nobody we know
        for value in social.values():
            value[rows < 0] = 0.0
    dense.update(social)
    return {name: np.asarray(dense[name], dtype=np.float32) for name in USER_SOURCES}


def nominate(
    data: TrainingData,
    sources: Sources,
    rows: np.ndarray,
    X_rows: sp.csr_matrix,
    banned: sp.csr_matrix,
    per_source: int,
) -> Candidates:
    """The union of each source's top `per_source` items per user, never a `banned` one, with features."""
    dense = dense_scores(data, sources, rows, X_rows)
    ban_rows, ban_cols = banned.nonzero()
    n_items, n_rows = data.n_items, len(rows)
    c = min(per_source, n_items)
    nominated = np.zeros((n_rows, n_items), dtype=np.int8)
    every_row = np.arange(n_rows)
    for name in NOMINATING:
        if name == "trending":
            top = trending_top(sources, banned, c)
            picked = top >= 0
            nominated[np.repeat(every_row, top.shape[1])[picked.ravel()], top[picked]] += 1
        else:
            scores = dense[name]
            scores[ban_rows, ban_cols] = -np.inf  # never candidates, so their scores are not needed
            top_rows, top_cols = top_k_rows(scores, c, positive=True)
            nominated[top_rows, top_cols] += 1
    nominated[ban_rows, ban_cols] = 0
    cand_rows, cand_cols = np.nonzero(nominated)
    starts = segment_starts(cand_rows, n_rows)
    values = {name: dense[name][cand_rows, cand_cols] for name in USER_SOURCES}
    del dense
    items = item_arrays(sources)
    for name in ITEM_SOURCES:
        values[name] = items[name][cand_cols]
    for name in NORMALISED:
        values[f"{name}_norm"] = normalise_within(values[name], cand_rows, starts)
        values[f"{name}_rank"], values[f"{name}_margin"] = rank_within(values[name], cand_rows, starts)
    values["nominations"] = nominated[cand_rows, cand_cols].astype(np.float32)
    return Candidates(cand_rows, cand_cols, starts, values)


def trending_top(sources: Sources, banned: sp.csr_matrix, c: int) -> np.ndarray:
    """Per row, the c most trending items the row has not banned (-1 pads rows with fewer)."""
    order = item_arrays(sources)["trending_order"]
    reach = min(len(order), c + int(np.diff(banned.indptr).max(initial=0)))
    head = order[:reach]
    allowed = ~banned[:, head].toarray()
    keep = allowed & (np.cumsum(allowed, axis=1) <= c)
    top = np.where(keep, head[None, :], -1)
    return top


def item_arrays(sources: Sources) -> dict[str, np.ndarray]:
    """Per-item features (log popularity, log trending, rank in community) and the trending order."""
    cached = getattr(sources.popularity, "_arrays", None)
    if cached is None:
        pop = sources.popularity
        # Relative to the mean item: the ranker learns on a holdout's smaller data than it scores.
        trending = np.log((1 + pop.trending) / (1 + pop.trending.mean())).astype(np.float32)
        cached = {
            "popularity": np.log((1 + pop.popularity) / (1 + pop.popularity.mean())).astype(np.float32),
            "trending": trending,
            "community": pop.community_rank.astype(np.float32),
            "trending_order": np.lexsort((np.arange(len(trending)), -trending)),
        }
        pop._arrays = cached
    return cached


def features(
    data: TrainingData, sources: Sources, rows: np.ndarray, X_rows: sp.csr_matrix, cands: Candidates
) -> np.ndarray:
    """The ranker's feature matrix, one row per candidate, columns in FEATURES order."""
    safe = np.where(rows >= 0, rows, 0)
    mine = owned_items(X_rows).astype(np.float32)
    count = mine.getnnz(axis=1)
    user_items = np.log((1 + count) / (1 + data.X.nnz / max(data.n_active, 1))).astype(np.float32)
    user_followees = np.log1p(np.where(rows >= 0, np.diff(data.follows.indptr)[safe], 0)).astype(np.float32)
    # The mean popularity of a user's items says how far from the head their taste reaches.
    popularity = item_arrays(sources)["popularity"]
    user_popularity = ((mine @ popularity) / np.maximum(count, 1)).astype(np.float32)
    columns = [cands.values[name] for name in FEATURES[: FEATURES.index("user_items")]]
    columns += [
        user_items[cands.rows],
        user_followees[cands.rows],
        sources.content.has_text.astype(np.float32)[cands.cols],
        user_popularity[cands.rows],
        popularity[cands.cols] - user_popularity[cands.rows],
    ]
    affinity = sources.fresh.pair_features(data, rows, X_rows, cands.rows, cands.cols)
    columns += [affinity[name] for name in FEATURES[FEATURES.index("community_share") :]]
    return np.column_stack(columns).astype(np.float32, copy=False)


def rank_batch(
    data: TrainingData,
    sources: Sources,
    ranker: LearnedRanker,
    rows: np.ndarray,
    X_rows: sp.csr_matrix,
    k: int,
    per_source: int,
    exclude: sp.csr_matrix | None = None,
) -> list[Ranked]:
    """Per row: candidate items best first, their scores, and the parts the reasons are built from."""
    # The one exclusion step: what the user has (whatever its weight) or excludes is banned from every
    # source's nominations and from the fill below.
    banned = owned_items(X_rows, exclude)
    cands = nominate(data, sources, rows, X_rows, banned, per_source)
    norm = {name: cands.values[f"{name}_norm"] for name in NORMALISED}
    if ranker.learned and len(cands.rows):
        matrix = features(data, sources, rows, X_rows, cands)
        # Members disagree enough that the first one's 21st can reach the top 20 on the mean: a
        # margin of three times the depth kept every top 20 of lastfm-2k unchanged.
        scores = ranker.score_leaders(matrix, cands.rows, cands.starts, keep=3 * k)
    else:
        scores = fallback_score(norm, cands.values["trending"]).astype(np.float32)
    parts = {**norm, "community": cands.values["community"]}
    out = []
    for r in range(len(rows)):
        span = slice(cands.starts[r], cands.starts[r + 1])
        items, s = cands.cols[span], scores[span]
        order = np.argsort(-s, kind="stable")
        items, s = items[order], s[order]
        row_parts = {name: value[span][order] for name, value in parts.items()}
        if len(items) < k:  # tiny catalogues: fill from every allowed item, most trending first
            taken = np.zeros(data.n_items, dtype=bool)
            taken[items] = True
            taken[banned[r].indices] = True
            rest = item_arrays(sources)["trending_order"]
            rest = rest[~taken[rest]][: k - len(items)]
            low = (s.min() if len(s) else 0.0) - 1.0
            items = np.concatenate([items, rest])
            s = np.concatenate([s, low - np.arange(len(rest), dtype=np.float32) * 1e-3])
            row_parts = {
                name: np.concatenate([value, np.zeros(len(rest), dtype=value.dtype)])
                for name, value in row_parts.items()
            }
        out.append((items, s, row_parts))
    return out
