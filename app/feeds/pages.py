"""The For-you first page, kept whole per reader for at most FORYOU_PAGE_SECONDS (app.core.fragments).

Building a For-you page reads the reader's candidates, fresh followee signals, blocks, feedback and history and
describes every card: most of a GET /'s time. A reader who comes back to the home page within
FORYOU_PAGE_SECONDS (30 s by default; 0 turns this off) gets the page built last time instead — the same cards
in the same order, the same "next page" link, the same layout — with only the CSRF token filled in per
request. A page that shows flash messages (after a form's redirect) is built, and not kept. The kept page's
cards' impressions are not logged again: they were logged when the page was built, moments before, for the
same reader, and a reload is not a new view (a creator's view counts and the recommender's training count the
showing once).

What may be stale, and for how long:
  * nothing of the reader's own: the kept page carries the reader's *fingerprint* — counts and id sums of
    their likes, saves, follows, blocks (either way), memberships, feed feedback and opened notes, the active
    model's version, the layout's badges (cart units, unread notifications, whether they moderate) and their
    own settings the page shows (name, avatar, merchant and admin links, language, time zone) — read per
    request in the one statement that reads the badges (app.core.badges); when it differs (a like, a save, a
    follow, "not interested", an open, a join, an item added to the cart, a new notification, a changed
    name, through the web, the API or a job, on any worker) the page is built afresh. So a like shows as
    liked, and a note just opened leaves the feed, on the next load;
  * everyone else's activity (a followee's new note or like, new like counts on the cards, a suspension, a
    nightly recommendations refresh, for a moderator the number of reports waiting in the queue) shows within
    FORYOU_PAGE_SECONDS, as a fresh first page would.
Only the first page is kept (later pages continue the first page's moment from their cursor, see
app.feeds.foryou, and are built per request).
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from flask import current_app, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, literal, or_, select

from app.communities.models import Membership
from app.core import badges
from app.core.badges import READER
from app.core.fragments import get_fragments, put_fragments
from app.events.models import Event
from app.feeds.models import FeedFeedback, RecommenderModel
from app.posts.models import Like, Save
from app.social.models import Block, Follow

_CSRF = "\x00csrf\x00"
_INDENT = re.compile(r"\n\s+")
_SEP = "\x1f"


def page_seconds() -> int:
    return int(current_app.config.get("FORYOU_PAGE_SECONDS", 0) or 0)


def _digest(summed, *where):
    """How many rows, and the sum of an id over them (any insert or delete moves one of the two), in one index
    scan: both in one 64-bit integer."""
    return select(func.count() * _SPREAD + func.coalesce(func.sum(summed), 0)).where(*where).scalar_subquery()


_SPREAD = 1_000_000_007  # count × this + sum of ids

# The reader's digests per table, read with the layout's badges in one statement (app.core.badges).
FINGERPRINT = {
    "fp_likes": lambda: _digest(Like.post_id, Like.user_id == READER),
    "fp_saves": lambda: _digest(Save.post_id, Save.user_id == READER),
    "fp_follows": lambda: _digest(Follow.followee_id, Follow.follower_id == READER),
    "fp_blocks": lambda: _digest(Block.blocker_id + Block.blocked_id,
                                 or_(Block.blocker_id == READER, Block.blocked_id == READER)),
    "fp_joined": lambda: _digest(Membership.community_id, Membership.user_id == READER),
    "fp_feedback": lambda: _digest(FeedFeedback.id, FeedFeedback.user_id == READER),
    "fp_opened": lambda: select(func.count()).where(Event.user_id == READER, Event.kind == "open").scalar_subquery(),
    "fp_model": lambda: select(func.coalesce(func.max(RecommenderModel.version), literal("")))
    .where(RecommenderModel.is_active.is_(True)).scalar_subquery(),
}


# What the layout shows of the reader themself (the name and avatar in the top bar, the merchant's and admin's
# links) and what the page is written in (language, time zone): the reader's own settings, so part of the print.
_LAYOUT_FIELDS = ("username", "display_name", "avatar_path", "is_admin", "is_merchant", "locale", "timezone")


def reader_fingerprint(reader) -> str:
    """A digest of everything of the reader's own that their For-you page shows or depends on: their actions
    (FINGERPRINT), the layout's badges (cart, unread notifications, moderator tools) and their own settings,
    read in one statement with the badges."""
    state = badges.read(reader.id, FINGERPRINT, fresh=True)
    row = (tuple(state[name] for name in sorted(state)), tuple(getattr(reader, f) for f in _LAYOUT_FIELDS))
    return hashlib.sha1(repr(row).encode(), usedforsecurity=False).hexdigest()[:16]


def flashes_pending() -> bool:
    """Messages waiting to be shown on the next page (after a form's redirect): that page is built, not kept."""
    return bool(session.get("_flashes"))


@dataclass
class KeptPage:
    fingerprint: str
    body: str  # the whole page, with the CSRF token as a placeholder

    def html(self) -> str:
        return self.body.replace(_CSRF, generate_csrf())


def _key(user_id: int) -> str:
    from app.feeds.cards import _template_digest

    templates = _template_digest("base.html", "feeds/home.html", "feeds/_feed_body.html")
    return f"foryou-whole:{templates}:{get_locale()}:{user_id}"  # the value: fingerprint, page


def kept_page(user_id: int, fingerprint: str) -> KeptPage | None:
    """The reader's kept first page, if it is younger than FORYOU_PAGE_SECONDS and their fingerprint still
    matches."""
    value = get_fragments([_key(user_id)]).get(_key(user_id))
    if not value:
        return None
    kept_print, _sep, body = value.partition(_SEP)
    return KeptPage(kept_print, body) if _sep and kept_print == fingerprint else None


def squeeze(html: str) -> str:
    """The body without the templates' indentation (a third of a For-you page's bytes): a line break and the
    spaces after it are one line break. Never where whitespace shows (pre, textarea)."""
    if "<pre" in html or "<textarea" in html:
        return html
    return _INDENT.sub("\n", html)


def keep_page(user_id: int, fingerprint: str, body: str) -> None:
    token = generate_csrf()
    put_fragments({_key(user_id): _SEP.join([fingerprint, body.replace(token, _CSRF)])}, seconds=page_seconds())
