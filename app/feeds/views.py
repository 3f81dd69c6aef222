"""Feed pages: home, following, community (hot/new/top) and tag pages, with infinite scroll."""
from __future__ import annotations

import uuid

from flask import Blueprint, make_response, render_template, request, url_for
from flask_login import current_user, login_required

from app.core.pagination import Page
from app.feeds import services
from app.feeds.events import ANON_COOKIE, new_request_id, record_impressions
from app.posts.cards import viewer_state

bp = Blueprint("feeds", __name__)

ANON_COOKIE_MAX_AGE = 365 * 24 * 3600


def _viewer():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _position() -> int:
    value = request.args.get("pos", "0")
    return int(value) if value.isdigit() and len(value) < 7 else 0


def _render_feed(template: str, page: Page, surface: str, endpoint: str, endpoint_args: dict, **context):
    """Render a feed page (or, for htmx, just the next slice), log its impressions, keep the anon cookie."""
    viewer = _viewer()
    anon_id = None if viewer else (request.cookies.get(ANON_COOKIE) or uuid.uuid4().hex)
    offset = _position()
    next_url = None
    if page.next_cursor:
        next_url = url_for(endpoint, **endpoint_args, cursor=page.next_cursor, pos=offset + len(page.items))
    state = viewer_state(page.items, viewer.id if viewer else None)
    if request.headers.get("HX-Request") and request.args.get("cursor"):
        body = render_template("feeds/_more.html", posts=page.items, state=state, next_url=next_url)
    else:
        body = render_template(template, posts=page.items, state=state, next_url=next_url, **context)
    # Logged after rendering: the commit expires the loaded posts, which the template would reload one by one.
    record_impressions([post.id for post in page.items], surface=surface, request_id=new_request_id(),
                       user_id=viewer.id if viewer else None, anon_id=anon_id, offset=offset)
    response = make_response(body)
    if anon_id and request.cookies.get(ANON_COOKIE) != anon_id:
        response.set_cookie(ANON_COOKIE, anon_id, max_age=ANON_COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                            secure=bool(request.is_secure))
    return response


@bp.get("/")
def home():
    """Signed in: the following feed (trending while you follow nobody). Signed out: trending."""
    viewer, cursor = _viewer(), request.args.get("cursor")
    if viewer:
        page = services.following_feed(viewer, cursor)
        if page.items or cursor:
            return _render_feed("feeds/home.html", page, "following", "feeds.home", {}, feed="following")
    page = services.trending_feed(viewer, cursor)
    return _render_feed("feeds/home.html", page, "trending", "feeds.home", {}, feed="trending")


@bp.get("/following")
@login_required
def following():
    page = services.following_feed(current_user, request.args.get("cursor"))
    return _render_feed("feeds/home.html", page, "following", "feeds.following", {}, feed="following")


@bp.get("/c/<slug>")
def community(slug: str):
    from app.communities.services import get_community, membership_of

    community_ = get_community(slug)
    tab = request.args.get("tab", "hot")
    period = request.args.get("period", "week")
    page = services.community_feed(community_, tab, period, _viewer(), request.args.get("cursor"))
    membership = membership_of(current_user, community_) if current_user.is_authenticated else None
    return _render_feed("feeds/community.html", page, "community", "feeds.community",
                        {"slug": slug, "tab": tab, "period": period},
                        community=community_, membership=membership, tab=tab, period=period,
                        periods=list(services.PERIODS))


@bp.get("/t/<name>")
def tag(name: str):
    tag_ = services.get_tag(name)
    tab = request.args.get("tab", "hot")
    page = services.tag_feed(tag_, tab, "all", _viewer(), request.args.get("cursor"))
    return _render_feed("feeds/tag.html", page, "tag", "feeds.tag", {"name": tag_.name, "tab": tab},
                        tag=tag_, tab=tab)
