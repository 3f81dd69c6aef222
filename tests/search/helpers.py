"""Builders for search tests: rows made with the test factories, then indexed the way the app does it."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from app.core.clock import now
from app.search.indexing import rebuild_index
from app.shop import catalog
from app.shop.models import ProductStatus
from tests import factories


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 80, 120)).save(buffer, "PNG")
    return buffer.getvalue()


def note(author, community, title: str, body: str = "", **fields):
    return factories.post(author, community, title=title, body_md=body, body_html=f"<p>{body}</p>", **fields)


def shop_for(owner, admin, slug: str = "sunny", name: str = "Sunny Shop"):
    """An approved shop, made through the storefront's services."""
    shop = catalog.apply_for_shop(owner, slug=slug, name=name)
    return catalog.approve_shop(admin, shop.id)


def product(shop, title: str, description: str = "", *, price: int = 1000, stock: int = 10, community=None,
            label: str = "", publish: bool = True):
    """A product with one option (price in fen), published unless asked not to."""
    merchant = shop.owner
    made = catalog.create_product(merchant, shop.id, title=title, description=description,
                                  community_id=community.id if community else None)
    catalog.add_sku(merchant, made.id, code=f"P{made.id}", label=label, price_cents=price, stock=stock)
    if publish:
        catalog.set_product_status(merchant, made.id, ProductStatus.ACTIVE)
    return made


def build_site() -> dict[str, int]:
    """A small bilingual site; returns ids by name. Call inside an app context."""
    ann = factories.user("ann", display_name="Ann Lee")
    bob = factories.user("bob")
    beauty = factories.community("beauty", owner=ann, name="Beauty 美妆", vertical="beauty",
                                 description="Skincare, makeup and sunscreen talk")
    outdoor = factories.community("outdoor", owner=bob, name="Outdoor", description="Hiking and camping")
    posts = {
        "cream": note(ann, beauty, "防晒霜测评", "这款防晒霜清爽不油腻，SPF50 review 推荐"),
        "zh_other": note(bob, beauty, "夏天护肤心得", "补水很重要，出门记得涂防晒"),
        "sunscreen": note(bob, outdoor, "Sunscreen for long hikes", "Reapply every two hours on the trail."),
        "mention": note(ann, outdoor, "My hiking boots",
                        "Broke in the boots over a month of weekend walks, remembered sunscreen once, and "
                        "the soles held up on wet granite and muddy forest paths alike."),
        "lipstick": note(ann, beauty, "Lipstick swatches <script>alert(1)</script>",
                         "Ten shades of red, from brick to cherry. <img src=x onerror=alert(1)>"),
        "tent_old": note(bob, outdoor, "Tent review old", "A tent.", created_at=now() - timedelta(days=10),
                         like_count=50),
        "tent_new": note(bob, outdoor, "Tent review new", "A tent.", created_at=now() - timedelta(days=1),
                         like_count=1),
    }
    for number in range(25):
        note(bob, outdoor, f"Camping stove {number}", "Boils water.", created_at=now() - timedelta(hours=number + 1))
    admin = factories.user("dora", is_admin=True)
    shop = shop_for(factories.user("carol"), admin)
    products = {
        "p_sunscreen": product(shop, "Sunscreen SPF50 mineral", "A light mineral cream for hikes and beaches.",
                               price=12900, community=beauty, label="50 ml"),
        "p_hat": product(shop, "Trail hat", "A wide brim that pairs well with sunscreen on long summer days.",
                         price=8900, stock=0, community=outdoor),
        "p_spray": product(shop, "防晒喷雾", "清爽不黏 SPF50 随时补涂", price=5900, community=beauty),
        "p_draft": product(shop, "Sunscreen stick (coming soon)", price=4900, publish=False),
    }
    rebuild_index()
    return {"ann": ann.id, "bob": bob.id, "beauty": beauty.id, "outdoor": outdoor.id,
            **{name: post.id for name, post in posts.items()},
            **{name: made.id for name, made in products.items()}}
