"""Shops (apply → approve/reject) and their catalog: products, images and SKUs with stock."""
from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from flask_babel import format_decimal
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.communities.models import Community
from app.core.clock import now as clock_now
from app.core.errors import Conflict, Forbidden, Invalid, NotFound
from app.core.images import Rendition, prepare_uploads, store_encoded
from app.core.money import MINOR_UNITS
from app.core.pagination import Page, clamp_limit, paginate_desc
from app.core.parsing import parse_whole_number
from app.core.uow import transactional, unit_of_work
from app.extensions import db
from app.search.queue import queue_product
from app.shop.models import Product, ProductImage, ProductStatus, Shop, ShopStatus, Sku, listed_product_clause

SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])")
SKU_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


def _field_error(field: str, message: str) -> Invalid:
    return Invalid(message, {field: [message]})


def _require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise Forbidden(_("Only an administrator can review shop applications."))


# --- shops ------------------------------------------------------------------------------------------------

def apply_for_shop(user: User, *, slug: str, name: str, description: str = "") -> Shop:
    """A user applies to open a shop; an admin reviews it. A rejected applicant may apply again."""
    slug = (slug or "").strip().lower()
    name = " ".join((name or "").split())
    errors: dict[str, list[str]] = {}
    if not SLUG.fullmatch(slug):
        errors["slug"] = [_("Use 3 to 40 lower-case letters, digits and dashes.")]
    if not name or len(name) > 80:
        errors["name"] = [_("Give the shop a name of up to 80 characters.")]
    if errors:
        raise Invalid(_("Check the shop's details."), errors)
    try:
        with unit_of_work():
            shop = db.session.scalar(select(Shop).where(Shop.owner_id == user.id))
            if shop is not None and shop.status != ShopStatus.REJECTED:
                raise Conflict(_("You already have a shop or an application under review."), code="shop-exists")
            if shop is None:
                shop = Shop(owner_id=user.id, created_at=clock_now())
                db.session.add(shop)
            shop.slug, shop.name, shop.description = slug, name, (description or "")[:5000]
            shop.status, shop.rejection_reason = ShopStatus.APPLIED, None
            shop.reviewed_by_id, shop.reviewed_at = None, None
            db.session.flush()
    except IntegrityError:  # the unit rolled back first, so the message below can be translated
        raise _field_error("slug", _("This shop address is taken.")) from None
    return shop


