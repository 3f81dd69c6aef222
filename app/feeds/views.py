"""Feed pages: home, following, community (hot/new/top), tag and profile pages, with infinite scroll.

A profile is its author's feed under a header from accounts, social and posts, so it lives here, above them."""
from __future__ import annotations

import uuid

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from app.accounts.services import get_user_by_username
from app.communities.services import complete_onboarding, needs_onboarding, onboarding_choices
from app.core.auth import current_viewer
from app.core.errors import Invalid
from app.core.pagination import Page
from app.core.parsing import parse_id, parse_whole_number
from app.events.log import ANON_COOKIE, new_request_id, record_impressions
from app.feeds import pages, services
from app.feeds.cards import render_cards
from app.feeds.foryou import (
    for_you_feed,
    give_feedback,
    people_to_follow,
    record_shown,
    similar_posts,
    suggest_people,
)
from app.feeds.foryou import undo_feedback as remove_feedback
from app.feeds.reasons import describe
from app.posts.cards import liked_by, viewer_state
from app.posts.engagement import collections_of
from app.social.services import relationship_between

bp = Blueprint("feeds", __name__)

ANON_COOKIE_MAX_AGE = 365 * 24 * 3600


def _position() -> int:
    value = request.args.get("pos", "0")
    return parse_whole_number(value, max_digits=6) or 0


def _render_feed(template: str, page: Page, surface: str, endpoint: str, endpoint_args: dict,
                 model_version: str | None = None, **context):
    """Render a feed page (or, for htmx, just the next slice), log its impressions, keep the anon cookie."""
    viewer = current_viewer()
    anon_id = None if viewer else (request.cookies.get(ANON_COOKIE) or uuid.uuid4().hex)
    offset = _position()
    next_url = None
    if page.next_cursor:
        next_url = url_for(endpoint, **endpoint_args, cursor=page.next_cursor, pos=offset + len(page.items))
    state = viewer_state(page.items, viewer.id if viewer else None)
    if request.headers.get("HX-Request") and request.args.get("cursor"):
        body = render_template("feeds/_more.html", posts=page.items, state=state, next_url=next_url,
                               reasons=context.get("reasons"))
    else:
        body = render_template(template, posts=page.items, state=state, next_url=next_url, **context)
    # Logged after rendering: the commit expires the loaded posts, which the template would reload one by one.
    record_impressions([post.id for post in page.items], surface=surface, request_id=new_request_id(),
                       user_id=viewer.id if viewer else None, anon_id=anon_id, offset=offset,
                       model_version=model_version)
    response = make_response(body)
    if anon_id and request.cookies.get(ANON_COOKIE) != anon_id:
        response.set_cookie(ANON_COOKIE, anon_id, max_age=ANON_COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                            secure=bool(request.is_secure))
    return response


@bp.get("/")
def home():
    """Signed in: For you (after picking communities once). Signed out: trending."""
    viewer, cursor = current_viewer(), request.args.get("cursor")
    if viewer:
        if needs_onboarding(viewer):
            return redirect(url_for("feeds.welcome"))
        return _for_you_page(viewer, cursor)
    page = services.trending_feed(viewer, cursor)
    return _render_feed("feeds/home.html", page, "trending", "feeds.home", {}, feed="trending")


def _for_you_page(viewer, cursor: str | None):
    """For you: cards from the shared card cache (app.feeds.cards), the reader's parts filled in per request;
    the whole first page is kept per reader for FORYOU_PAGE_SECONDS (app.feeds.pages)."""
    more = bool(request.headers.get("HX-Request") and cursor)
    offset = _position()
    # A page showing flash messages is neither served from nor kept (the messages are for this load only).
    keep = not cursor and offset == 0 and pages.page_seconds() > 0 and not pages.flashes_pending()
    fingerprint = pages.reader_fingerprint(viewer) if keep else ""
    kept = pages.kept_page(viewer.id, fingerprint) if keep else None
    if kept is not None:  # its cards' impressions were logged when it was built (app.feeds.pages)
        return kept.html()
    page = for_you_feed(viewer, cursor, with_posts=False)
    picks = [] if more else suggest_people(viewer, limit=6, hidden=page.hidden)
    # One describe for the cards and the people strip: names and titles are looked up once.
    texts = describe([card.reason for card in page.cards] + [reason for _user, reason in picks])
    shown = len(page.cards)
    reasons = dict(zip([card.post_id for card in page.cards], texts[:shown], strict=True))
    people = list(zip([user for user, _reason in picks], texts[shown:], strict=True))
    ids = [card.post_id for card in page.cards]
    cards_html = render_cards(page.cards, reasons, liked_by(viewer.id, ids), feedback=True)
    next_url = url_for("feeds.home", cursor=page.next_cursor, pos=offset + shown) if page.next_cursor else None
    if more:
        body = render_template("feeds/_more.html", posts=[], cards_html=cards_html, next_url=next_url,
                               state=None, reasons=reasons)
    else:
        inner = pages.squeeze(render_template("feeds/_feed_body.html", posts=[], cards_html=cards_html,
                                              next_url=next_url, state=None, feed="for_you", reasons=reasons,
                                              cold_start=page.cold_start, people=people))
        body = render_template("feeds/home.html", body_html=Markup(inner), feed="for_you")  # nosec B704
        if keep:
            body = pages.squeeze(body)
            pages.keep_page(viewer.id, fingerprint, body)
    record_impressions(ids, surface="for_you", request_id=new_request_id(), user_id=viewer.id, offset=offset,
                       model_version=page.model_version)
    return body


