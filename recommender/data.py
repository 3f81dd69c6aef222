"""Reading and indexing the three inputs: interactions, the follow graph and item metadata.

Ids are opaque strings. Every problem with an input file raises InputError with a one-line message.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import scipy.sparse as sp

INTERACTION_COLUMNS = ("user_id", "item_id", "weight", "timestamp")
SOCIAL_COLUMNS = ("follower_id", "followee_id")
ITEM_COLUMNS = ("item_id", "title", "tags")
OPTIONAL_ITEM_COLUMNS = ("text", "community", "author")


class InputError(ValueError):
    """An input file or argument the recommender cannot use; the message is one line for a person."""


@dataclass
class Interactions:
    """Raw interaction rows as parallel arrays; timestamps are NaN when unknown."""

    users: np.ndarray
    items: np.ndarray
    weights: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return len(self.users)

    def subset(self, mask: np.ndarray) -> Interactions:
        """Rows selected by a boolean mask or an index array."""
        return Interactions(self.users[mask], self.items[mask], self.weights[mask], self.timestamps[mask])


@dataclass
class ItemMeta:
    """Item metadata; every list is aligned with item_ids and missing values are empty strings."""

    item_ids: list[str]
    titles: list[str]
    tags: list[list[str]]
    texts: list[str] = field(default_factory=list)
    communities: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    created: list[float] = field(default_factory=list)  # publication times (Unix seconds; NaN unknown)

    def __post_init__(self) -> None:
        n = len(self.item_ids)
        for name in ("texts", "communities", "authors"):
            if not getattr(self, name):
                setattr(self, name, [""] * n)
        if not self.created:
            self.created = [math.nan] * n
        if any(len(getattr(self, f)) != n for f in ("titles", "tags", "texts", "communities", "authors", "created")):
            raise InputError("item metadata: every field must have one value per item")


def _open_rows(
    path: str | Path, required: Sequence[str], what: str, allowed: Sequence[str]
) -> tuple[list[str], Iterable[list[str]]]:
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{what} file {path} does not exist")
    handle = path.open(newline="", encoding="utf-8-sig")
    reader = csv.reader(handle)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        handle.close()
        raise InputError(f"{what} file {path} is empty (expected header {','.join(required)})") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        handle.close()
        raise InputError(f"{what} file {path} is not a readable UTF-8 CSV: {exc}") from None
    missing = [c for c in required if c not in header]
    if missing:
        handle.close()
        raise InputError(
            f"{what} file {path} lacks column(s) {', '.join(missing)}; found {','.join(header) or 'nothing'}"
        )
    # A misspelt optional column ("wieght") would otherwise be ignored without a word.
    unknown = [c for c in header if c not in allowed]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if unknown or duplicated:
        handle.close()
        problem = (
            f"unknown column(s) {', '.join(unknown)}"
            if unknown
            else f"repeated column(s) {', '.join(duplicated)}"
        )
        raise InputError(f"{what} file {path} has {problem}; expected columns {','.join(allowed)}")

    def rows() -> Iterable[list[str]]:
        with handle:
            try:
                yield from reader
            except (UnicodeDecodeError, csv.Error) as exc:
                raise InputError(f"{what} file {path} line {reader.line_num}: {exc}") from None

    return header, rows()


def _number(text: str, default: float, path: Path, line: int, column: str) -> float:
    text = text.strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path} line {line}: {column} {text[:30]!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(f"{path} line {line}: {column} {text[:30]!r} is not a finite number")
    return value


def read_interactions(path: str | Path) -> Interactions:
    """Read `user_id,item_id,weight,timestamp`; an empty weight means 1, an empty timestamp unknown."""
    header, rows = _open_rows(path, ("user_id", "item_id"), "interactions", INTERACTION_COLUMNS)
    path = Path(path)
    col = {name: header.index(name) for name in INTERACTION_COLUMNS if name in header}
    users, items, weights, stamps = [], [], [], []
    width = max(col.values()) + 1
    for line, row in enumerate(rows, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) < width:
            row = row + [""] * (width - len(row))
        user, item = row[col["user_id"]].strip(), row[col["item_id"]].strip()
        if not user or not item:
            raise InputError(f"{path} line {line}: user_id and item_id must not be empty")
        weight = _number(row[col["weight"]], 1.0, path, line, "weight") if "weight" in col else 1.0
        if weight < 0:
            raise InputError(f"{path} line {line}: weight {weight} is negative")
        stamp = (
            _number(row[col["timestamp"]], math.nan, path, line, "timestamp")
            if "timestamp" in col
            else math.nan
        )
        users.append(user)
        items.append(item)
        weights.append(weight)
        stamps.append(stamp)
    if not users:
        raise InputError(f"interactions file {path} has a header but no rows")
    return Interactions(
        np.array(users, dtype=object),
        np.array(items, dtype=object),
        np.array(weights, dtype=np.float64),
        np.array(stamps, dtype=np.float64),
    )


def read_social(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read `follower_id,followee_id` edges, dropping self-follows and duplicates (may be empty)."""
    header, rows = _open_rows(path, SOCIAL_COLUMNS, "social", SOCIAL_COLUMNS)
    fi, ei = header.index("follower_id"), header.index("followee_id")
    seen: set[tuple[str, str]] = set()
    edges: list[tuple[str, str]] = []
    for line, row in enumerate(rows, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) <= max(fi, ei):
            raise InputError(f"{path} line {line}: expected follower_id and followee_id")
        edge = (row[fi].strip(), row[ei].strip())
        if not edge[0] or not edge[1]:
            raise InputError(f"{path} line {line}: follower_id and followee_id must not be empty")
        if edge[0] == edge[1] or edge in seen:
            continue
        seen.add(edge)
        edges.append(edge)
    followers = np.array([e[0] for e in edges], dtype=object)
    followees = np.array([e[1] for e in edges], dtype=object)
    return followers, followees


