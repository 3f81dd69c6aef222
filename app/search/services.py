"""Search for the page and the API: parse, ask the backend, load the rows, re-rank, highlight.

The backend returns ids; this module loads each page's rows in a fixed number of queries, drops anything
that is no longer visible (removed or deleted posts, suspended people, blocks either way — the index may
lag a moment behind the database), applies sort=trusted (app.search.ranking) and builds sanitized
snippets. When all words together find nothing, it retries with any word; when a word is not in the
index it offers "did you mean". Before any of that, each word gets its bilingual synonyms as alternatives
(app.search.synonyms: 防晒 also finds "sunscreen"), from the searched community's vertical or from all.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from app.accounts.models import User
from app.communities.models import Community
from app.core.errors import Invalid
from app.core.money import parse_amount
from app.core.parsing import parse_whole_number
from app.extensions import db
from app.posts.cards import card_load_options
from app.posts.models import STATUS_PUBLISHED, Post
from app.search import get_backend, synonyms
from app.search.backend import (
    COMMUNITY_TYPES,
    DOC_COMMUNITY,
    DOC_POST,
    DOC_PRODUCT,
    DOC_USER,
    SORT_RELEVANT,
    SearchHit,
    SearchQuery,
    SearchResults,
)
from app.search.ranking import TRUSTED_WINDOW, product_reason, reason_for, rerank, rerank_products
from app.search.text import ParsedQuery, highlight, parse_query, plain_text
from app.shop.models import Product, Shop
from app.shop.tags import ProductRating, product_ratings
from app.social.blocks import hidden_user_ids

TYPES = {"posts": DOC_POST, "products": DOC_PRODUCT, "communities": DOC_COMMUNITY, "users": DOC_USER}
PRICE_CURRENCY = "CNY"  # price filters are in the storefront's currency
SORT_TRUSTED = "trusted"
SORTS = (SORT_TRUSTED, SORT_RELEVANT, "new", "top")
PER_PAGE, MAX_PER_PAGE = 20, 50
MAX_PAGE = 50  # 1 000 results deep is enough; deeper pages cost the backend more than they are worth
SUGGESTIONS = 8
COMMUNITY_FACETS = 8
FEW_RESULTS = 3  # with fewer hits than this, look for a spelling correction


@dataclass
class Result:
    doc_type: str
    obj: Post | Product | Community | User
    title: Markup
    snippet: Markup
    reason: str | None = None
    rating: ProductRating | None = None  # products


@dataclass
class SearchPage:
    query: str
    type: str
    sort: str
    community: str | None
    page: int
    per_page: int
    min_price: str = ""  # as typed (products)
    max_price: str = ""
    in_stock: bool = False
    total: int = 0
    results: list[Result] = field(default_factory=list)
    type_counts: dict[str, int] = field(default_factory=dict)
    community_counts: list[tuple[Community, int]] = field(default_factory=list)
    did_you_mean: str | None = None
    any_term: bool = False  # no result had every word, so these have some of them
    truncated: bool = False
    total_exact: bool = True  # False: the search stopped counting early and `total` is "at least"

    @property
    def has_next(self) -> bool:
        return self.page < MAX_PAGE and self.page * self.per_page < self.total

    @property
    def posts(self) -> list[Post]:
        return [result.obj for result in self.results if result.doc_type == DOC_POST]

    @property
    def products(self) -> list[Product]:
        return [result.obj for result in self.results if result.doc_type == DOC_PRODUCT]

    @property
    def reasons(self) -> dict[int, str]:
        return {r.obj.id: r.reason for r in self.results if r.doc_type == DOC_POST and r.reason}

    @property
    def snippets(self) -> dict[int, Markup]:
        return {r.obj.id: r.snippet for r in self.results if r.doc_type == DOC_POST and r.snippet}


def default_sort(viewer: User | None) -> str:
    return SORT_TRUSTED if viewer is not None else SORT_RELEVANT


def _positive_int(raw, name: str, maximum: int) -> int:
    number = parse_whole_number(raw, maximum=maximum, max_digits=6)
    if not number:
        message = _("%(name)s must be a whole number from 1 to %(max)d.", name=name, max=maximum)
        raise Invalid(message, {name: [message]})
    return number


def parse_params(args: Mapping, viewer: User | None) -> dict:
    """Read q, type, community, sort, page and per_page from a query string; bad values are Invalid."""
    type_ = args.get("type") or "posts"
    if type_ not in TYPES:
        message = _("Search notes, products, communities or people.")
        raise Invalid(message, {"type": [message]})
    sort = args.get("sort") or default_sort(viewer)
    if sort not in SORTS:
        message = _("Sort by trusted, relevant, new or top.")
        raise Invalid(message, {"sort": [message]})
    page = _positive_int(args.get("page") or 1, "page", MAX_PAGE)
    per_page = _positive_int(args.get("per_page") or PER_PAGE, "per_page", MAX_PER_PAGE)
    community = (args.get("community") or "").strip().lower()[:40] or None
    min_price, max_price = (str(args.get(name) or "").strip()[:20] for name in ("min_price", "max_price"))
    price_bounds(min_price, max_price)  # checked here so a bad price is a 400, whatever the type
    in_stock = str(args.get("in_stock") or "").strip().lower() in ("1", "true", "on", "yes")
    return {"q": args.get("q") or "", "type": type_, "sort": sort, "page": page, "per_page": per_page,
            "community": community, "min_price": min_price, "max_price": max_price, "in_stock": in_stock}


def price_bounds(min_price: str, max_price: str) -> tuple[int | None, int | None]:
    """The price filters as minor units (None: no bound); amounts that are not prices are Invalid."""
    bounds = []
    for name, text in (("min_price", min_price), ("max_price", max_price)):
        cents = parse_amount(text, PRICE_CURRENCY) if text else None
        if text and (cents is None or cents > 10**11):
            message = _("Enter a price of zero or more, like 99 or 99.50.")
            raise Invalid(message, {name: [message]})
        bounds.append(cents)
    low, high = bounds
    if low is not None and high is not None and low > high:
        message = _("The lowest price is above the highest.")
        raise Invalid(message, {"min_price": [message]})
    return low, high


def search(viewer: User | None, q: str, type: str = "posts", community: str | None = None,
           sort: str | None = None, page: int = 1, per_page: int = PER_PAGE, min_price: str = "",
           max_price: str = "", in_stock: bool = False) -> SearchPage:
    """One page of results for `viewer` (None when signed out). Prices are as typed, in yuan."""
    sort = sort or default_sort(viewer)
    parsed = synonyms.expand(parse_query(q), _vertical_of(community))
    doc_type = TYPES[type]
    low, high = price_bounds(min_price, max_price)
    result = SearchPage(query=parsed.text, type=type, sort=sort, community=community, page=page,
                        per_page=per_page, min_price=min_price, max_price=max_price, in_stock=in_stock,
                        truncated=parsed.truncated)
    if parsed.empty:
        return result
    hidden = frozenset(hidden_user_ids(viewer.id if viewer else None))
    trusted = sort == SORT_TRUSTED and viewer is not None and doc_type in (DOC_POST, DOC_PRODUCT)
    backend_sort = SORT_RELEVANT if sort == SORT_TRUSTED else sort
    in_window = trusted and page * per_page <= TRUSTED_WINDOW
    offset, limit = (0, TRUSTED_WINDOW) if in_window else ((page - 1) * per_page, per_page)
    query = SearchQuery(parsed, doc_type=doc_type, community=community, sort=backend_sort, offset=offset,
                        limit=limit, exclude_author_ids=hidden, facets=True, min_price_cents=low,
                        max_price_cents=high, in_stock_only=in_stock)
    backend = get_backend()
    found = backend.search(query)
    if found.total == 0 and len(parsed.must) > 1 and not parsed.phrases:
        query.any_term = True
        found = backend.search(query)
        result.any_term = found.total > 0
    result.total = found.total
    result.total_exact = found.total_exact
    result.type_counts = _type_counts(found, community)
    result.community_counts = _community_facets(found.community_counts.get(doc_type, {}))
    terms = parsed.highlight_terms
    if in_window and viewer is not None and doc_type == DOC_PRODUCT:
        result.results = _trusted_products(found.hits, hidden, viewer.id, page, per_page, terms)
    elif in_window and viewer is not None:
        result.results = _trusted_page(found.hits, hidden, viewer.id, page, per_page, terms)
    else:
        rows = _load(found.hits, hidden)
        result.results = [_result(hit.doc_type, rows[(hit.doc_type, hit.ref_id)], terms)
                          for hit in found.hits if (hit.doc_type, hit.ref_id) in rows]
        _add_ratings(result.results)
    if result.total < FEW_RESULTS or result.any_term:
        result.did_you_mean = _did_you_mean(parsed, query)
    return result


def _vertical_of(slug: str | None) -> str | None:
    """The vertical whose synonyms a search in this community uses (None: every vertical's)."""
    if not slug:
        return None
    return db.session.scalar(select(Community.vertical).where(Community.slug == slug))


def _trusted_page(hits: list[SearchHit], hidden: frozenset[int], viewer_id: int, page: int, per_page: int,
                  terms: set[str]) -> list[Result]:
    """Re-rank the TRUSTED_WINDOW best text matches by social proof, then load and highlight one page.

    The candidates need only a few columns to be ranked; full card rows (author, images, community) and
    snippets are built for the page actually shown.
    """
    ids = [hit.ref_id for hit in hits if hit.doc_type == DOC_POST]
    visible = (select(Post.id, Post.author_id, Post.community_id, Post.created_at)
               .join(User, User.id == Post.author_id)
               .where(Post.id.in_(ids), Post.status == STATUS_PUBLISHED, User.suspended_at.is_(None)))
    if hidden:
        visible = visible.where(Post.author_id.not_in(sorted(hidden)))
    candidates = {row.id: row for row in db.session.execute(visible)} if ids else {}
    scored = [(candidates[hit.ref_id], hit.score) for hit in hits
              if hit.doc_type == DOC_POST and hit.ref_id in candidates]
    start = (page - 1) * per_page
    ranked = rerank(scored, viewer_id)[start:start + per_page]
    posts = {post.id: post for post in db.session.scalars(
        select(Post).where(Post.id.in_([row.id for row, _score, _signals in ranked])).options(*card_load_options()))}
    return [_result(DOC_POST, posts[row.id], terms, reason_for(posts[row.id], signals))
            for row, _score, signals in ranked if row.id in posts]


def _trusted_products(hits: list[SearchHit], hidden: frozenset[int], viewer_id: int, page: int, per_page: int,
                      terms: set[str]) -> list[Result]:
    """The product counterpart of _trusted_page: re-rank the best text matches by what followees bought,
    reviewed and featured, and by their reviews' stars."""
    rows = _load([hit for hit in hits if hit.doc_type == DOC_PRODUCT], hidden)
    scored = [(rows[(DOC_PRODUCT, hit.ref_id)], hit.score) for hit in hits if (DOC_PRODUCT, hit.ref_id) in rows]
    start = (page - 1) * per_page
    ranked = rerank_products(scored, viewer_id)[start:start + per_page]
    results = []
    for product, _value, signal in ranked:
        result = _result(DOC_PRODUCT, product, terms, product_reason(signal))
        result.rating = ProductRating(signal.rating, signal.reviews)
        results.append(result)
    return results


def _add_ratings(results: list[Result]) -> None:
    ratings = product_ratings([result.obj.id for result in results if result.doc_type == DOC_PRODUCT])
    for result in results:
        if result.doc_type == DOC_PRODUCT:
            result.rating = ratings[result.obj.id]


def _type_counts(found: SearchResults, community: str | None) -> dict[str, int]:
    counts = {name: found.type_counts.get(doc_type, 0) for name, doc_type in TYPES.items()}
    if community:  # the types that live in communities count what the community filter leaves
        for name, doc_type in TYPES.items():
            if doc_type in COMMUNITY_TYPES:
                counts[name] = found.community_counts.get(doc_type, {}).get(community, 0)
    return counts


def _community_facets(counts: dict[str, int]) -> list[tuple[Community, int]]:
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:COMMUNITY_FACETS]
    if not top:
        return []
    by_slug = {c.slug: c for c in db.session.scalars(select(Community).where(Community.slug.in_([s for s, _ in top])))}
    return [(by_slug[slug], count) for slug, count in top if slug in by_slug]


