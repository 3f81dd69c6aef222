"""Content source: TF-IDF over title, text and tags (jieba for Chinese), so new items can be recommended."""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from ..data import ItemMeta
from .collaborative import transposed

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str) -> list[str]:
    """Lower-cased words; runs of Chinese characters are cut into words by jieba."""
    return list(_tokens(text))


@lru_cache(maxsize=50_000)
def _tokens(text: str) -> tuple[str, ...]:
    """tokenize(), remembered: a training run vectorises the same titles and texts more than once (the
    holdout candidate, then the model on all data), and cutting Chinese is most of that work."""
    return tuple(_cut(text))


def _cut(text: str) -> list[str]:
    text = text.lower()
    if not _CJK.search(text):
        return _WORD.findall(text)
    import jieba  # loaded only when Chinese text appears: its dictionary takes a second to load

    jieba.setLogLevel(60)
    return [t for t in (w.strip() for w in jieba.lcut(text)) if t and _WORD.fullmatch(t)]


def item_tokens(title: str, text: str, tags: list[str]) -> list[str]:
    """Tokens of one item: words of title and text, plus each tag whole and its words."""
    tokens = tokenize(title) + tokenize(text)
    for tag in tags:
        tokens.append("#" + tag.lower())
        tokens.extend(tokenize(tag))
    return tokens


class ContentSource:
    """Item vectors from TF-IDF; a user's profile is the mean vector of the items they engaged with."""

    def __init__(self, min_df: int = 2, max_features: int = 200_000):
        self.min_df, self.max_features = min_df, max_features
        self.vectors: sp.csr_matrix | None = None
        self.has_text: np.ndarray | None = None

    def fit(self, item_ids: np.ndarray, meta: ItemMeta | None) -> ContentSource:
        """Vectorise the metadata of the given items (items without metadata get an empty vector)."""
        docs: list[list[str]] = [[] for _ in item_ids]
        if meta is not None:
            position = {item: i for i, item in enumerate(item_ids)}
            for j, item in enumerate(meta.item_ids):
                i = position.get(item)
                if i is not None:
                    docs[i] = item_tokens(meta.titles[j], meta.texts[j], meta.tags[j])
        self.has_text = np.array([bool(d) for d in docs])
        n_docs = int(self.has_text.sum())
        if n_docs == 0:
            self.vectors = sp.csr_matrix((len(item_ids), 1), dtype=np.float32)
            return self
        vectorizer = TfidfVectorizer(
            analyzer=lambda doc: doc,
            min_df=min(self.min_df, n_docs),
            max_features=self.max_features,
            sublinear_tf=True,
            dtype=np.float32,
        )
        try:
            self.vectors = vectorizer.fit_transform(docs).tocsr()
        except ValueError:  # every term is below min_df
            self.vectors = sp.csr_matrix((len(item_ids), 1), dtype=np.float32)
        return self

    def profiles(self, X_rows: sp.csr_matrix) -> sp.csr_matrix:
        """Each user's L2-normalised mean item vector."""
        B = X_rows.astype(np.float32)
        B.data[:] = 1.0
        P = (B @ self.vectors).tocsr()
        norms = np.sqrt(np.asarray(P.multiply(P).sum(axis=1)).ravel())
        scale = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)
        return (sp.diags(scale) @ P).tocsr()

    def score(self, X_rows: sp.csr_matrix) -> np.ndarray:
        """Cosine between each user's profile and every item."""
        # sparse items x terms times dense terms x users: far cheaper than a sparse-sparse product here
        profiles = self.profiles(X_rows).T.toarray()
        return transposed(self.vectors @ profiles)

    def similar(self, item: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k items most similar in content to one item, with their cosine."""
        sims = np.asarray((self.vectors[item] @ self.vectors.T).todense()).ravel()
        sims[item] = -np.inf
        top = np.argsort(-sims, kind="stable")[:k]
        keep = sims[top] > 0
        return top[keep], sims[top][keep]
