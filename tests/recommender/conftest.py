"""Fixtures for the recommender tests: small seeded synthetic data, written to CSV when a test needs files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from recommender.model import Recommender, Settings
from recommender.synthetic import SyntheticData, generate

LASTFM = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "lastfm-2k"


def write_csvs(data: SyntheticData, folder: Path, items: bool = True) -> dict[str, Path]:
    """Write interactions.csv, social.csv and (optionally) items.csv; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {"interactions": folder / "interactions.csv", "social": folder / "social.csv"}
    it = data.interactions
    with paths["interactions"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["user_id", "item_id", "weight", "timestamp"])
        for u, i, wt, ts in zip(it.users, it.items, it.weights, it.timestamps, strict=True):
            w.writerow([u, i, f"{wt:g}", "" if np.isnan(ts) else f"{ts:.0f}"])
    with paths["social"].open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["follower_id", "followee_id"])
        w.writerows(zip(data.followers, data.followees, strict=True))
    if items:
        paths["items"] = folder / "items.csv"
        meta = data.items
        with paths["items"].open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["item_id", "title", "tags"])
            for i, t, tags in zip(meta.item_ids, meta.titles, meta.tags, strict=True):
                w.writerow([i, t, "|".join(tags)])
    return paths


@pytest.fixture(scope="session")
def synthetic() -> SyntheticData:
    return generate(n_users=300, n_items=400, n_interactions=7000, n_edges=2500, seed=7)


@pytest.fixture(scope="session")
def trained(synthetic: SyntheticData) -> Recommender:
    return Recommender(Settings(seed=3)).fit(
        synthetic.interactions, synthetic.followers, synthetic.followees, synthetic.items
    )


@pytest.fixture(scope="session")
def csv_folder(synthetic: SyntheticData, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_csvs(synthetic, tmp_path_factory.mktemp("synthetic"))
