"""Product-page recommendations: "people who bought this also bought", from paid orders (co-purchases)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.shop.models import KEPT_STATUSES, Order, OrderLine, Product, Shop, listed_product_clause

PAID = KEPT_STATUSES
RECENT_BUYERS = 500  # co-purchases are counted over this product's newest buyers, so the query stays bounded


def also_bought(product_id: int, limit: int = 8) -> list[tuple[Product, int]]:
    """Other products on sale that this product's recent buyers bought, with how many of them did,
    most shared first (ties: newer product first). Two queries plus the products' loading."""
    buyers = (select(Order.buyer_id).join(OrderLine, OrderLine.order_id == Order.id)
              .where(OrderLine.product_id == product_id, Order.status.in_(PAID))
              .group_by(Order.buyer_id).order_by(func.max(Order.id).desc()).limit(RECENT_BUYERS)).subquery()
    shared = func.count(func.distinct(Order.buyer_id))
    rows = db.session.execute(
        select(OrderLine.product_id, shared.label("buyers"))
        .join(Order, Order.id == OrderLine.order_id)
        .join(Product, Product.id == OrderLine.product_id).join(Shop, Shop.id == Product.shop_id)
        .where(Order.buyer_id.in_(select(buyers.c.buyer_id)), Order.status.in_(PAID),
               OrderLine.product_id != product_id, listed_product_clause())
        .group_by(OrderLine.product_id).order_by(shared.desc(), OrderLine.product_id.desc()).limit(limit)).all()
    if not rows:
        return []
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_([r.product_id for r in rows]))
                                                    .options(selectinload(Product.skus),
                                                             selectinload(Product.images)))}
    return [(products[row.product_id], row.buyers) for row in rows if row.product_id in products]