def _load(hits: list[SearchHit], hidden: frozenset[int]) -> dict[tuple[str, int], object]:
    """The rows behind a list of hits, one query per type, without anything the viewer may not see."""
    ids: dict[str, list[int]] = {}
    for hit in hits:
        ids.setdefault(hit.doc_type, []).append(hit.ref_id)
    rows: dict[tuple[str, int], object] = {}
    if ids.get(DOC_POST):
        for post in db.session.scalars(select(Post).where(Post.id.in_(ids[DOC_POST])).options(*card_load_options())):
            if post.status == STATUS_PUBLISHED and post.author_id not in hidden and post.author.suspended_at is None:
                rows[(DOC_POST, post.id)] = post
    if ids.get(DOC_PRODUCT):
        for product in db.session.scalars(select(Product).where(Product.id.in_(ids[DOC_PRODUCT]))
                                          .options(joinedload(Product.shop).joinedload(Shop.owner),
                                                   selectinload(Product.skus), selectinload(Product.images))):
            shop = product.shop
            if product.is_listed and shop.owner_id not in hidden and shop.owner.suspended_at is None:
                product.in_stock = any(sku.is_active and sku.stock > 0 for sku in product.skus)
                rows[(DOC_PRODUCT, product.id)] = product
    if ids.get(DOC_COMMUNITY):
        for community in db.session.scalars(select(Community).where(Community.id.in_(ids[DOC_COMMUNITY]))):
            rows[(DOC_COMMUNITY, community.id)] = community
    if ids.get(DOC_USER):
        for user in db.session.scalars(select(User).where(User.id.in_(ids[DOC_USER]))):
            if user.id not in hidden and user.is_active:
                rows[(DOC_USER, user.id)] = user
    return rows


