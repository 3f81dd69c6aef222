"""Saving a trained recommender to a versioned directory and loading it back.

Layout: `metadata.json` (format version, sizes, timings, settings), `arrays.npz` (every matrix, no pickle)
and `ranker.joblib` (the ranker's scikit-learn models, only when they were learned).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from .data import InputError, TrainingData
from .ranker import FEATURES
from .sources.collaborative import EASE, ImplicitALS, RP3Beta, UserKNN
from .sources.content import ContentSource
from .sources.fresh import FreshSource
from .sources.popularity import PopularitySource
from .sources.social import SocialSource

FORMAT_VERSION = 4
FORMAT_NAME = "tastemaker-recommender"


class ModelFormatError(InputError):
    """A model directory this version cannot read (missing, from another format version, or damaged)."""


_SPARSE = ("X", "last_seen", "follows", "rp3_W", "knn_profiles", "trust", "engagement", "binary", "content")


def save(model, directory: str | Path, metrics: dict[str, Any] | None = None) -> Path:
    """Write the model to `directory` (created if needed); returns the directory."""
    from sklearn import __version__ as sklearn_version

    model._check_fitted()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    data, src = model.data, model.sources
    sparse = {
        "X": data.X,
        "last_seen": data.last_seen,
        "follows": data.follows,
        "rp3_W": src.rp3.W,
        "knn_profiles": src.users.profiles_t,
        "trust": src.social.trust,
        "engagement": src.social.engagement,
        "binary": src.social.binary,
        "content": src.content.vectors,
    }
    arrays: dict[str, np.ndarray] = {
        "user_ids": data.user_ids.astype(str),
        "item_ids": data.item_ids.astype(str),
        "titles": model.titles.astype(str),
        "authors": model.authors.astype(str),
        "communities": model.communities.astype(str),
        "ease_items": src.ease.items,
        "ease_B": src.ease.B,
        "ease_damping": src.ease.damping,
        "als_Y": src.als.Y,
        "knn_damping": src.users.damping,
        "has_text": src.content.has_text,
        "popularity": src.popularity.popularity,
        "trending": src.popularity.trending,
        "community_rank": src.popularity.community_rank,
        "item_created": src.fresh.created,
    }
    for name, matrix in sparse.items():
        matrix = matrix.tocsr()
        arrays.update(
            {
                f"{name}__data": matrix.data,
                f"{name}__indices": matrix.indices,
                f"{name}__indptr": matrix.indptr,
                f"{name}__shape": np.array(matrix.shape),
            }
        )
    np.savez_compressed(directory / "arrays.npz", **arrays)
    if model.ranker.learned:
        import joblib

        joblib.dump(model.ranker.model, directory / "ranker.joblib")
    elif (directory / "ranker.joblib").exists():
        (directory / "ranker.joblib").unlink()
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "saved_at": int(time.time()),
        "sklearn_version": sklearn_version,
        "features": list(FEATURES),
        "n_active": int(data.n_active),
        "now": None if np.isnan(data.now) else data.now,
        "settings": model.settings_dict(),
        "chosen": model.chosen,
        "info": model.info,
        "ranker_positives": model.ranker.positives,
        "metrics": metrics or {},
    }
    (directory / "metadata.json").write_text(
        json.dumps(metadata, indent=2, default=str) + "\n", encoding="utf-8"
    )
    return directory


def read_metadata(directory: str | Path) -> dict[str, Any]:
    """The metadata of a model directory, after checking its format and version."""
    path = Path(directory) / "metadata.json"
    if not path.is_file():
        raise ModelFormatError(f"{directory} is not a saved recommender (no metadata.json)")
    try:
        metadata = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelFormatError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        raise ModelFormatError(f"{directory} holds no {FORMAT_NAME} model")
    version = metadata.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelFormatError(
            f"{directory} holds a model in format version {version}; this code reads version "
            f"{FORMAT_VERSION}: "
            "train it again"
        )
    if metadata.get("features") != list(FEATURES):
        raise ModelFormatError(f"{directory} was trained with other ranker features: train it again")
    return metadata


def _weighting(chosen: dict[str, Any], name: str) -> str:
    """The input weighting a collaborative source was trained with (the last entry of its settings)."""
    params = chosen.get(name)
    if isinstance(params, list) and params and params[-1] in ("binary", "rank", "log"):
        return params[-1]
    return "binary"


def load(directory: str | Path):
    """Read a model saved by `save`; raises ModelFormatError for an unknown or older format."""
    from .candidates import Sources
    from .model import Recommender
    from .tuning import Settings, build_ranker

    metadata = read_metadata(directory)
    directory = Path(directory)
    try:
        with np.load(directory / "arrays.npz", allow_pickle=False) as npz:
            a = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelFormatError(f"{directory}/arrays.npz cannot be read: {exc}") from None

    def matrix(name: str) -> sp.csr_matrix:
        return sp.csr_matrix(
            (a[f"{name}__data"], a[f"{name}__indices"], a[f"{name}__indptr"]),
            shape=tuple(a[f"{name}__shape"]),
        )

    settings_values = {
        key: tuple(tuple(v) if isinstance(v, list) else v for v in value)
        if isinstance(value, list)
        else value
        for key, value in metadata["settings"].items()
    }
    model = Recommender(Settings(**settings_values))
    now = metadata["now"]
    model.data = TrainingData(
        a["user_ids"].astype(object),
        a["item_ids"].astype(object),
        matrix("X"),
        matrix("last_seen"),
        matrix("follows"),
        int(metadata["n_active"]),
        float("nan") if now is None else float(now),
    )
    model.titles, model.authors = a["titles"].astype(object), a["authors"].astype(object)
    model.communities = a["communities"].astype(object)
    chosen = metadata.get("chosen", {})
    ease = EASE(weighting=_weighting(chosen, "ease"))
    ease.items, ease.B, ease.n_items = a["ease_items"], a["ease_B"], model.data.n_items
    ease.damping = a["ease_damping"]
    als_params = chosen.get("als")
    if not (isinstance(als_params, list) and len(als_params) == 4):
        raise ModelFormatError(f"{directory} has no implicit-ALS settings: train it again")
    als = ImplicitALS(int(als_params[0]), float(als_params[1]), float(als_params[2]), str(als_params[3]))
    als.Y = a["als_Y"]
    rp3 = RP3Beta()
    rp3.W = matrix("rp3_W")
    knn_params = chosen.get("user_knn")
    if not (isinstance(knn_params, list) and len(knn_params) == 3):
        raise ModelFormatError(f"{directory} has no user-kNN settings: train it again")
    users = UserKNN(int(knn_params[0]), float(knn_params[1]), float(knn_params[2]))
    users.profiles_t, users.damping, users.items = matrix("knn_profiles"), a["knn_damping"], model.data.binary()
    users.items = users.items.astype(np.float32)
    social = SocialSource()
    social.trust, social.engagement, social.binary = matrix("trust"), matrix("engagement"), matrix("binary")
    content = ContentSource()
    content.vectors, content.has_text = matrix("content"), a["has_text"]
    popularity = PopularitySource()
    popularity.popularity, popularity.trending = a["popularity"], a["trending"]
    popularity.community_rank = a["community_rank"]
    fresh = FreshSource(float(model.settings.fresh_half_life_days)).fit(
        model.data, model.communities, model.authors, a["item_created"]
    )
    model.sources = Sources(ease, als, rp3, users, social, content, popularity, fresh)
    model.ranker = build_ranker(model.settings)
    model.ranker.positives = int(metadata.get("ranker_positives", 0))
    if (directory / "ranker.joblib").exists():
        import joblib

        model.ranker.model = joblib.load(directory / "ranker.joblib")
    model.chosen, model.info = metadata.get("chosen", {}), metadata.get("info", {})
    return model
