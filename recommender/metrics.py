"""Ranking metrics of the evaluation protocol: Recall@K, NDCG@K (binary gains) and catalogue coverage."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """Hits in the top k divided by min(k, |relevant|)."""
    if not relevant:
        return 0.0
    hits = sum(1 for item in ranked[:k] if item in relevant)
    return hits / min(k, len(relevant))


def ndcg_at_k(ranked: Sequence[str], relevant: set[str], k: int) -> float:
    """DCG with gains 1 and discount 1/log2(rank+1), over the ideal DCG of min(k, |relevant|) hits."""
    if not relevant:
        return 0.0
    dcg = sum(1.0 / np.log2(rank + 2) for rank, item in enumerate(ranked[:k]) if item in relevant)
    ideal = sum(1.0 / np.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return float(dcg / ideal)


def coverage(rankings: Mapping[str, Sequence[str]], catalogue_size: int, k: int) -> float:
    """Distinct items across every top-k list divided by the catalogue size."""
    if catalogue_size <= 0:
        return 0.0
    distinct = {item for ranked in rankings.values() for item in ranked[:k]}
    return len(distinct) / catalogue_size


def evaluate_rankings(
    rankings: Mapping[str, Sequence[str]],
    test: Mapping[str, Sequence[str]],
    catalogue_size: int,
    ks: Sequence[int] = (10, 20),
) -> dict[str, float]:
    """Mean Recall@K and NDCG@K over users with a test item, plus coverage at the largest K."""
    users = [u for u, items in test.items() if items]
    result: dict[str, float] = {}
    for k in ks:
        recalls = [recall_at_k(rankings.get(u, []), set(test[u]), k) for u in users]
        ndcgs = [ndcg_at_k(rankings.get(u, []), set(test[u]), k) for u in users]
        result[f"recall@{k}"] = float(np.mean(recalls)) if users else 0.0
        result[f"ndcg@{k}"] = float(np.mean(ndcgs)) if users else 0.0
    top = max(ks)
    result[f"coverage@{top}"] = coverage({u: rankings.get(u, []) for u in users}, catalogue_size, top)
    return result