def read_items(path: str | Path) -> ItemMeta:
    """Read `item_id,title,tags` (tags joined by '|') plus optional text, community and author columns."""
    header, rows = _open_rows(path, ("item_id",), "items", ITEM_COLUMNS + OPTIONAL_ITEM_COLUMNS)
    col = {name: header.index(name) for name in ITEM_COLUMNS + OPTIONAL_ITEM_COLUMNS if name in header}
    meta: dict[str, list] = {name: [] for name in ITEM_COLUMNS + OPTIONAL_ITEM_COLUMNS}
    seen: set[str] = set()
    for line, row in enumerate(rows, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        item = row[col["item_id"]].strip() if len(row) > col["item_id"] else ""
        if not item:
            raise InputError(f"{path} line {line}: item_id must not be empty")
        if item in seen:
            continue
        seen.add(item)
        for name in ITEM_COLUMNS + OPTIONAL_ITEM_COLUMNS:
            value = row[col[name]].strip() if name in col and len(row) > col[name] else ""
            meta[name].append(value)
    return ItemMeta(
        item_ids=meta["item_id"],
        titles=meta["title"],
        tags=[[t.strip() for t in tags.split("|") if t.strip()] for tags in meta["tags"]],
        texts=meta["text"],
        communities=meta["community"],
        authors=meta["author"],
    )


@dataclass
class TrainingData:
    """Interactions indexed as sparse matrices over users and items, plus the follow graph over users.

    `users` holds everyone seen in interactions or in the social graph; only the first `n_active` of them
    (sorted ids) have interactions. `X` is users x items (summed weights), `last_seen` the newest timestamp
    per pair (NaN unknown), `follows` users x users (1 = row follows column).
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    X: sp.csr_matrix
    last_seen: sp.csr_matrix
    follows: sp.csr_matrix
    n_active: int
    now: float
    user_index: dict[str, int] = field(repr=False, default_factory=dict)
    item_index: dict[str, int] = field(repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        if not self.user_index:
            self.user_index = {u: i for i, u in enumerate(self.user_ids)}
        if not self.item_index:
            self.item_index = {it: i for i, it in enumerate(self.item_ids)}

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def binary(self) -> sp.csr_matrix:
        """The interaction matrix with every stored pair set to 1."""
        B = self.X.copy()
        B.data = np.ones_like(B.data)
        return B

    def rows_of(self, rows: np.ndarray) -> sp.csr_matrix:
        """X's rows of these users, with an empty row where rows[k] < 0 (a user the model does not know)."""
        known = np.asarray(rows) >= 0
        sub = self.X[np.where(known, rows, 0)].tocsr()
        if known.all():
            return sub
        counts = np.where(known, np.diff(sub.indptr), 0)
        keep = np.repeat(known, np.diff(sub.indptr))
        return sp.csr_matrix((sub.data[keep], sub.indices[keep], np.r_[0, np.cumsum(counts)]), shape=sub.shape)


def owned_items(X: sp.spmatrix, exclude: sp.spmatrix | None = None) -> sp.csr_matrix:
    """True at every stored pair of X (a row's own items) and of `exclude`: what a row is never recommended.

    A pair is the user's whatever its weight. A 0-star rating, or re-ratings that sum to 0, stay stored with
    the value 0, which `X.nonzero()` and `X.astype(bool)` silently drop; every exclusion goes through here.
    """
    owned = X.tocsr(copy=True)
    owned.sum_duplicates()
    owned.data = np.ones(len(owned.data), dtype=bool)
    if exclude is not None:
        owned = owned + owned_items(exclude)
        owned.data = np.ones(len(owned.data), dtype=bool)
    return owned.tocsr()


def build_training_data(
    interactions: Interactions,
    followers: np.ndarray | None = None,
    followees: np.ndarray | None = None,
    extra_items: Sequence[str] = (),
) -> TrainingData:
    """Index interactions (duplicates summed, newest timestamp kept) and the follow graph."""
    if len(interactions) == 0:
        raise InputError("no interactions to train on")
    followers = np.array([], dtype=object) if followers is None else followers
    followees = np.array([], dtype=object) if followees is None else followees
    active, uinv = np.unique(interactions.users.astype(str), return_inverse=True)
    others = np.setdiff1d(np.unique(np.concatenate([followers, followees]).astype(str)), active)
    user_ids = np.concatenate([active, others]).astype(object)
    seen_items, iinv = np.unique(interactions.items.astype(str), return_inverse=True)
    extra = np.setdiff1d(np.asarray(list(extra_items), dtype=str), seen_items)
    item_ids = np.concatenate([seen_items, extra]).astype(object)
    shape = (len(user_ids), len(item_ids))
    X = sp.coo_matrix((interactions.weights, (uinv, iinv)), shape=shape).tocsr()
    X.sum_duplicates()
    X.sort_indices()
    stamps = interactions.timestamps
    known = ~np.isnan(stamps)
    now = float(np.max(stamps[known])) if known.any() else float("nan")
    # Keep the newest timestamp per pair: sort so that the last duplicate written wins.
    order = np.lexsort((np.where(known, stamps, -np.inf), iinv, uinv))
    key = uinv[order].astype(np.int64) * shape[1] + iinv[order]
    last = np.r_[key[1:] != key[:-1], True]
    sel = order[last]
    last_seen = sp.csr_matrix(
        (np.where(known[sel], stamps[sel], np.nan), (uinv[sel], iinv[sel])), shape=shape
    )
    last_seen.sort_indices()
    index = {u: i for i, u in enumerate(user_ids)}
    rows = np.fromiter((index[u] for u in followers), dtype=np.int64, count=len(followers))
    cols = np.fromiter((index[u] for u in followees), dtype=np.int64, count=len(followees))
    keep = rows != cols
    follows = sp.csr_matrix(
        (np.ones(int(keep.sum())), (rows[keep], cols[keep])), shape=(len(user_ids), len(user_ids))
    )
    follows.data = np.ones_like(follows.data)
    return TrainingData(user_ids, item_ids, X, last_seen, follows, len(active), now, index)
