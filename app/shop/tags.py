"""Shoppable notes: products tagged in posts, their cards under a note, and what a product page shows of them.

A post tags up to 6 active products of approved shops, in order, each optionally pinned to a point of one
of the post's images. A review rates exactly one of the products it tags (the row with `is_rated`; the
stars are the post's `rating`); a note rates nothing. The posts editor reaches these rules through the
seam in app/posts/product_tags.py, which this module plugs into at import.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.core.errors import Forbidden, Invalid
from app.core.parsing import parse_whole_number
from app.core.uow import unit_of_work
from app.extensions import db
from app.posts.cards import card_load_options
from app.posts.models import KIND_REVIEW, STATUS_PUBLISHED, Post
from app.posts.product_tags import ProductTagRequest, register_product_tagging
from app.posts.services import can_edit, visible_filter_ids
from app.search.queue import queue_product
from app.shop.checkout import is_id
from app.shop.models import (
    Order,
    OrderLine,
    OrderStatus,
    PostProduct,
    Product,
    ProductImage,
    Shop,
    Sku,
    listed_product_clause,
)

MAX_PRODUCTS = 6
SEARCH_LIMIT_MAX = 20
FEATURING_LIMIT_MAX = 50
_SEPARATORS = re.compile(r"[\s,，;]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")


@dataclass(frozen=True)
class Pin:
    image: int  # the image's position in the post (0 = cover)
    x: float  # fractions of the image's width and height, from the top left
    y: float

    def as_text(self) -> str:
        """The form the editor shows: "x,y,image number" (image numbers start at 1)."""
        return f"{self.x:g},{self.y:g},{self.image + 1}"


@dataclass(frozen=True)
class TagPlan:
    """Checked product tags, ready to be written."""

    product_ids: tuple[int, ...]
    pins: Mapping[int, Pin]
    rated_product_id: int | None


@dataclass
class ProductCard:
    """What a product card shows: under a note, in the editor's search results, on a product page."""

    product_id: int
    title: str
    shop_name: str
    shop_slug: str
    image_path: str | None
    price_min_cents: int | None  # None: no option is on sale
    price_max_cents: int | None
    currency: str
    in_stock: bool
    option_count: int  # active SKUs
    buy_sku_id: int | None  # the one in-stock SKU a "Buy" button adds; None when there is a choice to make
    available: bool  # active product of an approved shop
    pin: Pin | None = None
    rated: bool = False

    @property
    def url(self) -> str:
        return f"/products/{self.product_id}"

    @property
    def has_price_range(self) -> bool:
        return self.price_min_cents != self.price_max_cents


@dataclass(frozen=True)
class ProductRating:
    """One rating per reviewer (their newest review); the verified figures count only reviewers who bought it."""

    average: float | None  # None: no review rates it yet
    count: int  # reviewers, not reviews
    verified_average: float | None = None
    verified_count: int = 0


def _field_error(field: str, message: str) -> Invalid:
    return Invalid(message, {field: [message]})


# --- checking and writing a post's product tags --------------------------------------------------------

def _number(text: str) -> int | str:
    """A whole number typed by a person ("12", "#12"), or the text itself when it is not one."""
    digits = text.strip().lstrip("#")
    number = parse_whole_number(digits, max_digits=10)
    return number if number is not None else text


def _product_ids(raw: Sequence | str | None) -> list[int]:
    """Ids from a list (of ids or of strings with several ids) or one string separated by commas or spaces."""
    items = [raw] if isinstance(raw, (str, int)) else list(raw or [])
    ids: list[int] = []
    for item in items:
        for part in _SEPARATORS.split(item) if isinstance(item, str) else [item]:
            if part in ("", None):
                continue
            value = _number(part) if isinstance(part, str) else part
            if not is_id(value):
                raise _field_error("product_ids", _("“%(value)s” is not a product number.", value=str(part)[:20]))
            ids.append(value)
    return ids


def _one_id(raw: Any, field: str) -> int | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = _number(raw) if isinstance(raw, str) else raw
    if not is_id(value):
        raise _field_error(field, _("Choose one of the tagged products."))
    return value


def _fraction(text: str) -> float | None:
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    return value if 0 <= value <= 1 and math.isfinite(value) else None


