"""Feed cards rendered once per (note, language, counts, edit) and reused by every reader (app.core.fragments).

A card is the `post_card` macro of templates/posts/_card.html. What differs per reader — the reason line, the
form's CSRF token and whether they liked it — is rendered as a placeholder, kept, and filled in per request;
everything else (title, cover, rating, author, community, like count) is the same for everyone. The key holds
the post's id, the language, its like count, its edit time and a digest of the card template, so a like, an
edit or a deploy that changes the card gives a new key at once; an author's or community's new name shows
within FRAGMENT_CACHE_SECONDS. On a miss the posts are loaded with their authors, communities and images in
the usual fixed number of queries and rendered.
"""
from __future__ import annotations

import hashlib
from datetime import datetime

from flask import current_app, get_template_attribute
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import defer

from app.core.fragments import get_fragments, put_fragments
from app.extensions import db
from app.posts.cards import ViewerState, card_load_options
from app.posts.models import Post

CARD_TEMPLATE = "posts/_card.html"
_REASON, _CSRF = "\x00reason\x00", "\x00csrf\x00"
# The likes counter's class, as the card template writes it; a liked card gets " is-liked" added per reader.
_LIKES, _LIKED = 'class="post-card-likes"', 'class="post-card-likes is-liked"'
_digests: dict[str, str] = {}


def _template_digest(*names: str) -> str:
    """A short digest of the card template's source (and of any other templates named), so a changed template
    never serves old cards or pages."""
    loader = current_app.jinja_env.loader
    key = f"{id(loader)}:{':'.join(names)}"
    if key not in _digests:
        digest = hashlib.sha1(usedforsecurity=False)
        for name in (CARD_TEMPLATE, *names):
            digest.update(loader.get_source(current_app.jinja_env, name)[0].encode())
        _digests[key] = digest.hexdigest()[:10]
    return _digests[key]


def card_key(post_id: int, like_count: int, edited_at: datetime | None, feedback: bool) -> str:
    edited = int(edited_at.timestamp()) if edited_at else 0
    return f"card:{_template_digest()}:{get_locale()}:{post_id}:{like_count}:{edited}:{int(feedback)}"


def render_cards(cards: list, reasons: dict[int, str], liked: set[int], feedback: bool) -> Markup:
    """The HTML of these cards (objects with post_id, like_count, edited_at), in order, for this reader."""
    if not cards:
        return Markup("")
    keys = {card.post_id: card_key(card.post_id, card.like_count, card.edited_at, feedback) for card in cards}
    found = get_fragments(list(keys.values()))
    missing = [card.post_id for card in cards if keys[card.post_id] not in found]
    token = generate_csrf()
    if missing:
        macro = get_template_attribute(CARD_TEMPLATE, "post_card")
        fresh = {}
        for post in db.session.scalars(select(Post).where(Post.id.in_(missing))
                                       .options(*card_load_options(), defer(Post.body_md), defer(Post.body_html))):
            fresh[keys[post.id]] = str(macro(post, ViewerState(), _REASON, feedback)).replace(token, _CSRF)
        put_fragments(fresh)
        found.update(fresh)
    parts = []
    for card in cards:
        html = found.get(keys[card.post_id])
        if html is None:  # gone between the page's read and now
            continue
        html = html.replace(_REASON, str(escape(reasons.get(card.post_id, "")))).replace(_CSRF, token)
        if card.post_id in liked:
            html = html.replace(_LIKES, _LIKED, 1)
        parts.append(html)
    return Markup("".join(parts))  # nosec B704 # -- cards rendered by Jinja with autoescape
