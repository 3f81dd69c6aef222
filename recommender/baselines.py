"""Peer models for `evaluate`: MostPopular, item-kNN (cosine) and the `implicit` library's ALS and BPR.

`implicit` is a dev/bench dependency, imported only when a peer needs it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

from .sources.collaborative import top_k_per_row


class MostPopular:
    """Items ranked by how many users have them."""

    def __init__(self) -> None:
        self.popularity: np.ndarray | None = None

    def fit(self, X: sp.csr_matrix) -> MostPopular:
        self.popularity = np.asarray((X > 0).sum(axis=0), dtype=np.float32).ravel()
        return self

    def score(self, rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        return np.tile(self.popularity, (len(rows), 1))


class ItemKNN:
    """Item–item cosine similarity with the top `neighbours` kept per item."""

    def __init__(self, neighbours: int = 100, shrink: float = 0.0):
        self.neighbours, self.shrink = neighbours, shrink
        self.W: sp.csr_matrix | None = None

    def fit(self, X: sp.csr_matrix) -> ItemKNN:
        B = (X > 0).astype(np.float64).tocsc()
        norms = np.sqrt(np.asarray(B.sum(axis=0)).ravel())
        inv = np.divide(1.0, norms + self.shrink, out=np.zeros_like(norms), where=norms > 0)
        Bn = (B @ sp.diags(inv)).tocsc()
        blocks = []
        for start in range(0, B.shape[1], 2048):
            S = (Bn[:, start : start + 2048].T @ Bn).tocsr()
            S.setdiag(0.0)
            S.eliminate_zeros()
            blocks.append(top_k_per_row(S, self.neighbours))
        self.W = sp.vstack(blocks).tocsr().astype(np.float32)
        return self

    def score(self, rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        B = (X[rows] > 0).astype(np.float32)
        return np.asarray((B @ self.W).todense())


class ImplicitModel:
    """Wraps implicit.als.AlternatingLeastSquares or implicit.bpr.BayesianPersonalizedRanking."""

    def __init__(self, kind: str, seed: int, **params: Any):
        self.kind, self.seed, self.params = kind, seed, params
        self.user_factors: np.ndarray | None = None
        self.item_factors: np.ndarray | None = None

    def fit(self, X: sp.csr_matrix) -> ImplicitModel:
        from threadpoolctl import threadpool_limits

        B = (X > 0).astype(np.float32).tocsr()
        # implicit runs its own threads; a second BLAS thread pool underneath slows it down badly.
        with threadpool_limits(1, "blas"):
            self._fit(B)
        return self

    def _fit(self, B: sp.csr_matrix) -> None:
        import implicit.cpu.als
        import implicit.cpu.bpr

        if self.kind == "als":
            model = implicit.cpu.als.AlternatingLeastSquares(
                random_state=self.seed, num_threads=2, calculate_training_loss=False, **self.params
            )
        else:
            model = implicit.cpu.bpr.BayesianPersonalizedRanking(
                random_state=self.seed, num_threads=2, verify_negative_samples=True, **self.params
            )
        model.fit(B, show_progress=False)
        self.user_factors = np.asarray(model.user_factors)
        self.item_factors = np.asarray(model.item_factors)

    def score(self, rows: np.ndarray, X: sp.csr_matrix) -> np.ndarray:
        return self.user_factors[rows] @ self.item_factors.T


@dataclass
class Peer:
    """A peer's name and the grid of settings tried on validation."""

    name: str
    grid: list[dict[str, Any]]
    needs_implicit: bool = False

    def build(self, seed: int, params: dict[str, Any]):
        """A fresh model for one setting."""
        if self.name == "MostPopular":
            return MostPopular()
        if self.name == "ItemKNN":
            return ItemKNN(**params)
        return ImplicitModel("als" if self.name == "ALS" else "bpr", seed, **params)


def _grid(**axes: list[Any]) -> list[dict[str, Any]]:
    keys = list(axes)

    def walk(i: int) -> Iterator[dict[str, Any]]:
        if i == len(keys):
            yield {}
            return
        for value in axes[keys[i]]:
            for rest in walk(i + 1):
                yield {keys[i]: value, **rest}

    return list(walk(0))


def default_peers() -> list[Peer]:
    """The peers and their tuning grids (wide enough that no peer's best setting sits on a cheap edge)."""
    return [
        Peer("MostPopular", [{}]),
        Peer("ItemKNN", _grid(neighbours=[50, 200, 1000, 5000], shrink=[0.0, 2.0, 10.0])),
        Peer(
            "ALS",
            _grid(
                factors=[64, 128, 256],
                regularization=[1.0, 10.0, 100.0],
                alpha=[15.0, 40.0],
                iterations=[15, 30],
            ),
            needs_implicit=True,
        ),
        Peer(
            "BPR",
            _grid(
                factors=[64, 128],
                learning_rate=[0.0025, 0.005, 0.01],
                regularization=[0.001, 0.01],
                iterations=[300],
            ),
            needs_implicit=True,
        ),
    ]


def implicit_available() -> bool:
    """Whether the `implicit` library can be imported."""
    try:
        import implicit.cpu.als  # noqa: F401
    except ImportError:
        return False
    return True