def _pin(raw: Any, image_count: int) -> Pin | None:
    """ "x,y" or "x,y,n" (n: image number from 1), or a sequence (x, y[, n]); empty means no pin."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    parts = [part for part in re.split(r"[\s,，]+", raw.strip()) if part] if isinstance(raw, str) \
        else [str(part) for part in raw] if isinstance(raw, (list, tuple)) else []
    message = _("A pin is two numbers from 0 to 1 (across, down), optionally followed by the image number.")
    if len(parts) not in (2, 3):
        raise _field_error("pins", message)
    x, y = _fraction(parts[0]), _fraction(parts[1])
    if x is None or y is None:
        raise _field_error("pins", message)
    number = parts[2].strip() if len(parts) == 3 else "1"
    if not isinstance(_number(number), int) or not 1 <= _number(number) <= max(image_count, 1):
        raise _field_error("pins", _("Pin the product on one of the note's %(count)d images.", count=image_count))
    return Pin(int(number) - 1, x, y)


def check_product_tags(author: User, kind: str, request: ProductTagRequest, image_count: int) -> TagPlan:
    """Validate a post's product tags without writing anything: at most 6 distinct products, each active
    in an approved shop; pins on tagged products and existing images; a review rates one tagged product,
    a note none."""
    ids = _product_ids(request.product_ids)
    if len(ids) > MAX_PRODUCTS:
        raise _field_error("product_ids", _("Tag at most %(max)d products.", max=MAX_PRODUCTS))
    if len(set(ids)) != len(ids):
        raise _field_error("product_ids", _("Each product can be tagged only once."))
    if ids:
        rows = dict(db.session.execute(
            select(Product.id, listed_product_clause())
            .join(Shop, Shop.id == Product.shop_id).where(Product.id.in_(ids))).all())
        missing = [product_id for product_id in ids if product_id not in rows]
        if missing:
            raise _field_error("product_ids", _("There is no product number %(id)d.", id=missing[0]))
        unavailable = [product_id for product_id in ids if not rows[product_id]]
        if unavailable:
            raise _field_error("product_ids", _("Product number %(id)d is not for sale, so it cannot be tagged.",
                                                id=unavailable[0]))
    pins: dict[int, Pin] = {}
    for key, raw in (request.pins or {}).items():
        product_id = _one_id(key, "pins")
        pin = _pin(raw, image_count)
        if pin is None:
            continue
        if product_id not in ids:
            raise _field_error("pins", _("Only a tagged product can be pinned."))
        pins[product_id] = pin
    rated = _one_id(request.reviewed_product_id, "reviewed_product_id")
    if kind != KIND_REVIEW:
        if rated is not None:
            raise _field_error("reviewed_product_id", _("Only a review rates a product; a note has no rating."))
    elif rated is None:
        if len(ids) != 1:
            raise _field_error("reviewed_product_id", _(
                "A review rates one of the products it tags: tag the product you review and choose it.")
                if not ids else _("Choose which of the tagged products your review rates."))
        rated = ids[0]
    elif rated not in ids:
        raise _field_error("reviewed_product_id", _("A review can only rate a product it tags."))
    return TagPlan(tuple(ids), pins, rated)


def write_product_tags(post: Post, plan: TagPlan) -> None:
    """Replace the post's product tags with a checked plan, inside the caller's transaction."""
    for product_id in db.session.scalars(select(PostProduct.product_id).where(
            PostProduct.post_id == post.id, PostProduct.is_rated.is_(True))):
        queue_product(product_id)  # it may lose this review's stars (the new one is re-indexed with the post)
    db.session.execute(delete(PostProduct).where(PostProduct.post_id == post.id)
                       .execution_options(synchronize_session=False))
    if plan.product_ids:
        db.session.execute(insert(PostProduct), [
            {"post_id": post.id, "product_id": product_id, "position": position,
             "pin_image": pin.image if pin else None, "pin_x": pin.x if pin else None,
             "pin_y": pin.y if pin else None, "is_rated": product_id == plan.rated_product_id}
            for position, product_id in enumerate(plan.product_ids)
            for pin in [plan.pins.get(product_id)]])


def set_post_products(author: User, post: Post, product_ids: Sequence | str, pins: Mapping | None = None,
                      reviewed_product_id: int | str | None = None) -> list[ProductCard]:
    """Replace the products tagged in a post (its author or an admin); returns the new cards."""
    if not can_edit(author, post):
        raise Forbidden(_("Only the author can edit this note."), code="not-your-post")
    plan = check_product_tags(author, post.kind, ProductTagRequest(product_ids, pins, reviewed_product_id),
                              len(post.images))
    with unit_of_work():
        write_product_tags(post, plan)
    return products_of_posts([post.id]).get(post.id, [])


def current_product_tags(post: Post) -> ProductTagRequest:
    """The post's product tags in the shape the editor sends them back."""
    rows = db.session.scalars(select(PostProduct).where(PostProduct.post_id == post.id)
                              .order_by(PostProduct.position)).all()
    return ProductTagRequest(
        [row.product_id for row in rows],
        {row.product_id: Pin(row.pin_image, row.pin_x, row.pin_y).as_text()
         for row in rows if row.pin_image is not None},
        next((row.product_id for row in rows if row.is_rated), None))


