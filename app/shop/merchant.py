"""The merchant's edits after creation: the shop's settings and a product's details, images and options.

Every change to a product or one of its options is written to its history (ProductRevision: who, which
field, from what, to what) in the same transaction as the change. A price edit changes only the option:
orders keep the price they were placed at (order lines copy it), and a cart line remembers the price it
was added at, so the cart tells the buyer when the shop changed it (app/shop/cart.py, cart.html).
Stock set from the edit form is a conditional update on the value the merchant saw, so a sale made while
they were typing is never overwritten.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import String, cast, func, or_, select, update
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.communities.models import Community
from app.core.clock import now as clock_now
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.images import Rendition, delete_media, prepare_upload, prepare_uploads, store_encoded
from app.core.pagination import Page, clamp_limit, paginate_desc
from app.core.uow import after_commit, unit_of_work
from app.extensions import db
from app.search.queue import queue_product
from app.shop.aftersale_models import ProductRevision
from app.shop.catalog import IMAGE_MAX_BYTES, PRODUCT_IMAGE_WIDTH
from app.shop.models import KEPT_STATUSES, Order, OrderLine, Product, ProductImage, ProductStatus, Shop, Sku

LOGO = Rendition("shops", 240, 240)
BANNER = Rendition("shops", 1500, 500)
MAX_IMAGES = 9


def _field_error(field: str, message: str) -> Invalid:
    return Invalid(message, {field: [message]})


def _owned_shop(actor: User, shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(_("No such shop."))
    if shop.owner_id != actor.id and not actor.is_admin:
        raise Forbidden(_("Only the shop's owner can change its settings."), code="not-your-shop")
    return shop


def _owned_product(actor: User, product_id: int) -> Product:
    product = db.session.scalar(select(Product).where(Product.id == product_id)
                                .options(selectinload(Product.skus), selectinload(Product.images)))
    if product is None:
        raise NotFound(_("No such product."))
    shop = db.session.get(Shop, product.shop_id)
    if shop.owner_id != actor.id and not actor.is_admin:
        raise Forbidden(_("Only the shop's owner can change its catalog."), code="not-your-shop")
    return product


# --- the shop's settings ----------------------------------------------------------------------------------

def update_shop_settings(actor: User, shop_id: int, *, name: str, description: str = "", return_policy: str = "",
                         contact: str = "", logo: bytes | None = None, banner: bytes | None = None) -> Shop:
    """The shop's owner changes its name, description, return policy, contact and pictures (all checked
    before anything is stored; a new picture replaces the old file once the change is committed)."""
    shop = _owned_shop(actor, shop_id)
    name = " ".join((name or "").split())
    errors: dict[str, list[str]] = {}
    if not name or len(name) > 80:
        errors["name"] = [_("Give the shop a name of up to 80 characters.")]
    if len(description or "") > 5000:
        errors["description"] = [_("Keep it under %(count)d characters.", count=5000)]
    if len(return_policy or "") > 5000:
        errors["return_policy"] = [_("Keep it under %(count)d characters.", count=5000)]
    contact = " ".join((contact or "").split())
    if len(contact) > 200:
        errors["contact"] = [_("Keep it under %(count)d characters.", count=200)]
    pictures = {}
    for field, data, rendition in (("logo", logo, LOGO), ("banner", banner, BANNER)):
        if data:
            try:
                (pictures[field],) = prepare_upload(data, [rendition], field=field, max_bytes=IMAGE_MAX_BYTES)
            except Invalid as exc:
                errors.update(exc.errors or {field: [exc.message]})
    if errors:
        raise Invalid(_("Check the shop's settings."), errors)
    with unit_of_work():
        shop.name, shop.description = name, (description or "").strip()
        shop.return_policy, shop.contact = (return_policy or "").strip(), contact
        for field, encoded in pictures.items():
            old = getattr(shop, f"{field}_path")
            setattr(shop, f"{field}_path", store_encoded(encoded))
            after_commit(lambda old=old: delete_media(old))
        for product_id in db.session.scalars(select(Product.id).where(Product.shop_id == shop.id)):
            queue_product(product_id)  # search shows the shop's name
    return shop


# --- a product's details -----------------------------------------------------------------------------------

def _revision(product_id: int, actor: User, field: str, old, new, sku_id: int | None = None) -> None:
    db.session.add(ProductRevision(product_id=product_id, sku_id=sku_id, actor_id=actor.id, field=field,
                                   old_value="" if old is None else str(old), new_value="" if new is None else str(new),
                                   created_at=clock_now()))


def update_product(actor: User, product_id: int, *, title: str, description: str = "",
                   community_id: int | None = None) -> Product:
    """Change a product's title, description and community; each changed field goes into its history."""
    product = _owned_product(actor, product_id)
    title = " ".join((title or "").split())
    errors: dict[str, list[str]] = {}
    if not title or len(title) > 120:
        errors["title"] = [_("Give the product a title of up to 120 characters.")]
    if len(description or "") > 20_000:
        errors["description"] = [_("Keep it under %(count)d characters.", count=20_000)]
    if community_id is not None and db.session.get(Community, community_id) is None:
        errors["community"] = [_("No such community.")]
    if errors:
        raise Invalid(_("Check the product's details."), errors)
    with unit_of_work():
        for field, new in (("title", title), ("description", description or ""), ("community_id", community_id)):
            old = getattr(product, field)
            if old != new:
                _revision(product.id, actor, field, old, new)
                setattr(product, field, new)
        queue_product(product.id)
    return product


