"""/api/v1/search: the same search as the page, as JSON (post cards, communities, people)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.accounts.schemas import UserSchema
from app.communities.schemas import CommunitySchema
from app.core.api_input import ApiBlueprint
from app.core.auth import current_viewer
from app.core.limits import account_key
from app.core.parsing import WholeNumber
from app.core.urls import external_url_for
from app.extensions import limiter
from app.posts.schemas import PostCardSchema, post_cards
from app.search import services
from app.search.text import MAX_QUERY_CHARS
from app.search.views import search_rate_limit

blp = ApiBlueprint("search_api", __name__, description="Search notes, products, communities and people")


class SearchArgsSchema(Schema):
    q = fields.String(required=True, validate=validate.Length(min=1, max=MAX_QUERY_CHARS * 25), metadata={
        "description": f"Words (Chinese and English may mix), \"quoted phrases\" and -excluded words. Only the "
                       f"first {MAX_QUERY_CHARS} characters count; other operators are ignored."})
    type = fields.String(load_default="posts", validate=validate.OneOf(list(services.TYPES)))
    community = fields.String(validate=validate.Length(max=40),
                              metadata={"description": "Slug: only posts in this community."})
    sort = fields.String(validate=validate.OneOf(services.SORTS), metadata={
        "description": "trusted (default when signed in: relevance blended with what people you follow liked, "
                       "saved and commented), relevant (default signed out), new, top."})
    min_price = fields.String(load_default="", validate=validate.Length(max=20), metadata={
        "description": "Products only: the lowest price in yuan (e.g. 99 or 99.50), compared with a product's "
                       "cheapest option on sale."})
    max_price = fields.String(load_default="", validate=validate.Length(max=20),
                              metadata={"description": "Products only: the highest price in yuan."})
    in_stock = fields.Boolean(load_default=False, metadata={"description": "Products only: only those in stock."})
    page = WholeNumber(load_default=1, validate=validate.Range(min=1, max=services.MAX_PAGE))
    per_page = WholeNumber(load_default=services.PER_PAGE, validate=validate.Range(min=1, max=services.MAX_PER_PAGE))


class ProductResultSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    shop = fields.Dict(keys=fields.String(), values=fields.String(), metadata={"description": "slug and name"})
    price_min_cents = fields.Integer(allow_none=True, metadata={"description": "Cheapest option on sale."})
    price_max_cents = fields.Integer(allow_none=True)
    currency = fields.String()
    in_stock = fields.Boolean()
    rating = fields.Float(allow_none=True, metadata={"description": "Average stars of the reviews that rate it."})
    review_count = fields.Integer()
    image_url = fields.String(allow_none=True)


class SearchItemSchema(Schema):
    type = fields.String(metadata={"description": "post, product, community or user."})
    title_html = fields.String(metadata={"description": "Title with matches in <mark>; everything else escaped."})
    snippet_html = fields.String(metadata={"description": "Part of the text around the first match, escaped, "
                                                          "matches in <mark>."})
    reason = fields.String(allow_none=True, metadata={"description": "Why it ranks here (sort=trusted)."})
    url = fields.String()
    post = fields.Nested(PostCardSchema, allow_none=True)
    product = fields.Nested(ProductResultSchema, allow_none=True)
    community = fields.Nested(CommunitySchema, allow_none=True)
    user = fields.Nested(UserSchema, allow_none=True)


class CommunityFacetSchema(Schema):
    slug = fields.String()
    name = fields.String()
    count = fields.Integer()


class SearchPageSchema(Schema):
    query = fields.String(metadata={"description": "The query as searched (cleaned and shortened)."})
    type = fields.String()
    sort = fields.String()
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    total_exact = fields.Boolean(metadata={"description": "False when the search stopped counting early "
                                                          "(a slow query): then `total` is a lower bound."})
    has_next = fields.Boolean()
    any_term = fields.Boolean(metadata={"description": "No result had every word; these have some of them."})
    did_you_mean = fields.String(allow_none=True)
    type_counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    communities = fields.List(fields.Nested(CommunityFacetSchema))
    items = fields.List(fields.Nested(SearchItemSchema))


def _item(result: services.Result, card) -> dict:
    item = {"type": result.doc_type, "title_html": str(result.title), "snippet_html": str(result.snippet),
            "reason": result.reason, "post": None, "product": None, "community": None, "user": None}
    if result.doc_type == "post":
        item.update(post=card, url=external_url_for("posts.detail", post_id=result.obj.id))
    elif result.doc_type == "product":
        item.update(product=_product(result), url=external_url_for("shop.product", product_id=result.obj.id))
    elif result.doc_type == "community":
        item.update(community=result.obj, url=external_url_for("feeds.community", slug=result.obj.slug))
    else:
        item.update(user=result.obj, url=external_url_for("feeds.profile", username=result.obj.username))
    return item


def _product(result: services.Result) -> dict:
    product = result.obj
    on_sale = [sku for sku in product.skus if sku.is_active]
    prices = [sku.price_cents for sku in on_sale]
    cover = product.images[0].path if product.images else None
    return {"id": product.id, "title": product.title, "shop": {"slug": product.shop.slug, "name": product.shop.name},
            "price_min_cents": min(prices, default=None), "price_max_cents": max(prices, default=None),
            "currency": on_sale[0].currency if on_sale else services.PRICE_CURRENCY, "in_stock": product.in_stock,
            "rating": result.rating.average if result.rating else None,
            "review_count": result.rating.count if result.rating else 0,
            "image_url": external_url_for("core.media", relative=cover) if cover else None}


@blp.get("/search")
@limiter.shared_limit(search_rate_limit, scope="search", key_func=account_key)
@blp.arguments(SearchArgsSchema, location="query")
@blp.response(200, SearchPageSchema)
def search(args: dict):
    """Search notes, products, communities or people; pages of up to 50, at most 50 pages deep."""
    viewer = current_viewer()
    page = services.search(viewer, args["q"], type=args["type"], community=args.get("community"),
                           sort=args.get("sort"), page=args["page"], per_page=args["per_page"],
                           min_price=args["min_price"], max_price=args["max_price"], in_stock=args["in_stock"])
    cards = {view.id: view for view in post_cards(page.posts, viewer)}
    return {
        "query": page.query, "type": page.type, "sort": page.sort, "page": page.page, "per_page": page.per_page,
        "total": page.total, "total_exact": page.total_exact, "has_next": page.has_next,
        "any_term": page.any_term, "did_you_mean": page.did_you_mean, "type_counts": page.type_counts,
        "communities": [{"slug": c.slug, "name": c.name, "count": n} for c, n in page.community_counts],
        "items": [_item(result, cards.get(result.obj.id) if result.doc_type == "post" else None)
                  for result in page.results],
    }