# --- cards --------------------------------------------------------------------------------------------

def product_cards(product_ids: Sequence[int]) -> dict[int, ProductCard]:
    """product id → its card, for any number of products in three queries (products, SKUs, cover images)."""
    ids = sorted({product_id for product_id in product_ids if is_id(product_id)})
    if not ids:
        return {}
    products = db.session.execute(
        select(Product.id, Product.title, Shop.name, Shop.slug, listed_product_clause().label("listed"))
        .join(Shop, Shop.id == Product.shop_id).where(Product.id.in_(ids))).all()
    skus: dict[int, list] = {}
    for sku in db.session.execute(select(Sku.id, Sku.product_id, Sku.price_cents, Sku.currency, Sku.stock)
                                  .where(Sku.product_id.in_(ids), Sku.is_active.is_(True)).order_by(Sku.id)):
        skus.setdefault(sku.product_id, []).append(sku)
    covers: dict[int, str] = {}
    for product_id, path in db.session.execute(
            select(ProductImage.product_id, ProductImage.path).where(ProductImage.product_id.in_(ids))
            .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)):
        covers.setdefault(product_id, path)
    cards = {}
    for product in products:
        options = skus.get(product.id, [])
        prices = [sku.price_cents for sku in options]
        stocked = [sku for sku in options if sku.stock > 0]
        cards[product.id] = ProductCard(
            product_id=product.id, title=product.title, shop_name=product.name, shop_slug=product.slug,
            image_path=covers.get(product.id), price_min_cents=min(prices) if prices else None,
            price_max_cents=max(prices) if prices else None,
            currency=options[0].currency if options else "CNY", in_stock=bool(stocked), option_count=len(options),
            buy_sku_id=stocked[0].id if len(options) == 1 and stocked else None,
            available=bool(product.listed))
    return cards


def products_of_posts(post_ids: Sequence[int]) -> dict[int, list[ProductCard]]:
    """post id → the cards of its tagged products in the author's order (four queries for any page)."""
    ids = sorted({post_id for post_id in post_ids if is_id(post_id)})
    if not ids:
        return {}
    tags = db.session.scalars(select(PostProduct).where(PostProduct.post_id.in_(ids))
                              .order_by(PostProduct.post_id, PostProduct.position)).all()
    cards = product_cards([tag.product_id for tag in tags])
    shown: dict[int, list[ProductCard]] = {}
    for tag in tags:
        base = cards.get(tag.product_id)
        if base is None:
            continue
        pin = Pin(tag.pin_image, tag.pin_x, tag.pin_y) if tag.pin_image is not None else None
        shown.setdefault(tag.post_id, []).append(ProductCard(**{**base.__dict__, "pin": pin, "rated": tag.is_rated}))
    return shown


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_products_for_tagging(q: str | None, limit: int = 10) -> list[ProductCard]:
    """Products an author may tag whose title contains `q` (case-insensitive), newest first."""
    query = " ".join((q or "").split())[:80]
    if not query:
        return []
    limit = max(1, min(int(limit), SEARCH_LIMIT_MAX))
    ids = db.session.scalars(
        select(Product.id).join(Shop, Shop.id == Product.shop_id)
        .where(listed_product_clause(), Product.title.ilike(_like_pattern(query), escape="\\"))
        .order_by(Product.id.desc()).limit(limit)).all()
    cards = product_cards(ids)
    return [cards[product_id] for product_id in ids if product_id in cards]


# --- what a product page shows of the notes --------------------------------------------------------------

def _visible_posts_tagging(product_id: int, viewer: User | None, limit: int):
    hidden = visible_filter_ids(viewer)
    query = (select(Post).join(PostProduct, PostProduct.post_id == Post.id)
             .where(PostProduct.product_id == product_id, Post.status == STATUS_PUBLISHED)
             .options(*card_load_options())
             .order_by(Post.created_at.desc(), Post.id.desc())
             .limit(max(1, min(int(limit), FEATURING_LIMIT_MAX))))
    if hidden:
        query = query.where(Post.author_id.not_in(hidden))
    return query