def _result(doc_type: str, obj, terms: set[str], reason: str | None = None) -> Result:
    if doc_type == DOC_POST:
        title, body = obj.title, plain_text(obj.body_md)
    elif doc_type == DOC_PRODUCT:
        title, body = obj.title, plain_text(obj.description)
    elif doc_type == DOC_COMMUNITY:
        title, body = obj.name, plain_text(obj.description)
    else:
        title, body = obj.name, plain_text(obj.bio)
    return Result(doc_type, obj, highlight(title, terms, width=max(len(title), 1)),
                  highlight(body, terms) if body else Markup(""), reason)


def _did_you_mean(parsed: ParsedQuery, query: SearchQuery) -> str | None:
    """The query with misspelt English words corrected, if that finds something."""
    fixes = get_backend().corrections(parsed.words)
    if not fixes:
        return None
    corrected = parsed.text
    for wrong, right in fixes.items():
        corrected = re.sub(rf"(?i)\b{re.escape(wrong)}\b", right, corrected)
    if corrected.casefold() == parsed.text.casefold():
        return None
    check = SearchQuery(parse_query(corrected), doc_type=None, limit=1, exclude_author_ids=query.exclude_author_ids)
    return corrected if get_backend().search(check).hits else None


@dataclass
class Suggestion:
    doc_type: str
    obj: Post | Community | User
    label: Markup