@bp.route("/welcome", methods=["GET", "POST"])
@login_required
def welcome():
    """Cold start: a new reader picks at least three communities before their first For-you page."""
    if request.method == "POST":
        try:
            complete_onboarding(current_user, request.form.getlist("community"))
        except Invalid as exc:
            flash(exc.message, "error")
        else:
            return redirect(url_for("feeds.home"))
    return render_template("feeds/welcome.html", communities=onboarding_choices(current_user),
                           chosen=set(request.form.getlist("community"))), 422 if request.method == "POST" else 200


@bp.post("/feedback")
@login_required
def feedback():
    """"Not interested" / "show fewer from this author / community" on a For-you card; remembered."""
    post_id = parse_id(request.form.get("post_id"))
    if post_id is None:
        raise Invalid(_("This note does not exist."))
    choice = give_feedback(current_user, request.form.get("kind", ""), post_id)
    if request.headers.get("HX-Request"):
        return render_template("feeds/_feedback_done.html", choice=choice)
    flash(_("Got it. Your feed will change."), "success")
    return redirect(url_for("feeds.home"))


@bp.post("/feedback/<id:feedback_id>/undo")
@login_required
def undo_feedback(feedback_id: int):
    remove_feedback(current_user, feedback_id)
    if request.headers.get("HX-Request"):
        return render_template("feeds/_feedback_undone.html")
    return redirect(url_for("feeds.home"))


@bp.get("/trending")
def trending():
    page = services.trending_feed(current_viewer(), request.args.get("cursor"))
    return _render_feed("feeds/home.html", page, "trending", "feeds.trending", {}, feed="trending")


def followed_group_card(viewer):
    from app.core.clock import now
    from app.groupbuy.services import avatars, followed_open_group

    group = followed_open_group(viewer)
    return {"group": group, "avatars": avatars([group]).get(group.id, []), "now": now()} if group else None


@bp.get("/following")
@login_required
def following():
    page = services.following_feed(current_user, request.args.get("cursor"))
    # At most one group-buy card per page: on the first page, the open group of someone followed that needs
    # the fewest seats (more pages come by htmx as plain note slices).
    group_card = None if request.args.get("cursor") else followed_group_card(current_user)
    return _render_feed("feeds/home.html", page, "following", "feeds.following", {}, feed="following",
                        group_card=group_card)


@bp.get("/c/<slug>")
def community(slug: str):
    from app.communities.services import get_community, membership_of

    community_ = get_community(slug)
    tab = request.args.get("tab", "hot")
    period = request.args.get("period", "week")
    page = services.community_feed(community_, tab, period, current_viewer(), request.args.get("cursor"))
    membership = membership_of(current_user, community_) if current_user.is_authenticated else None
    return _render_feed("feeds/community.html", page, "community", "feeds.community",
                        {"slug": slug, "tab": tab, "period": period},
                        community=community_, membership=membership, tab=tab, period=period,
                        periods=list(services.PERIODS))


@bp.get("/t/<name>")
def tag(name: str):
    tag_ = services.get_tag(name)
    tab = request.args.get("tab", "hot")
    page = services.tag_feed(tag_, tab, "all", current_viewer(), request.args.get("cursor"))
    return _render_feed("feeds/tag.html", page, "tag", "feeds.tag", {"name": tag_.name, "tab": tab},
                        tag=tag_, tab=tab)


@bp.get("/p/<id:post_id>/similar")
def similar(post_id: int):
    """'Similar notes' under a post (loaded by htmx when scrolled into view)."""
    from app.posts.services import ensure_can_view, get_post

    post = get_post(post_id)
    viewer = current_viewer()
    ensure_can_view(post, viewer)
    picks = similar_posts(post, viewer)
    posts = [p for p, _reason in picks]
    record_shown([p.id for p in posts], "similar", viewer, request.cookies.get(ANON_COOKIE))
    return render_template("feeds/_similar.html", posts=posts, reasons={p.id: r for p, r in picks},
                           state=viewer_state(posts, viewer.id if viewer else None))


@bp.get("/people/suggested")
@login_required
def suggested_people():
    """'People to follow' for the signed-in reader (a sidebar partial, or a page without htmx)."""
    limit = parse_whole_number(request.args.get("limit"), max_digits=6)
    people = people_to_follow(current_user, limit=min(20, max(1, limit)) if limit is not None else 6)
    template = "feeds/_people.html" if request.headers.get("HX-Request") else "feeds/people.html"
    return render_template(template, people=people)


@bp.get("/u/<username>")
def profile(username: str):
    """Profile: counts, follow/block buttons, the user's notes (cursor-paginated) and public collections."""
    user = get_user_by_username(username)
    viewer = current_user._get_current_object() if current_user.is_authenticated else None
    relation = relationship_between(viewer, user)
    cursor = request.args.get("cursor")
    # author_feed: published posts, newest first, card loads, empty when blocked either way.
    page = services.author_feed(user, viewer, cursor)
    if relation.is_blocked:
        page.items, page.next_cursor = [], None
    state = viewer_state(page.items, viewer.id if viewer else None)
    next_url = url_for("feeds.profile", username=user.username, cursor=page.next_cursor) \
        if page.next_cursor else None
    if request.headers.get("HX-Request") and cursor:
        return render_template("feeds/_more.html", posts=page.items, state=state, next_url=next_url)
    collections = collections_of(user, viewer)
    people = []
    if viewer is not None and not relation.is_blocked and not cursor:
        people = [(person, reason) for person, reason in people_to_follow(viewer, limit=5) if person.id != user.id][:4]
    return render_template("feeds/profile.html", user=user, relation=relation, posts=page.items, state=state,
                           next_url=next_url, collections=collections, first_page=not cursor, people=people)