def posts_featuring(product_id: int, viewer: User | None, limit: int = 12) -> list[Post]:
    """The published notes and reviews that tag a product, newest first, without those the viewer and
    their authors have blocked (either way)."""
    return list(db.session.scalars(_visible_posts_tagging(product_id, viewer, limit)))


def reviews_rating(product_id: int, viewer: User | None, limit: int = 12) -> list[Post]:
    """The published reviews that rate a product, newest first, as `posts_featuring` shows them."""
    query = _visible_posts_tagging(product_id, viewer, limit).where(PostProduct.is_rated.is_(True),
                                                                    Post.kind == KIND_REVIEW)
    return list(db.session.scalars(query))


# A buyer whose order reached one of these (paid, and not refunded in full) bought the product.
BOUGHT_STATES = (OrderStatus.PAID, OrderStatus.SHIPPED, OrderStatus.COMPLETED, OrderStatus.PARTIALLY_REFUNDED)


def _average(total, count) -> float | None:
    return round(float(total), 2) if count else None


def product_ratings(product_ids: Sequence[int], session: Session | None = None) -> dict[int, ProductRating]:
    """Average stars of each product over its reviewers, and over those of them who bought it (one query
    for any number of products; `session`: another than the request's, as the search indexer's).

    Each reviewer counts once, with their newest published review that rates the product: a newer review
    replaces the older rating, so one account cannot pile up stars. Nothing is stored, so the figure is
    always what the rows say, whatever reviews are written, edited or removed at the same time.
    """
    ratings = {product_id: ProductRating(None, 0) for product_id in product_ids}
    if not ratings:
        return ratings
    bought = (select(OrderLine.id).join(Order, Order.id == OrderLine.order_id)
              .where(OrderLine.product_id == PostProduct.product_id, Order.buyer_id == Post.author_id,
                     Order.status.in_([str(state) for state in BOUGHT_STATES]))
              .exists())
    reviews = (
        select(PostProduct.product_id, Post.rating,
               case((bought, 1), else_=0).label("verified"),
               func.row_number().over(partition_by=(PostProduct.product_id, Post.author_id),
                                      order_by=(Post.created_at.desc(), Post.id.desc())).label("newest"))
        .join(Post, Post.id == PostProduct.post_id)
        .where(PostProduct.product_id.in_(list(ratings)), PostProduct.is_rated.is_(True),
               Post.kind == KIND_REVIEW, Post.status == STATUS_PUBLISHED, Post.rating.is_not(None))
    ).subquery()
    verified_stars = case((reviews.c.verified == 1, reviews.c.rating))
    for product_id, average, count, verified_average, verified_count in (session or db.session).execute(
            select(reviews.c.product_id, func.avg(reviews.c.rating), func.count(),
                   func.avg(verified_stars), func.count(verified_stars))
            .where(reviews.c.newest == 1).group_by(reviews.c.product_id)):
        ratings[product_id] = ProductRating(_average(average, count), count,
                                            _average(verified_average, verified_count), verified_count)
    return ratings


def product_rating(product_id: int) -> ProductRating:
    """A product's stars over its reviewers (each one's newest review), and over those who bought it."""
    return product_ratings([product_id])[product_id]


class _ShopProductTagging:
    """The storefront's side of app/posts/product_tags.py."""

    check = staticmethod(check_product_tags)
    write = staticmethod(write_product_tags)
    current = staticmethod(current_product_tags)
    search = staticmethod(search_products_for_tagging)
    cards = staticmethod(products_of_posts)
    products = staticmethod(product_cards)


register_product_tagging(_ShopProductTagging())


def reviewer_bought(post) -> bool:
    """Whether a review's author bought the product it rates (the "Bought it" badge on the review)."""
    if getattr(post, "kind", None) != KIND_REVIEW:
        return False
    return bool(db.session.scalar(
        select(OrderLine.id).join(Order, Order.id == OrderLine.order_id)
        .join(PostProduct, (PostProduct.product_id == OrderLine.product_id) & PostProduct.is_rated.is_(True))
        .where(PostProduct.post_id == post.id, Order.buyer_id == post.author_id,
               Order.status.in_([str(state) for state in BOUGHT_STATES])).limit(1)))