SUGGESTED_PRODUCTS = 3  # as-you-type keeps room for this many products among the SUGGESTIONS


def suggest(viewer: User | None, q: str) -> list[Suggestion]:
    """As-you-type: up to eight notes, products, communities and people whose title or name matches what was
    typed (synonyms included), at most SUGGESTED_PRODUCTS of them products, and no title twice."""
    parsed = synonyms.expand(parse_query(q, prefix=True))
    if parsed.empty:
        return []
    hidden = frozenset(hidden_user_ids(viewer.id if viewer else None))
    backend = get_backend()
    hits = backend.suggest(parsed, SUGGESTIONS * 3, hidden)
    # Products by the whole words typed (so their synonyms count too), then by the last word as a prefix.
    words = synonyms.expand(parse_query(q))
    for product_query in ((words, parsed) if not words.empty else (parsed,)):
        seen_keys = {(hit.doc_type, hit.ref_id) for hit in hits}
        hits += [hit for hit in backend.search(SearchQuery(
            product_query, doc_type=DOC_PRODUCT, limit=SUGGESTED_PRODUCTS * 2, exclude_author_ids=hidden)).hits
            if (hit.doc_type, hit.ref_id) not in seen_keys]
    rows = _load(hits, hidden)
    terms = parsed.highlight_terms | ({parsed.prefix} if parsed.prefix else set())
    others: list[Suggestion] = []
    products: list[Suggestion] = []
    seen_labels: set[str] = set()
    for hit in hits:
        obj = rows.get((hit.doc_type, hit.ref_id))
        if obj is None:
            continue
        if hit.doc_type in (DOC_POST, DOC_PRODUCT):
            label = obj.title
        elif hit.doc_type == DOC_COMMUNITY:
            label = obj.name
        else:
            label = f"{obj.name} (@{obj.username})"
        key = " ".join(label.casefold().split())
        if key in seen_labels:
            continue  # the same title twice (two notes called alike) reads as a glitch
        seen_labels.add(key)
        suggestion = Suggestion(hit.doc_type, obj, _prefix_highlight(label, terms))
        (products if hit.doc_type == DOC_PRODUCT else others).append(suggestion)
    products = products[:SUGGESTED_PRODUCTS]
    chosen = others[:SUGGESTIONS - len(products)] + products
    return chosen + others[len(chosen) - len(products):][:SUGGESTIONS - len(chosen)]


def _prefix_highlight(label: str, terms: set[str]) -> Markup:
    """Like highlight(), but a word starting with the typed prefix counts as a match too."""
    marked = highlight(label, terms, width=len(label) or 1)
    if "<mark>" in marked:
        return marked
    for term in terms:
        match = re.search(rf"(?i)\b{re.escape(term)}", label)
        if match:
            return Markup("{}<mark>{}</mark>{}").format(label[:match.start()], match.group(0), label[match.end():])
    return escape(label)
