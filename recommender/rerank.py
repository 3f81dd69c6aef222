"""Page re-ranking: caps per author and per community, and an optional MMR pass on item vectors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp


def diversify(
    ranked: Sequence[int],
    k: int,
    authors: Sequence[str] | None = None,
    communities: Sequence[str] | None = None,
    max_per_author: int = 2,
    max_per_community: int = 4,
    page_size: int = 20,
) -> list[int]:
    """Greedy pick in rank order keeping each page within the caps; skipped items fill any gap at the end."""
    if not authors and not communities:
        return list(ranked[:k])
    chosen: list[int] = []
    skipped: list[int] = []
    per_author: Counter[str] = Counter()
    per_community: Counter[str] = Counter()
    for item in ranked:
        if len(chosen) >= k:
            break
        if len(chosen) % page_size == 0 and chosen:
            per_author.clear()
            per_community.clear()
        author = authors[item] if authors else ""
        community = communities[item] if communities else ""
        if (author and per_author[author] >= max_per_author) or (
            community and per_community[community] >= max_per_community
        ):
            skipped.append(item)
            continue
        chosen.append(item)
        if author:
            per_author[author] += 1
        if community:
            per_community[community] += 1
    # A page short of items breaks a cap rather than showing fewer items than asked for.
    return chosen + skipped[: max(0, k - len(chosen))]


def mmr(
    ranked: Sequence[int], scores: Sequence[float], vectors: sp.csr_matrix, k: int, trade_off: float = 0.7
) -> list[int]:
    """Maximal marginal relevance: trade relevance against cosine similarity to items already picked."""
    ranked = list(ranked)
    if not ranked:
        return []
    rel = np.asarray(scores, dtype=np.float64)
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    V = vectors[ranked]
    sims = np.asarray((V @ V.T).todense())
    picked: list[int] = []
    max_sim = np.zeros(len(ranked))
    available = np.ones(len(ranked), dtype=bool)
    while len(picked) < min(k, len(ranked)):
        value = np.where(available, trade_off * rel - (1 - trade_off) * max_sim, -np.inf)
        best = int(np.argmax(value))
        picked.append(best)
        available[best] = False
        max_sim = np.maximum(max_sim, sims[best])
    return [ranked[i] for i in picked]
