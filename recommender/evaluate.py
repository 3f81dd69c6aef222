"""The offline evaluation of datasets/README.md: our model and tuned peers, same split, same metrics."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .baselines import Peer, default_peers, implicit_available
from .data import (
    InputError,
    ItemMeta,
    build_training_data,
    owned_items,
    read_interactions,
    read_items,
    read_social,
)
from .metrics import evaluate_rankings
from .model import Recommender, Settings
from .split import Split, split_users

METRICS = ("recall@10", "recall@20", "ndcg@10", "ndcg@20", "coverage@20")


def load_dataset(directory: str | Path) -> tuple[Any, np.ndarray, np.ndarray, ItemMeta | None]:
    """interactions.csv, social.csv and the optional items.csv of a dataset folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InputError(f"dataset folder {directory} does not exist")
    interactions = read_interactions(directory / "interactions.csv")
    social = directory / "social.csv"
    followers, followees = read_social(social) if social.exists() else (np.array([], object),) * 2
    items = read_items(directory / "items.csv") if (directory / "items.csv").exists() else None
    return interactions, followers, followees, items


def rank_dense(score, X, rows: np.ndarray, item_ids: np.ndarray, k: int) -> list[list[str]]:
    """Top-k item ids per user row from a dense scoring function, the user's train items excluded."""
    out: list[list[str]] = []
    for start in range(0, len(rows), 512):
        part = rows[start : start + 512]
        S = np.array(score(part), dtype=np.float64)
        seen = owned_items(X[part]).nonzero()
        S[seen] = -np.inf
        kk = min(k, S.shape[1] - 1)
        top = np.argpartition(-S, kk, axis=1)[:, :kk]
        order = np.argsort(-np.take_along_axis(S, top, 1), axis=1, kind="stable")
        top = np.take_along_axis(top, order, 1)
        for r in range(len(part)):
            out.append([item_ids[i] for i in top[r] if np.isfinite(S[r, i])])
    return out


def _peer_run(
    peer: Peer, params: dict[str, Any], split: Split, followers, followees, seed: int, k: int
) -> tuple[dict[str, float], float, float]:
    data = build_training_data(split.train, followers, followees, extra_items=split.catalogue)
    started = time.perf_counter()
    model = peer.build(seed, params).fit(data.X)
    trained = time.perf_counter() - started
    users = sorted(split.test)
    rows = np.array([data.user_index[u] for u in users])
    started = time.perf_counter()
    ranked = rank_dense(lambda r: model.score(r, data.X), data.X, rows, data.item_ids, k)
    scored = time.perf_counter() - started
    return (
        evaluate_rankings(dict(zip(users, ranked, strict=True)), split.test, len(split.catalogue)),
        trained,
        scored,
    )


def _our_run(
    split: Split, followers, followees, items, seed: int, k: int
) -> tuple[dict[str, float], float, float, Recommender]:
    started = time.perf_counter()
    model = Recommender(Settings(seed=seed)).fit(split.train, followers, followees, items, split.catalogue)
    trained = time.perf_counter() - started
    started = time.perf_counter()
    rankings = {
        user: [r.item_id for r in recs] for user, recs in model.recommend_all(k, users=sorted(split.test))
    }
    scored = time.perf_counter() - started
    return evaluate_rankings(rankings, split.test, len(split.catalogue)), trained, scored, model


def run_evaluation(
    directory: str | Path,
    k: int = 20,
    seed: int = 2026,
    out: TextIO = sys.stdout,
    peers: list[Peer] | None = None,
) -> dict[str, Any]:
    """Split, tune peers on validation, score everyone on test; print a table and return every number."""
    interactions, followers, followees, items = load_dataset(directory)
    split = split_users(interactions, seed)
    validation = split_users(split.train, seed + 1)
    counts = {
        "users": split.n_users,
        "items": int(len(split.catalogue)),
        "train_pairs": split.n_train_pairs,
        "test_pairs": split.n_test_pairs,
        "validation_users": validation.n_users,
        "validation_pairs": validation.n_test_pairs,
    }
    print(
        f"dataset {directory}: {counts['users']:,} users, {counts['items']:,} items, "
        f"{counts['train_pairs']:,} train and {counts['test_pairs']:,} test pairs (seed {seed})",
        file=out,
    )
    results: dict[str, Any] = {
        "dataset": str(directory),
        "seed": seed,
        "k": k,
        "counts": counts,
        "models": {},
    }
    peers = default_peers() if peers is None else peers
    has_implicit = implicit_available()
    if not has_implicit:
        print("note: the `implicit` library is not installed; skipping the ALS and BPR peers", file=out)
        results["skipped"] = [p.name for p in peers if p.needs_implicit]
    for peer in peers:
        if peer.needs_implicit and not has_implicit:
            continue
        tried = []
        for params in peer.grid:
            metrics, _, _ = _peer_run(peer, params, validation, followers, followees, seed, k)
            tried.append({"params": params, "validation_ndcg@20": metrics["ndcg@20"]})
        best = max(tried, key=lambda t: t["validation_ndcg@20"])
        metrics, trained, scored = _peer_run(peer, best["params"], split, followers, followees, seed, k)
        results["models"][peer.name] = {
            **metrics,
            "train_seconds": trained,
            "score_seconds": scored,
            "params": best["params"],
            "grid": tried,
        }
        print(
            f"  tuned {peer.name}: {best['params']} (validation NDCG@20 {best['validation_ndcg@20']:.4f})",
            file=out,
        )
    metrics, trained, scored, model = _our_run(split, followers, followees, items, seed, k)
    results["models"]["Tastemaker"] = {
        **metrics,
        "train_seconds": trained,
        "score_seconds": scored,
        "model": model.info,
    }
    _print_table(results, out)
    return results


def _print_table(results: dict[str, Any], out: TextIO) -> None:
    header = ["model", "Recall@10", "Recall@20", "NDCG@10", "NDCG@20", "Cov@20", "train s", "score s"]
    print("  ".join(f"{h:>11}" for h in header), file=out)
    for name, m in results["models"].items():
        cells = (
            [f"{name:>11}"]
            + [f"{m[key]:>11.4f}" for key in METRICS]
            + [f"{m['train_seconds']:>11.1f}", f"{m['score_seconds']:>11.1f}"]
        )
        print("  ".join(cells), file=out)
    ours = results["models"]["Tastemaker"]
    peers = {n: m for n, m in results["models"].items() if n != "Tastemaker"}
    if peers:
        best_name = max(peers, key=lambda n: peers[n]["ndcg@20"])
        ratio = (
            ours["ndcg@20"] / peers[best_name]["ndcg@20"] if peers[best_name]["ndcg@20"] > 0 else float("inf")
        )
        results["best_peer"] = best_name
        results["ndcg20_ratio_to_best_peer"] = ratio
        results["recall20_difference_to_best_peer"] = ours["recall@20"] - peers[best_name]["recall@20"]
        print(
            f"NDCG@20 ours / best peer ({best_name}): {ratio:.3f}; Recall@20 ours - best peer: "
            f"{results['recall20_difference_to_best_peer']:+.4f}; ours train+score "
            f"{ours['train_seconds'] + ours['score_seconds']:.1f} s",
            file=out,
        )


def write_json(results: dict[str, Any], path: str | Path) -> None:
    """Write every number of an evaluation run as JSON."""
    Path(path).write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