def update_sku(actor: User, sku_id: int, *, label: str, price_cents: int | None, stock: int | None,
               stock_seen: int | None, is_active: bool) -> Sku:
    """Change an option's name, price, stock and whether it is for sale. Orders keep their prices; carts
    show the change. Stock is set only if it is still what the merchant saw (else Conflict with the count)."""
    sku = db.session.get(Sku, sku_id)
    if sku is None:
        raise NotFound(_("No such product option."))
    product = _owned_product(actor, sku.product_id)
    field = f"skus.{sku.id}"
    errors: dict[str, list[str]] = {}
    label = " ".join((label or "").split())
    if len(label) > 80:
        errors[f"{field}.label"] = [_("Keep it under %(count)d characters.", count=80)]
    if not isinstance(price_cents, int) or isinstance(price_cents, bool) or price_cents <= 0:
        errors[f"{field}.price"] = [_("Enter a price above zero, like 128 or 128.50.")]
    if stock is not None and (not isinstance(stock, int) or stock < 0):
        errors[f"{field}.stock"] = [_("Stock cannot be negative.")]
    if errors:
        raise Invalid(_("Check the option's details."), errors)
    with unit_of_work():
        if stock is not None and stock != stock_seen:
            moved = db.session.execute(update(Sku).where(Sku.id == sku.id, Sku.stock == stock_seen)
                                       .values(stock=stock).execution_options(synchronize_session=False))
            if moved.rowcount != 1:
                current = db.session.scalar(select(Sku.stock).where(Sku.id == sku.id))
                message = _("Units sold while you were editing: the stock is now %(count)d. Check it and save "
                            "again.", count=current)
                raise Conflict(message, {f"{field}.stock": [message]}, code="stock-changed")
            _revision(product.id, actor, "stock", stock_seen, stock, sku.id)
        for name, new in (("label", label), ("price_cents", price_cents), ("is_active", bool(is_active))):
            old = getattr(sku, name)
            if old != new:
                _revision(product.id, actor, "price" if name == "price_cents" else name, old, new, sku.id)
                setattr(sku, name, new)
        if not any(option.is_active for option in product.skus) and product.status == ProductStatus.ACTIVE:
            raise Conflict(_("A product on sale needs at least one option for sale; unpublish it first."),
                           {f"{field}.is_active": [_("A product on sale needs at least one option for sale; "
                                                     "unpublish it first.")]}, code="no-active-option")
        queue_product(product.id)
    db.session.refresh(sku)
    return sku


# --- a product's images -----------------------------------------------------------------------------------

def add_images(actor: User, product_id: int, uploads: Sequence[bytes]) -> Product:
    """Add images (checked as real images, at most nine in all) at the end."""
    product = _owned_product(actor, product_id)
    uploads = [data for data in uploads if data]
    if not uploads:
        raise _field_error("images", _("Choose at least one image."))
    if len(product.images) + len(uploads) > MAX_IMAGES:
        raise _field_error("images", _("A product can have at most 9 images."))
    prepared = prepare_uploads(uploads, [Rendition("products", PRODUCT_IMAGE_WIDTH)], field="images",
                               max_bytes=IMAGE_MAX_BYTES)
    with unit_of_work():
        position = max((image.position for image in product.images), default=-1) + 1
        for offset, (image,) in enumerate(prepared):
            db.session.add(ProductImage(product_id=product.id, path=store_encoded(image), position=position + offset))
        _revision(product.id, actor, "images", len(product.images), len(product.images) + len(prepared))
        queue_product(product.id)
    db.session.refresh(product)
    return product


