"""Reasons on recommended cards, in the reader's language, with names looked up in one query per kind.

A reason is {"code": …, "params": {…}} from recommender.reasons (or from app.feeds.foryou for fresh and
cold-start picks); ids in params are the app's user, post and community ids as strings.
"""
from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import String, literal, select, union_all

from app.accounts.models import User
from app.communities.models import Community
from app.core.parsing import parse_id
from app.extensions import db
from app.posts.models import Post


def _ids(values) -> list[int]:
    return [number for number in map(parse_id, values) if number is not None]


def describe(reasons: list[dict]) -> list[str]:
    """One sentence per reason, aligned with `reasons`."""
    user_ids, post_ids, slugs, community_ids = set(), set(), set(), set()
    for reason in reasons:
        params = reason.get("params") or {}
        user_ids.update(_ids(params.get("user_ids", [])))
        post_ids.update(_ids([params.get("item_id")] if params.get("item_id") else []))
        if params.get("community"):
            slugs.add(str(params["community"]))
        if params.get("community_id"):
            community_ids.add(int(params["community_id"]))
    # Names, titles and community names in one statement (one round trip for the whole page).
    parts = []
    if user_ids:
        parts.append(select(literal("user"), User.id, literal(None, String), User.display_name, User.username)
                     .where(User.id.in_(user_ids)))
    if post_ids:
        parts.append(select(literal("post"), Post.id, literal(None, String), Post.title, literal(None, String))
                     .where(Post.id.in_(post_ids)))
    if slugs or community_ids:
        parts.append(select(literal("community"), Community.id, Community.slug, Community.name, literal(None, String))
                     .where(Community.slug.in_(slugs) | Community.id.in_(community_ids)))
    users, titles, communities = {}, {}, {}
    if parts:
        for kind, row_id, slug, text, username in db.session.execute(union_all(*parts) if len(parts) > 1
                                                                     else parts[0]):
            if kind == "user":
                users[row_id] = text or username
            elif kind == "post":
                titles[row_id] = text
            else:
                communities[slug] = communities[row_id] = text
    return [_sentence(reason, users, titles, communities) for reason in reasons]


def _sentence(reason: dict, users: dict, titles: dict, communities: dict) -> str:
    code, params = reason.get("code"), reason.get("params") or {}
    names = [users[i] for i in _ids(params.get("user_ids", [])) if i in users]
    others = int(params.get("others", 0) or 0)
    item_id = parse_id(params.get("item_id"))
    title = titles.get(item_id) if item_id is not None else None
    title = title or params.get("title") or ""
    if code in ("followees_engaged", "followed_by_followees"):
        if not names:
            return _("Popular with people you follow") if code == "followees_engaged" else \
                _("Followed by people you follow")
        if code == "followees_engaged":
            return ngettext("Liked by %(name)s and %(num)d other you follow",
                            "Liked by %(name)s and %(num)d others you follow", others, name=names[0]) \
                if others else _("Liked by %(name)s, whom you follow", name=names[0])
        return ngettext("Followed by %(name)s and %(num)d other you follow",
                        "Followed by %(name)s and %(num)d others you follow", others, name=names[0]) \
            if others else _("Followed by %(name)s, whom you follow", name=names[0])
    if code == "friends_of_friends":
        return _("Liked by people your friends follow")
    if code == "because_you_liked":
        return _("Because you liked “%(title)s”", title=title) if title else _("Because of notes you liked")
    if code == "similar_content":
        return _("Similar to “%(title)s”, which you liked", title=title) if title else _("Similar to notes you liked")
    if code == "also_liked":
        return _("People who liked “%(title)s” also liked this", title=title) if title else \
            _("People who liked this also liked")
    if code == "popular_in_community":
        name = communities.get(params.get("community")) or communities.get(params.get("community_id"))
        return _("Popular in %(community)s this week", community=name) if name else _("Popular this week")
    if code == "active_in_community":
        name = communities.get(params.get("community_id"))
        return _("Popular author in %(community)s", community=name) if name else _("Popular author")
    if code == "trending":
        return _("Popular this week")
    if code == "new_from_followee":
        return _("New from someone you follow")
    if code == "shared_taste":
        shared = int(params.get("shared", 0) or 0)
        return ngettext("Likes %(num)d of the same notes as you", "Likes %(num)d of the same notes as you", shared)
    return _("Popular on Tastemaker")