@transactional
def _review(admin: User, shop_id: int, to_status: ShopStatus, reason: str | None, now: datetime) -> Shop:
    _require_admin(admin)
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(_("No such shop."))
    moved = db.session.execute(update(Shop).where(Shop.id == shop.id, Shop.status == ShopStatus.APPLIED)
                               .values(status=to_status, reviewed_by_id=admin.id, reviewed_at=now,
                                       rejection_reason=reason).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise Conflict(_("This application has already been reviewed."), code="already-reviewed")
    if to_status == ShopStatus.APPROVED:
        db.session.execute(update(User).where(User.id == shop.owner_id).values(is_merchant=True)
                           .execution_options(synchronize_session=False))
    for product_id in db.session.scalars(select(Product.id).where(Product.shop_id == shop.id)):
        queue_product(product_id)  # what the shop listed while waiting becomes findable once it is active
    db.session.flush()
    db.session.refresh(shop)
    return shop


def approve_shop(admin: User, shop_id: int, now: datetime | None = None) -> Shop:
    """An admin approves an application; its owner becomes a merchant."""
    return _review(admin, shop_id, ShopStatus.APPROVED, None, now or clock_now())


def reject_shop(admin: User, shop_id: int, reason: str, now: datetime | None = None) -> Shop:
    """An admin rejects an application with a reason shown to the applicant."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise _field_error("reason", _("Say why the application is rejected."))
    return _review(admin, shop_id, ShopStatus.REJECTED, reason[:500], now or clock_now())


def _own_shop(merchant: User, shop_id: int) -> Shop:
    shop = db.session.get(Shop, shop_id)
    if shop is None:
        raise NotFound(_("No such shop."))
    if shop.owner_id != merchant.id and not merchant.is_admin:
        raise Forbidden(_("Only the shop's owner can change its catalog."), code="not-your-shop")
    if shop.status != ShopStatus.APPROVED:
        raise Conflict(_("The shop has not been approved yet."), code="shop-not-approved")
    return shop


def _own_product(merchant: User, product_id: int) -> Product:
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound(_("No such product."))
    _own_shop(merchant, product.shop_id)
    return product


# --- products and SKUs ------------------------------------------------------------------------------------

def max_commission_bps() -> int:
    """The highest commission a shop may offer on a product: AFFILIATE_MAX_RATE (percent, default 20)."""
    return int(round(float(current_app.config.get("AFFILIATE_MAX_RATE", 20)) * 100))


def check_commission_bps(commission_bps) -> str | None:
    """Why a product commission (basis points) is refused, or None: 0 up to the site maximum."""
    if not isinstance(commission_bps, int) or isinstance(commission_bps, bool) \
            or not 0 <= commission_bps <= max_commission_bps():
        return _("The commission must be between 0%% and %(max)s%%.", max=format_decimal(max_commission_bps() / 100))
    return None


@transactional
def set_product_commission(merchant: User, product_id: int, commission_bps: int) -> Product:
    """Change what sharers earn on future sales of one of your products (orders already placed keep the
    rate they were placed at)."""
    product = _own_product(merchant, product_id)
    error = check_commission_bps(commission_bps)
    if error:
        raise Invalid(error, {"commission_bps": [error]})
    product.commission_bps = commission_bps
    return product


@transactional
def create_product(merchant: User, shop_id: int, *, title: str, description: str = "",
                   community_id: int | None = None, commission_bps: int = 0) -> Product:
    """A draft product in the merchant's shop; publish it once it has a SKU."""
    shop = _own_shop(merchant, shop_id)
    title = " ".join((title or "").split())
    errors: dict[str, list[str]] = {}
    if not title or len(title) > 120:
        errors["title"] = [_("Give the product a title of up to 120 characters.")]
    commission_error = check_commission_bps(commission_bps)
    if commission_error:
        errors["commission_bps"] = [commission_error]
    if community_id is not None and db.session.get(Community, community_id) is None:
        errors["community_id"] = [_("No such community.")]
    if errors:
        raise Invalid(_("Check the product's details."), errors)
    product = Product(shop_id=shop.id, title=title, description=description or "", community_id=community_id,
                      commission_bps=commission_bps, status=ProductStatus.DRAFT, created_at=clock_now())
    db.session.add(product)
    db.session.flush()
    queue_product(product.id)
    return product


@transactional
def add_product_image(merchant: User, product_id: int, path: str) -> ProductImage:
    """Attach an already stored image (see app.core.images.store_encoded) to a product."""
    product = _own_product(merchant, product_id)
    position = db.session.scalar(select(func.count()).select_from(ProductImage)
                                 .where(ProductImage.product_id == product.id)) or 0
    image = ProductImage(product_id=product.id, path=path, position=position)
    db.session.add(image)
    return image


def add_sku(merchant: User, product_id: int, *, code: str, label: str = "", price_cents: int, stock: int = 0,
            currency: str = "CNY") -> Sku:
    """A variant of the product with its own price and stock; codes are unique within a shop."""
    product = _own_product(merchant, product_id)
    code = (code or "").strip()
    errors: dict[str, list[str]] = {}
    if not SKU_CODE.fullmatch(code):
        errors["code"] = [_("Use up to 40 letters, digits, dots, dashes and underscores.")]
    if not isinstance(price_cents, int) or isinstance(price_cents, bool) or price_cents <= 0:
        errors["price_cents"] = [_("Enter a price above zero.")]
    if not isinstance(stock, int) or isinstance(stock, bool) or stock < 0:
        errors["stock"] = [_("Stock cannot be negative.")]
    if currency not in MINOR_UNITS:
        errors["currency"] = [_("This currency is not supported.")]
    if errors:
        raise Invalid(_("Check the option's details."), errors)
    try:
        with unit_of_work():
            sku = Sku(product_id=product.id, shop_id=product.shop_id, code=code, label=" ".join(label.split())[:80],
                      price_cents=price_cents, stock=stock, currency=currency)
            db.session.add(sku)
            queue_product(product.id)
    except IntegrityError:  # the unit rolled back first, so the message below can be translated
        raise _field_error("code", _("Another option in your shop already uses this code.")) from None
    return sku


@transactional
def adjust_stock(merchant: User, sku_id: int, delta: int) -> Sku:
    """Add (or, with a negative delta, remove) units; never below zero, never read-modify-write."""
    sku = db.session.get(Sku, sku_id)
    if sku is None:
        raise NotFound(_("No such product option."))
    _own_shop(merchant, sku.shop_id)
    if not isinstance(delta, int) or isinstance(delta, bool):
        raise _field_error("delta", _("Enter a whole number."))
    moved = db.session.execute(update(Sku).where(Sku.id == sku.id, Sku.stock + delta >= 0)
                               .values(stock=Sku.stock + delta).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise _field_error("delta", _("There is not that much stock to remove."))
    queue_product(sku.product_id)
    db.session.flush()
    db.session.refresh(sku)
    return sku


@transactional
def set_product_status(merchant: User, product_id: int, status: ProductStatus) -> Product:
    """Publish (needs an option with a price), hide back to draft, or archive a product."""
    product = _own_product(merchant, product_id)
    if status not in (ProductStatus.DRAFT, ProductStatus.ACTIVE, ProductStatus.ARCHIVED):
        raise _field_error("status", _("Unknown product status."))
    if status == ProductStatus.ACTIVE and not any(sku.is_active for sku in product.skus):
        raise Conflict(_("Add at least one option with a price before publishing."), code="no-active-option")
    product.status = status
    queue_product(product.id)
    return product


# --- reading the catalog ----------------------------------------------------------------------------------

def shop_of(user: User) -> Shop | None:
    """The user's shop or shop application, if any (one per owner)."""
    return db.session.scalar(select(Shop).where(Shop.owner_id == user.id))


def shop_applications(admin: User) -> list[Shop]:
    """Applications waiting for review, oldest first."""
    _require_admin(admin)
    return list(db.session.scalars(select(Shop).where(Shop.status == ShopStatus.APPLIED)
                                   .options(joinedload(Shop.owner)).order_by(Shop.created_at)))


PRODUCT_IMAGE_WIDTH, IMAGE_MAX_BYTES = 1080, 10 * 1024 * 1024


def upload_product_images(merchant: User, product_id: int, uploads: list[bytes]) -> list[ProductImage]:
    """Check uploads as real images (size-limited), strip metadata by re-encoding, and attach them."""
    product = _own_product(merchant, product_id)
    uploads = [data for data in uploads if data]
    if len(product.images) + len(uploads) > 9:
        raise _field_error("images", _("A product can have at most 9 images."))
    prepared = prepare_uploads(uploads, [Rendition("products", PRODUCT_IMAGE_WIDTH)], field="images",
                               max_bytes=IMAGE_MAX_BYTES)
    return [add_product_image(merchant, product.id, store_encoded(image)) for (image,) in prepared]


def create_listing(merchant: User, shop_id: int, *, title: str, description: str = "",
                   community_id: int | None = None, commission_bps: int = 0, code: str, label: str = "",
                   price_cents: int, stock: int, uploads: list[bytes] = ()) -> Product:
    """The merchant's "new product" form in one call: a draft product, its first option and its images.
    Each step commits on its own; when the option or an image is refused, the product is archived again
    so no half-made product is left in the shop, and the refusal is raised."""
    product = create_product(merchant, shop_id, title=title, description=description, community_id=community_id,
                             commission_bps=commission_bps)
    try:
        add_sku(merchant, product.id, code=code, label=label, price_cents=price_cents, stock=stock)
        if uploads:
            upload_product_images(merchant, product.id, list(uploads))
    except Invalid:
        set_product_status(merchant, product.id, ProductStatus.ARCHIVED)
        raise
    return product


def parse_count(value, field: str, *, signed: bool = False) -> int:
    """A whole number typed in a form (stock, a stock change, a limit), or Invalid on `field`."""
    number = parse_whole_number(value, max_digits=7, signed=signed)
    if number is None:
        raise _field_error(field, _("Enter a whole number."))
    return number


# --- what buyers (and the shop's owner) see ---------------------------------------------------------------

LOW_STOCK = 5  # at or below this many units a SKU shows as "low stock"


def can_manage(user: User | None, shop: Shop) -> bool:
    """The shop's owner and admins manage a shop (and see its drafts and unapproved state)."""
    return user is not None and user.is_authenticated and (user.id == shop.owner_id or user.is_admin)


def get_shop(slug: str, viewer: User | None = None) -> Shop:
    """A shop by its slug: approved shops for everyone, an application only for its owner and admins."""
    shop = db.session.scalar(select(Shop).where(Shop.slug == (slug or "").strip().lower()))
    if shop is None or (shop.status != ShopStatus.APPROVED and not can_manage(viewer, shop)):
        raise NotFound(_("No such shop."))
    return shop


def _product_page_options():
    return (joinedload(Product.shop), selectinload(Product.skus), selectinload(Product.images))


def shop_products(shop: Shop, viewer: User | None, cursor: str | None = None, limit: int | None = None) -> Page:
    """A shop's products, newest first: the active ones, or every status for those who manage the shop."""
    query = select(Product).where(Product.shop_id == shop.id).options(*_product_page_options())
    if not can_manage(viewer, shop):
        query = query.join(Shop, Shop.id == Product.shop_id).where(listed_product_clause())
    return paginate_desc(query, Product.created_at, Product.id, cursor, clamp_limit(limit))


def product_for(viewer: User | None, product_id: int) -> Product:
    """A product with its SKUs and images: active products of approved shops for everyone, any product
    for its shop's owner and admins."""
    product = db.session.scalar(select(Product).where(Product.id == product_id).options(*_product_page_options()))
    if product is None or (not product.is_listed and not can_manage(viewer, product.shop)):
        raise NotFound(_("No such product."))
    return product


def stock_state(sku: Sku) -> str:
    """What a buyer is told: in_stock, low_stock, sold_out, or unavailable (the option was withdrawn)."""
    if not sku.is_active:
        return "unavailable"
    if sku.stock <= 0:
        return "sold_out"
    return "low_stock" if sku.stock <= LOW_STOCK else "in_stock"


def units_sold(products) -> dict[int, int]:
    """Units sold per product (paid, not refunded: kept orders less refunded units), for a whole page of
    products in one grouped query. Products that never sold are absent."""
    from app.shop.models import KEPT_STATUSES, Order, OrderLine

    ids = sorted({getattr(product, "id", product) for product in products or ()})
    if not ids:
        return {}
    rows = db.session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity - OrderLine.refunded_quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id.in_(ids), Order.status.in_([str(s) for s in KEPT_STATUSES]))
        .group_by(OrderLine.product_id)).all()
    return {product_id: int(units) for product_id, units in rows if units and int(units) > 0}
