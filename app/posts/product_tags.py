"""The seam through which the storefront tags products on posts ("shoppable notes").

Posts sit below the shop (posts ← shop), so nothing in app/posts imports app/shop. The shop plugs its
implementation in here when it is imported (app/shop/tags.py), the same way it registers its notification
kinds with app/social. The posts services call it by name inside their own transaction, so a note and its
product tags are checked together and written together: a bad product id refuses the whole post.
Without a shop plugged in (posts on their own), notes simply carry no products and reviews cannot be made.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flask_babel import gettext as _

from app.core.errors import Invalid


@dataclass(frozen=True)
class ProductTagRequest:
    """Product tags as the author sent them (unchecked): ids in order, optional pins, the rated product."""

    product_ids: Sequence[Any] = ()
    pins: Mapping[Any, Any] | None = None  # product id → "x,y" or "x,y,image number", or (x, y[, image])
    reviewed_product_id: Any = None


class ProductTagging(Protocol):
    def check(self, author, kind: str, request: ProductTagRequest, image_count: int) -> Any:
        """Validate a request (raise Invalid, write nothing); returns a plan for `write`."""

    def write(self, post, plan: Any) -> None:
        """Replace the post's product tags with the checked plan (inside the caller's transaction)."""

    def current(self, post) -> ProductTagRequest:
        """The post's product tags as a request (to fill the edit form)."""

    def search(self, query: str, limit: int) -> list:
        """Products an author may tag whose title matches `query` (cards for the editor)."""

    def cards(self, post_ids: Sequence[int]) -> dict[int, list]:
        """post id → its product cards, in order, for a page of posts in a fixed number of queries."""

    def products(self, product_ids: Sequence[int]) -> dict[int, Any]:
        """product id → its card (to show what an author picked before saving)."""


_tagging: ProductTagging | None = None


def register_product_tagging(implementation: ProductTagging) -> None:
    global _tagging
    _tagging = implementation


def product_tagging() -> ProductTagging | None:
    return _tagging


def check_product_tags(author, kind: str, request: ProductTagRequest, image_count: int) -> Any:
    """The plan for a post's product tags, or Invalid; without a shop only a note without products passes."""
    if _tagging is not None:
        return _tagging.check(author, kind, request, image_count)
    if request.product_ids or request.reviewed_product_id not in (None, ""):
        message = _("Products cannot be tagged on this site.")
        raise Invalid(message, {"product_ids": [message]})
    if kind == "review":
        message = _("A review rates one of the products it tags.")
        raise Invalid(message, {"reviewed_product_id": [message]})
    return None


def write_product_tags(post, plan: Any) -> None:
    if _tagging is not None and plan is not None:
        _tagging.write(post, plan)


def product_cards(post_ids: Sequence[int]) -> dict[int, list]:
    return _tagging.cards(post_ids) if _tagging is not None and post_ids else {}


def cards_for_products(product_ids: Sequence[int]) -> dict[int, Any]:
    return _tagging.products(product_ids) if _tagging is not None and product_ids else {}


def current_product_tags(post) -> ProductTagRequest:
    return _tagging.current(post) if _tagging is not None else ProductTagRequest()


def search_products(query: str, limit: int) -> list:
    return _tagging.search(query, limit) if _tagging is not None else []
