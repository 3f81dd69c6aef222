"""/search (results page) and /search/suggest (as-you-type list for the nav box, via htmx)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request
from sqlalchemy import select

from app.communities.models import Community
from app.core.auth import current_viewer
from app.core.errors import Invalid
from app.core.limits import account_key
from app.extensions import db, limiter
from app.posts.cards import viewer_state
from app.posts.models import Tag
from app.search import services

bp = Blueprint("search", __name__)

EMPTY_STATE_ITEMS = 6


def search_rate_limit() -> str:
    """One budget per visitor shared by the page and the API (scope "search")."""
    return current_app.config["SEARCH_RATE_LIMIT"]


def _starting_points() -> tuple[list[Community], list[Tag]]:
    """What the empty state suggests: the biggest communities and the most used tags (two queries)."""
    communities = list(db.session.scalars(select(Community).order_by(Community.member_count.desc(), Community.id)
                                          .limit(EMPTY_STATE_ITEMS)))
    tags = list(db.session.scalars(select(Tag).where(Tag.post_count > 0)
                                   .order_by(Tag.post_count.desc(), Tag.name).limit(EMPTY_STATE_ITEMS * 2)))
    return communities, tags


def live_prices(product_ids) -> dict[int, int]:
    """product id → its live group-buy price, shown beside the product (one query for the page)."""
    from app.groupbuy.services import live_prices as group_prices

    return group_prices(product_ids)


@bp.get("/search")
@limiter.shared_limit(search_rate_limit, scope="search", key_func=account_key)
def results():
    """Search results with type tabs, community facets, price filters for products, sorts, snippets and
    pagination."""
    viewer = current_viewer()
    error, error_field, status = None, None, 200
    try:
        params = services.parse_params(request.args, viewer)
        page = services.search(viewer, **params)
    except Invalid as exc:  # a bad link or a mistyped price: say what is wrong above an empty result page
        error, error_field, status = exc.message, next(iter(exc.errors), None), 400
        type_ = request.args.get("type") if request.args.get("type") in services.TYPES else "posts"
        sort = request.args.get("sort") if request.args.get("sort") in services.SORTS else \
            services.default_sort(viewer)
        page = services.SearchPage(
            query=services.parse_query(request.args.get("q", "")).text, type=type_, sort=sort, community=None,
            page=1, per_page=services.PER_PAGE, min_price=request.args.get("min_price", "")[:20],
            max_price=request.args.get("max_price", "")[:20])
    state = viewer_state(page.posts, viewer.id if viewer else None)
    communities, tags = _starting_points() if not page.results else ([], [])
    group_prices = live_prices([product.id for product in page.products]) if page.type == "products" else {}
    body = render_template("search/results.html", page=page, state=state, error=error, error_field=error_field,
                           sorts=services.SORTS, types=list(services.TYPES), starting_communities=communities,
                           starting_tags=tags, group_prices=group_prices)
    return body, status


@bp.get("/search/suggest")
@limiter.limit("120/minute", key_func=account_key)
def suggest():
    """A short list of matching posts, communities and people for the nav search box (an HTML fragment)."""
    suggestions = services.suggest(current_viewer(), request.args.get("q", ""))
    return render_template("search/_suggestions.html", suggestions=suggestions,
                           query=services.parse_query(request.args.get("q", "")).text)
