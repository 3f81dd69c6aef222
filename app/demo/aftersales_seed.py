"""Demo after-sales and coupons to find: on a fresh seed the reader finds claimable coupons (领券) on the
beauty shop's pages, has paid and shipped orders still inside their return window, and one after-sales
request waiting for the merchant — all made through the services, like the rest of the storefront demo."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from app.accounts.models import User
from app.core.clock import now as clock_now
from app.core.errors import DomainError
from app.extensions import db
from app.shop import aftersales, checkout, coupons, orders, payments, wallet
from app.shop.aftersale_models import AfterSale
from app.shop.models import Address, Coupon, Order, OrderStatus, Payment, Product, ProductStatus, Shop, Sku

DEMO_COUPON = "GLOWNEW20"


def seed_aftersales(named: dict[str, User], now: datetime | None = None) -> dict[str, int]:
    """Publish claimable coupons and open one after-sales request for the reader; idempotent."""
    now = now or clock_now()
    reader, merchant = named.get("reader"), named.get("merchant")
    if reader is None or merchant is None:
        return {}
    shop = db.session.scalar(select(Shop).where(Shop.owner_id == merchant.id))
    made = {"claimable coupons": 0, "after-sales requests": 0}
    if shop is not None and db.session.scalar(select(Coupon.id).where(Coupon.code == DEMO_COUPON)) is None:
        coupon = coupons.create_coupon(merchant, code=DEMO_COUPON, kind="fixed", value=2_000, shop_id=shop.id,
                                       min_spend_cents=9_900, total_uses=200, per_user_limit=1,
                                       starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=30))
        wallet.publish_coupon(merchant, coupon.id)
        made["claimable coupons"] += 1
    for code in ("GLOW15", "SNACK5"):  # two of the shops' existing coupons, shown for claiming too
        coupon = db.session.scalar(select(Coupon).where(Coupon.code == code))
        if coupon is not None and not coupon.claimable:
            owner = db.session.get(User, db.session.scalar(select(Shop.owner_id).where(Shop.id == coupon.shop_id)))
            wallet.publish_coupon(owner, coupon.id)
            made["claimable coupons"] += 1
    if db.session.scalar(select(AfterSale.id).where(AfterSale.buyer_id == reader.id).limit(1)) is None:
        made["after-sales requests"] += _open_request(reader, shop, now)
    return made


def _shipped_from(reader: User, shop: Shop, now: datetime) -> None:
    """A shipped order from the merchant's shop for the reader (placed, paid through the sandbox's signed
    callback and shipped, through the services), when the simulated orders gave them none."""
    if db.session.scalar(select(Order.id).where(Order.buyer_id == reader.id, Order.shop_id == shop.id,
                                                Order.status == OrderStatus.SHIPPED).limit(1)):
        return
    address_id = db.session.scalar(select(Address.id).where(Address.user_id == reader.id,
                                                            Address.deleted_at.is_(None)).limit(1))
    sku_id = db.session.scalar(select(Sku.id).join(Product, Product.id == Sku.product_id)
                               .where(Product.shop_id == shop.id, Product.status == ProductStatus.ACTIVE,
                                      Sku.is_active.is_(True), Sku.stock > 2).order_by(Sku.id).limit(1))
    if address_id is None or sku_id is None:
        return
    placed = checkout.place_orders(reader, [{"sku_id": sku_id, "quantity": 2}], address_id,
                                   now=now - timedelta(days=3))
    sandbox = payments.get_provider("sandbox")
    body, signature = sandbox.callback_for(db.session.get(Payment, placed.payment.id))
    payments.handle_payment_callback(sandbox, body, signature, now=now - timedelta(days=3))
    orders.ship_order(shop.owner, placed.orders[0].id, "SF1400098765", now=now - timedelta(days=2))


def _open_request(reader: User, shop: Shop | None, now: datetime) -> int:
    """A return request on one of the reader's shipped orders (the merchant's shop's), made a few hours ago
    so the merchant has it to answer before it is approved automatically."""
    if shop is not None:
        try:
            _shipped_from(reader, shop, now)
        except DomainError:
            pass
    candidates = list(db.session.scalars(
        select(Order).where(Order.buyer_id == reader.id, Order.status == OrderStatus.SHIPPED)
        .order_by(Order.id.desc())))
    candidates.sort(key=lambda order: shop is None or order.shop_id != shop.id)
    for order in candidates:
        line = next((line for line in order.lines if line.quantity > line.refunded_quantity), None)
        if line is None:
            continue
        try:
            aftersales.request_after_sale(
                reader, order.id, kind="return", quantities={line.id: 1}, reason="not_as_described",
                note="实物和描述不一样，想退货。It is not what the listing described.",
                now=now - timedelta(hours=5))
        except DomainError:
            continue
        return 1
    return 0