def remove_image(actor: User, image_id: int) -> Product:
    """Take an image off a product (the file is deleted once the change is committed)."""
    image = db.session.get(ProductImage, image_id)
    if image is None:
        raise NotFound(_("No such image."))
    product = _owned_product(actor, image.product_id)
    with unit_of_work():
        path = image.path
        db.session.delete(image)
        _revision(product.id, actor, "images", len(product.images), len(product.images) - 1)
        db.session.flush()
        for position, rest in enumerate(sorted((i for i in product.images if i.id != image_id),
                                               key=lambda i: i.position)):
            rest.position = position
        after_commit(lambda: delete_media(path))
        queue_product(product.id)
    db.session.refresh(product)
    return product


def move_image(actor: User, image_id: int, offset: int) -> Product:
    """Move an image one place earlier (-1) or later (+1); the first image is the cover."""
    image = db.session.get(ProductImage, image_id)
    if image is None:
        raise NotFound(_("No such image."))
    if offset not in (-1, 1):
        raise _field_error("offset", _("Move an image one place at a time."))
    product = _owned_product(actor, image.product_id)
    ordered = sorted(product.images, key=lambda i: (i.position, i.id))
    index = next(i for i, row in enumerate(ordered) if row.id == image.id)
    target = index + offset
    if not 0 <= target < len(ordered):
        return product
    with unit_of_work():
        ordered[index], ordered[target] = ordered[target], ordered[index]
        for position, row in enumerate(ordered):
            row.position = position
        _revision(product.id, actor, "image_order", index + 1, target + 1)
        queue_product(product.id)
    db.session.refresh(product)
    return product


# --- reading ----------------------------------------------------------------------------------------------

def product_history(actor: User, product_id: int, limit: int = 50) -> list[ProductRevision]:
    """The product's changes, newest first (its owner and admins)."""
    _owned_product(actor, product_id)
    return list(db.session.scalars(select(ProductRevision).where(ProductRevision.product_id == product_id)
                                   .order_by(ProductRevision.id.desc()).limit(limit)))


@dataclass(frozen=True)
class ManagedProduct:
    """A row of the manage page: the product with its stock and units sold."""

    product: Product
    stock: int
    sold: int


def manage_page(actor: User, shop_id: int, *, query: str = "", status: str | None = None,
                cursor: str | None = None, limit: int | None = None) -> tuple[Page, list[ManagedProduct]]:
    """The shop's products for its owner, newest first, searchable by title or option code, one page at a
    time, with total stock and units sold (kept, not refunded) counted in two grouped queries."""
    shop = _owned_shop(actor, shop_id)
    select_products = select(Product).where(Product.shop_id == shop.id).options(selectinload(Product.skus),
                                                                                selectinload(Product.images))
    text = " ".join((query or "").split())[:100]
    if text:
        like = f"%{text.replace('%', '').replace('_', '')}%"
        select_products = select_products.where(or_(
            Product.title.ilike(like), cast(Product.id, String) == text,
            Product.id.in_(select(Sku.product_id).where(Sku.shop_id == shop.id, Sku.code.ilike(like)))))
    if status:
        if status not in {s.value for s in ProductStatus}:
            raise _field_error("status", _("Unknown product status."))
        select_products = select_products.where(Product.status == status)
    page = paginate_desc(select_products, Product.created_at, Product.id, cursor, clamp_limit(limit, 20))
    ids = [product.id for product in page.items]
    sold = dict(db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity - OrderLine.refunded_quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id.in_(ids), Order.status.in_([str(s) for s in KEPT_STATUSES]))
        .group_by(OrderLine.product_id)).all()) if ids else {}
    rows = [ManagedProduct(product, sum(sku.stock for sku in product.skus), int(sold.get(product.id) or 0))
            for product in page.items]
    return page, rows
