"""Builders for search tests: rows made with the test factories, then indexed the way the app does it."""
from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from app.core.clock import now
from app.search.indexing import rebuild_index
from tests import factories


def tiny_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), (200, 80, 120)).save(buffer, "PNG")
    return buffer.getvalue()


def note(author, community, title: str, body: str = "", **fields):
    return factories.post(author, community, title=title, body_md=body, body_html=f"<p>{body}</p>", **fields)


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
    rebuild_index()
    return {"ann": ann.id, "bob": bob.id, "beauty": beauty.id, "outdoor": outdoor.id,
            **{name: post.id for name, post in posts.items()}}
