"""Feeds: following (fan-out on read), community (hot / new / top), tag, trending.

Every feed shows only published posts and hides authors blocked either way by the viewer.

Hot score (maintained on each post by app.posts when it is created or engaged with):
    hot = log10(max(1, likes + 2·saves + 3·comments)) + (created_epoch − 1 700 000 000) / 45 000
A post needs ten times the engagement to outrank one 12.5 hours newer, so the order decays with time
without rescoring old rows. "Top" ranks by likes + 2·saves + 3·comments within the chosen period.
"""
from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import Select, select, true

from app.accounts.models import User
from app.communities.models import Community
from app.core.clock import now
from app.core.errors import Invalid, NotFound
from app.core.pagination import (
    Page,
    SortKey,
    after,
    cursor_values,
    float_key,
    int_key,
    newest_first,
    paginate,
    paginate_desc,
)
from app.extensions import db
from app.posts.cards import card_load_options
from app.posts.models import STATUS_PUBLISHED, Post, Tag, post_tags
from app.social.blocks import hidden_user_ids
from app.social.models import Follow

PAGE_SIZE = 20
MANY_FOLLOWEES = 1_000  # above this the following feed scans newest posts instead of per-followee
TABS = ("hot", "new", "top")
PERIODS = {"day": timedelta(days=1), "week": timedelta(days=7), "month": timedelta(days=30), "all": None}
ENGAGEMENT = Post.like_count + 2 * Post.save_count + 3 * Post.comment_count


def _visible_posts(viewer: User | None) -> Select:
    query = select(Post).where(Post.status == STATUS_PUBLISHED).options(*card_load_options())
    hidden = hidden_user_ids(viewer.id if viewer else None)
    if hidden:
        query = query.where(Post.author_id.not_in(hidden))
    return query


def following_feed(viewer: User, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """Posts by the people `viewer` follows, newest first: fan-out on read over ix_posts_author_created."""
    keys = newest_first(Post.created_at, Post.id)
    query = _visible_posts(viewer)
    if db.engine.dialect.name == "postgresql" and viewer.following_count < MANY_FOLLOWEES:
        # Left alone, PostgreSQL walks the global newest-posts index and probes follows for every row,
        # which is slow for readers who follow few people. Instead take each followee's newest
        # limit+1 posts (one short index scan each, LATERAL) and keep the newest limit+1 of those.
        values = cursor_values(keys, cursor)
        recent = select(Post.id, Post.created_at).where(Post.author_id == Follow.followee_id,
                                                        Post.status == STATUS_PUBLISHED)
        if values is not None:
            recent = recent.where(after(keys, values))
        recent = recent.order_by(Post.created_at.desc(), Post.id.desc()).limit(limit + 1).lateral("recent")
        newest = (select(recent.c.id).select_from(Follow).join(recent, true())
                  .where(Follow.follower_id == viewer.id)
                  .order_by(recent.c.created_at.desc(), recent.c.id.desc()).limit(limit + 1))
        query = query.where(Post.id.in_(newest))
    else:
        # Many followees (or SQLite): walking the newest-posts index finds a page within a few hundred rows.
        query = query.where(Post.author_id.in_(select(Follow.followee_id).where(Follow.follower_id == viewer.id)))
    return paginate(query, keys, cursor, limit)


def _ranked(query: Select, tab: str, period: str, cursor: str | None, limit: int) -> Page:
    if tab not in TABS:
        raise Invalid(_("Unknown tab."), {"tab": [_("Choose hot, new or top.")]})
    if tab == "new":
        return paginate_desc(query, Post.created_at, Post.id, cursor, limit)
    if tab == "hot":
        return paginate(query, [float_key(Post.hot_score, "hot_score"), int_key(Post.id, "id")], cursor, limit)
    if period not in PERIODS:
        raise Invalid(_("Unknown period."), {"period": [_("Choose day, week, month or all.")]})
    if PERIODS[period] is not None:
        query = query.where(Post.created_at >= now() - PERIODS[period])
    engagement = SortKey(ENGAGEMENT, lambda post: post.like_count + 2 * post.save_count + 3 * post.comment_count, int)
    return paginate(query, [engagement, int_key(Post.id, "id")], cursor, limit)


def community_feed(community: Community, tab: str = "hot", period: str = "week", viewer: User | None = None,
                   cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """A community's posts: hot (time-decayed engagement), new, or top within a period."""
    return _ranked(_visible_posts(viewer).where(Post.community_id == community.id), tab, period, cursor, limit)


def get_tag(name: str) -> Tag:
    tag = db.session.scalar(select(Tag).where(Tag.name == (name or "").strip().lstrip("#").lower()))
    if tag is None:
        raise NotFound(_("No posts with this tag yet."))
    return tag


def tag_feed(tag: Tag, tab: str = "hot", period: str = "all", viewer: User | None = None,
             cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    tagged = select(post_tags.c.post_id).where(post_tags.c.tag_id == tag.id)
    return _ranked(_visible_posts(viewer).where(Post.id.in_(tagged)), tab, period, cursor, limit)


def trending_feed(viewer: User | None = None, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """Across all communities, by hot score: the signed-out home page."""
    return _ranked(_visible_posts(viewer), "hot", "all", cursor, limit)


def author_feed(author: User, viewer: User | None = None, cursor: str | None = None, limit: int = PAGE_SIZE) -> Page:
    """One author's published posts, newest first (empty when blocked either way)."""
    if viewer and author.id in hidden_user_ids(viewer.id):
        return Page(items=[], next_cursor=None)
    return paginate_desc(_visible_posts(viewer).where(Post.author_id == author.id), Post.created_at, Post.id,
                         cursor, limit)
