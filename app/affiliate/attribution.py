"""Share links, their clicks, and the attribution an order line snapshots when the order is placed.

A click on `/s/<code>` is remembered for its visitor (the account, or an anonymous cookie id carried over
at log-in) for AFFILIATE_WINDOW_DAYS. When an order is placed (app/shop/hooks.order_placed), each line goes
to the newest touch within the window: a share-link click for that product or for a note that tags it, or
a Buy from a note card (the checkout already records that note on the line). The line snapshots the
beneficiary, the source and the product's commission rate in force at that moment.

Nothing is credited for the buyer's own touch, nor when the sharer shares the buyer's shipping phone or
address (a second account of the same person): that order is flagged for admins instead.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from app.accounts.models import User
from app.affiliate.models import AbuseFlag, LineAttribution, ShareClick, ShareLink, Source
from app.core.clock import now as clock_now
from app.core.db import insert_if_absent
from app.core.errors import Invalid, NotFound
from app.core.uow import transactional, unit_of_work
from app.extensions import db
from app.posts.models import STATUS_PUBLISHED, Post
from app.shop.models import (
    Address,
    Cart,
    CartItem,
    Order,
    OrderLine,
    PostProduct,
    Product,
    ProductStatus,
    Shop,
    ShopStatus,
    Sku,
)

CODE_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 8
_CODE = re.compile(rf"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
# Crawlers and link previews fetch share links too; they are not people choosing to look.
_BOT = re.compile(r"bot|crawl|spider|slurp|preview|facebookexternalhit|curl|wget|python-requests",
                  re.IGNORECASE)
SAME_VISITOR_SECONDS = 60


def window_days() -> int:
    return int(current_app.config.get("AFFILIATE_WINDOW_DAYS", 7))


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def is_code(text) -> bool:
    return isinstance(text, str) and bool(_CODE.fullmatch(text))


# --- links --------------------------------------------------------------------------------------------------

def _live_post(post_id: int) -> Post | None:
    post = db.session.get(Post, post_id)
    return post if post is not None and post.status == STATUS_PUBLISHED else None


def _live_product(product_id: int) -> Product | None:
    product = db.session.get(Product, product_id)
    if product is None or product.status != ProductStatus.ACTIVE or product.shop.status != ShopStatus.APPROVED:
        return None
    return product


def share_link_for(sharer: User, *, post_id: int | None = None, product_id: int | None = None,
                   now: datetime | None = None) -> ShareLink:
    """The sharer's link to a published note or an active product (a product shared from a note keeps the
    note, if the note tags it). Reuses the sharer's existing link to the same thing."""
    now = now or clock_now()
    if post_id is None and product_id is None:
        message = _("Choose a note or a product to share.")
        raise Invalid(message, {"target": [message]})
    if post_id is not None and _live_post(post_id) is None:
        raise NotFound(_("This note cannot be shared: it was removed or does not exist."), code="note-not-shareable")
    if product_id is not None and _live_product(product_id) is None:
        raise NotFound(_("This product cannot be shared: it is not for sale."), code="product-not-shareable")
    if post_id is not None and product_id is not None and not db.session.scalar(
            select(PostProduct.post_id).where(PostProduct.post_id == post_id, PostProduct.product_id == product_id)):
        post_id = None  # a product card of a note that does not tag it: share the product alone
    with unit_of_work():
        existing = db.session.scalar(select(ShareLink).where(
            ShareLink.sharer_id == sharer.id,
            ShareLink.post_id.is_(None) if post_id is None else ShareLink.post_id == post_id,
            ShareLink.product_id.is_(None) if product_id is None else ShareLink.product_id == product_id))
        if existing:
            return existing
        link = ShareLink(code=new_code(), sharer_id=sharer.id, post_id=post_id, product_id=product_id,
                         created_at=now)
        db.session.add(link)
        db.session.flush()
    return link


def link_by_code(code: str, *, live: bool = True) -> ShareLink:
    """The link a code names. NotFound when the code is malformed, unknown, or (with `live`) its note was
    removed or its product is no longer for sale."""
    if not is_code(code):
        raise NotFound(_("This share link is not valid."), code="unknown-share-link")
    link = db.session.scalar(select(ShareLink).where(ShareLink.code == code))
    if link is None:
        raise NotFound(_("This share link is not valid."), code="unknown-share-link")
    if live and ((link.post_id and _live_post(link.post_id) is None)
                 or (link.product_id and _live_product(link.product_id) is None)):
        raise NotFound(_("What this link shared is no longer available."), code="share-target-gone")
    return link


def sharer_links(sharer: User) -> list[ShareLink]:
    return list(db.session.scalars(select(ShareLink).where(ShareLink.sharer_id == sharer.id)
                                   .order_by(ShareLink.id.desc())))


