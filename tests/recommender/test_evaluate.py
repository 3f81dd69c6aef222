import json

from recommender.baselines import Peer, default_peers
from recommender.evaluate import run_evaluation, write_json
from recommender.synthetic import generate

from .conftest import write_csvs


def test_evaluate_reports_every_model_on_the_same_split(tmp_path):
    data = generate(n_users=150, n_items=200, n_interactions=3000, n_edges=800, seed=9)
    write_csvs(data, tmp_path / "ds")
    peers = [Peer("MostPopular", [{}]), Peer("ItemKNN", [{"neighbours": 20}, {"neighbours": 100}])]
    lines = []

    class Out:
        def write(self, text):
            lines.append(text)

    results = run_evaluation(tmp_path / "ds", seed=1, out=Out(), peers=peers)
    assert set(results["models"]) == {"MostPopular", "ItemKNN", "Tastemaker"}
    for metrics in results["models"].values():
        assert {
            "recall@10",
            "recall@20",
            "ndcg@10",
            "ndcg@20",
            "coverage@20",
            "train_seconds",
            "score_seconds",
        } <= set(metrics)
        assert 0 <= metrics["ndcg@20"] <= 1
    assert len(results["models"]["ItemKNN"]["grid"]) == 2
    assert results["counts"]["train_pairs"] + results["counts"]["test_pairs"] > 0
    assert "NDCG@20 ours / best peer" in "".join(lines)
    write_json(results, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["best_peer"] in {"MostPopular", "ItemKNN"}


def test_default_peers_are_tuned_over_real_grids():
    peers = {p.name: p for p in default_peers()}
    assert set(peers) == {"MostPopular", "ItemKNN", "ALS", "BPR"}
    for name, axes in {
        "ItemKNN": ("neighbours",),
        "ALS": ("factors", "regularization", "iterations"),
        "BPR": ("factors", "regularization", "learning_rate"),
    }.items():
        for axis in axes:
            assert len({setting[axis] for setting in peers[name].grid}) >= 2, (name, axis)
    assert all(1 <= len(p.grid) <= 40 for p in peers.values())