# --- clicks -------------------------------------------------------------------------------------------------

def new_visitor_id() -> str:
    return secrets.token_hex(16)


def _product_owner_ids(link: ShareLink) -> set[int]:
    """Owners of the shops whose products the link leads to (their own clicks are not interest)."""
    product_ids = [link.product_id] if link.product_id else list(db.session.scalars(
        select(PostProduct.product_id).where(PostProduct.post_id == link.post_id)))
    if not product_ids:
        return set()
    return set(db.session.scalars(select(Shop.owner_id).join(Product, Product.shop_id == Shop.id)
                                  .where(Product.id.in_(product_ids))))


def record_click(link: ShareLink, *, visitor_id: int | None, anon_id: str | None, user_agent: str = "",
                 now: datetime | None = None) -> bool:
    """Count a visit of the link and remember it for the visitor; False when it does not count (the
    sharer, the shop's owner, an obvious bot, or the same visitor within a minute)."""
    now = now or clock_now()
    if (visitor_id is None and not anon_id) or _BOT.search(user_agent or "") or not (user_agent or "").strip():
        return False
    if visitor_id is not None and (visitor_id == link.sharer_id or visitor_id in _product_owner_ids(link)):
        return False
    with unit_of_work():
        who = ShareClick.visitor_id == visitor_id if visitor_id is not None else ShareClick.anon_id == anon_id
        recent = db.session.scalar(select(ShareClick.id).where(
            ShareClick.link_id == link.id, who,
            ShareClick.created_at > now - timedelta(seconds=SAME_VISITOR_SECONDS)).limit(1))
        if recent:
            return False
        db.session.add(ShareClick(link_id=link.id, visitor_id=visitor_id, anon_id=None if visitor_id else anon_id,
                                  created_at=now))
    return True


@transactional
def claim_visitor_clicks(user_id: int, anon_id: str) -> int:
    """At log-in: the anonymous visitor's clicks become the account's (their attribution carries over).
    The sharer's own clicks stay unclaimed (they never count)."""
    if not anon_id:
        return 0
    own = select(ShareLink.id).where(ShareLink.sharer_id == user_id)
    result = db.session.execute(update(ShareClick).where(ShareClick.anon_id == anon_id,
                                                         ShareClick.visitor_id.is_(None),
                                                         ShareClick.link_id.not_in(own))
                                .values(visitor_id=user_id).execution_options(synchronize_session=False))
    return result.rowcount or 0


# --- attribution at order time ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Touch:
    at: datetime
    beneficiary_id: int
    source: str
    link_id: int | None
    post_id: int | None


def _click_touches(buyer_id: int, product_ids: set[int], now: datetime) -> dict[int, Touch]:
    """product id → the newest share-link click of the buyer within the window that leads to it."""
    rows = db.session.execute(
        select(ShareClick.created_at, ShareLink.id, ShareLink.sharer_id, ShareLink.post_id, ShareLink.product_id)
        .join(ShareLink, ShareLink.id == ShareClick.link_id)
        .where(ShareClick.visitor_id == buyer_id, ShareClick.created_at > now - timedelta(days=window_days()),
               ShareClick.created_at <= now)
        .order_by(ShareClick.created_at, ShareClick.id)).all()
    if not rows:
        return {}
    note_only = {row.post_id for row in rows if row.product_id is None}
    tagged: dict[int, set[int]] = {}
    if note_only:
        for post_id, product_id in db.session.execute(select(PostProduct.post_id, PostProduct.product_id)
                                                      .where(PostProduct.post_id.in_(note_only))):
            tagged.setdefault(post_id, set()).add(product_id)
    touches: dict[int, Touch] = {}
    for row in rows:  # oldest first: a newer click replaces an older one
        reached = {row.product_id} if row.product_id else tagged.get(row.post_id, set())
        for product_id in reached & product_ids:
            touches[product_id] = Touch(row.created_at, row.sharer_id, Source.LINK, row.id, row.post_id)
    return touches


def _card_times(order: Order) -> dict[int, datetime]:
    """sku id → when the buyer put it in the cart from a note card (a direct checkout has no cart row)."""
    rows = db.session.execute(select(CartItem.sku_id, CartItem.added_at).join(Cart, Cart.id == CartItem.cart_id)
                              .where(Cart.user_id == order.buyer_id, CartItem.source_post_id.is_not(None)))
    return {row.sku_id: row.added_at for row in rows}


def _digits(text: str) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def _shares_contact(sharer_id: int, order: Order) -> bool:
    """Whether the beneficiary has used the order's shipping phone or address themselves."""
    phone, place = _digits(order.shipping_phone), " ".join((order.shipping_address or "").lower().split())
    known = db.session.execute(select(Address.phone, Address.line1, Address.region, Address.postal_code)
                               .where(Address.user_id == sharer_id)).all()
    for row in known:
        text = ", ".join(part for part in (row.line1, row.region, row.postal_code) if part)
        if (phone and _digits(row.phone) == phone) or " ".join(text.lower().split()) == place:
            return True
    shipped_to = db.session.execute(select(Order.shipping_phone).where(Order.buyer_id == sharer_id).limit(200))
    return bool(phone) and any(_digits(row.shipping_phone) == phone for row in shipped_to)


def max_rate_bps() -> int:
    return int(round(float(current_app.config.get("AFFILIATE_MAX_RATE", 20)) * 100))


def attribute_order(order: Order, now: datetime) -> None:
    """Order-placed listener: snapshot each line's last touch, beneficiary and rate (see module docstring)."""
    lines: list[OrderLine] = list(order.lines)
    product_ids = {line.product_id for line in lines}
    clicks = _click_touches(order.buyer_id, product_ids, now)
    cards = _card_times(order) if any(line.source_author_id for line in lines) else {}
    rates = dict(db.session.execute(select(Product.id, Product.commission_bps)
                                    .where(Product.id.in_(product_ids))).all())
    contact_checked: dict[int, bool] = {}
    for line in lines:
        touch = clicks.get(line.product_id)
        if line.source_author_id:
            card = Touch(cards.get(line.sku_id, now), line.source_author_id, Source.NOTE, None, line.source_post_id)
            if touch is None or card.at >= touch.at:
                touch = card
        if touch is None or touch.beneficiary_id == order.buyer_id:
            continue  # nothing led here, or the buyer's own link: no one earns on their own purchase
        if touch.beneficiary_id not in contact_checked:
            contact_checked[touch.beneficiary_id] = _shares_contact(touch.beneficiary_id, order)
        withheld = "shared_contact" if contact_checked[touch.beneficiary_id] else ""
        if withheld:
            insert_if_absent(AbuseFlag, kind="shared_contact", order_id=order.id, sharer_id=touch.beneficiary_id,
                             buyer_id=order.buyer_id, created_at=now)
        db.session.add(LineAttribution(
            order_line_id=line.id, order_id=order.id, shop_id=order.shop_id, buyer_id=order.buyer_id,
            beneficiary_id=touch.beneficiary_id, source=str(touch.source), link_id=touch.link_id,
            post_id=touch.post_id, rate_bps=min(int(rates.get(line.product_id) or 0), max_rate_bps()),
            withheld=withheld, created_at=now))
    db.session.flush()


# --- reading attribution (disclosure) ---------------------------------------------------------------------

def visitor_touch(*, user_id: int | None, anon_id: str | None, product_id: int,
                  now: datetime | None = None) -> tuple[User, ShareLink] | None:
    """The sharer who would be credited if this visitor bought the product now (for the disclosure)."""
    now = now or clock_now()
    who = ShareClick.visitor_id == user_id if user_id else ShareClick.anon_id == anon_id
    if not user_id and not anon_id:
        return None
    tagging = select(PostProduct.post_id).where(PostProduct.product_id == product_id)
    row = db.session.execute(
        select(ShareLink).join(ShareClick, ShareClick.link_id == ShareLink.id)
        .where(who, ShareClick.created_at > now - timedelta(days=window_days()),
               or_(ShareLink.product_id == product_id,
                   (ShareLink.product_id.is_(None)) & ShareLink.post_id.in_(tagging)))
        .order_by(ShareClick.created_at.desc(), ShareClick.id.desc()).limit(1)).scalar()
    if row is None or row.sharer_id == user_id:
        return None
    return row.sharer, row


def order_attributions(order_id: int) -> list[LineAttribution]:
    """The attribution of each credited line of an order (what its buyer is told)."""
    return list(db.session.scalars(select(LineAttribution).where(LineAttribution.order_id == order_id)
                                   .order_by(LineAttribution.order_line_id)))


def product_for(post_id: int | None, product_id: int | None) -> Product | None:
    """What a share's earnings estimate is based on: the product, else the note's first tagged product."""
    if product_id:
        return db.session.get(Product, product_id)
    product_id = db.session.scalar(select(PostProduct.product_id).where(PostProduct.post_id == post_id)
                                   .order_by(PostProduct.position).limit(1))
    return db.session.get(Product, product_id) if product_id else None


def estimated_commission(product: Product | None) -> tuple[int, int]:
    """(cents, rate bps): about what a sharer earns on one unit at the product's cheapest price."""
    if product is None:
        return 0, 0
    price = db.session.scalar(select(Sku.price_cents).where(Sku.product_id == product.id, Sku.is_active.is_(True))
                              .order_by(Sku.price_cents).limit(1)) or 0
    rate = min(product.commission_bps, max_rate_bps())
    return price * rate // 10_000, rate
