"""Build SearchDocuments from the database, a batch of ids at a time (a fixed number of queries per batch).

Each document type has one builder: `build(session, ids)` returns the documents that should be in the
index and the ids that should not (missing, removed, deleted, suspended, delisted).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from app.accounts.models import User
from app.communities.models import Community
from app.posts.models import STATUS_PUBLISHED, Post
from app.search.backend import DOC_COMMUNITY, DOC_POST, DOC_PRODUCT, DOC_USER, SearchDocument
from app.search.text import plain_text
from app.shop.models import (
    KEPT_STATUSES,
    Order,
    OrderLine,
    PostProduct,
    Product,
    Shop,
)
from app.shop.tags import product_ratings

BATCH = 500


def post_document(post: Post) -> SearchDocument:
    return SearchDocument(
        doc_type=DOC_POST, ref_id=post.id, title=post.title, body=plain_text(post.body_md),
        tags=" ".join(tag.name for tag in post.tags),
        names=" ".join(filter(None, (post.author.username, post.author.display_name, post.community.name))),
        community=post.community.slug, author_id=post.author_id, kind=post.kind, rating=post.rating,
        created_at=post.created_at, like_count=post.like_count or 0, save_count=post.save_count or 0,
        comment_count=post.comment_count or 0)


def product_document(product: Product, community: Community | None, rating: float | None, sold: int
                     ) -> SearchDocument:
    """A product as found by search: its options' labels count as tags, its shop and community as names."""
    on_sale = [sku for sku in product.skus if sku.is_active]
    return SearchDocument(
        doc_type=DOC_PRODUCT, ref_id=product.id, title=product.title, body=plain_text(product.description),
        tags=" ".join(sku.label for sku in on_sale if sku.label),
        names=" ".join(filter(None, (product.shop.name, community.name if community else None))),
        community=community.slug if community else None, author_id=product.shop.owner_id,
        rating=round(rating) if rating is not None else None, created_at=product.created_at, like_count=sold,
        price_cents=min((sku.price_cents for sku in on_sale), default=None),
        in_stock=any(sku.stock > 0 for sku in on_sale))


def community_document(community: Community) -> SearchDocument:
    return SearchDocument(
        doc_type=DOC_COMMUNITY, ref_id=community.id, title=community.name, body=plain_text(community.description),
        tags=" ".join((community.slug.replace("-", " "), community.vertical.replace("_", " "))),
        created_at=community.created_at, like_count=community.member_count or 0,
        comment_count=community.post_count or 0)


def user_document(user: User) -> SearchDocument:
    return SearchDocument(
        doc_type=DOC_USER, ref_id=user.id, title=" ".join(filter(None, (user.display_name, user.username))),
        body=plain_text(user.bio),
        names=user.username, author_id=user.id, created_at=user.created_at,
        like_count=user.follower_count or 0)


def _posts(session: Session, ids: list[int]) -> tuple[list[SearchDocument], list[int]]:
    rows = session.scalars(select(Post).where(Post.id.in_(ids)).options(
        selectinload(Post.author), selectinload(Post.community), selectinload(Post.tags))).all()
    docs = [post_document(post) for post in rows
            if post.status == STATUS_PUBLISHED and post.author.suspended_at is None]
    return docs, sorted(set(ids) - {doc.ref_id for doc in docs})


def _products(session: Session, ids: list[int]) -> tuple[list[SearchDocument], list[int]]:
    """Active products with an option on sale, of approved shops whose owner is not suspended (five queries
    per batch)."""
    rows = [product for product in session.scalars(
        select(Product).where(Product.id.in_(ids))
        .options(joinedload(Product.shop).joinedload(Shop.owner), selectinload(Product.skus)))
        if product.is_listed and product.shop.owner.suspended_at is None and any(sku.is_active for sku in product.skus)]
    shown = [product.id for product in rows]
    communities = {c.id: c for c in session.scalars(select(Community).where(
        Community.id.in_({product.community_id for product in rows if product.community_id})))}
    ratings = product_ratings(shown, session)
    sold = dict(session.execute(
        select(OrderLine.product_id, func.sum(OrderLine.quantity - OrderLine.refunded_quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id.in_(shown), Order.status.in_(KEPT_STATUSES))
        .group_by(OrderLine.product_id)).all()) if shown else {}
    docs = [product_document(product, communities.get(product.community_id), ratings[product.id].average,
                             int(sold.get(product.id) or 0)) for product in rows]
    return docs, sorted(set(ids) - set(shown))


def _communities(session: Session, ids: list[int]) -> tuple[list[SearchDocument], list[int]]:
    docs = [community_document(c) for c in session.scalars(select(Community).where(Community.id.in_(ids)))]
    return docs, sorted(set(ids) - {doc.ref_id for doc in docs})


def _users(session: Session, ids: list[int]) -> tuple[list[SearchDocument], list[int]]:
    docs = [user_document(user) for user in session.scalars(select(User).where(User.id.in_(ids)))
            if user.suspended_at is None and user.deleted_at is None]
    return docs, sorted(set(ids) - {doc.ref_id for doc in docs})


BUILDERS: dict[str, tuple[type, Callable[[Session, list[int]], tuple[list[SearchDocument], list[int]]]]] = {
    DOC_POST: (Post, _posts),
    DOC_PRODUCT: (Product, _products),
    DOC_COMMUNITY: (Community, _communities),
    DOC_USER: (User, _users),
}


def dependents(session: Session, doc_type: str, ids: list[int]) -> dict[str, list[int]]:
    """Documents whose contents follow from these: a product's rating from the reviews that rate it."""
    if doc_type != DOC_POST or not ids:
        return {}
    products = sorted(set(session.scalars(select(PostProduct.product_id).where(
        PostProduct.post_id.in_(ids), PostProduct.is_rated.is_(True)))))
    return {DOC_PRODUCT: products} if products else {}


def build_documents(session: Session, doc_type: str, ids: list[int]) -> tuple[list[SearchDocument], list[int]]:
    """(documents to write, ids to delete) for these ids of one type."""
    _model, builder = BUILDERS[doc_type]
    docs: list[SearchDocument] = []
    gone: list[int] = []
    for start in range(0, len(ids), BATCH):
        batch_docs, batch_gone = builder(session, ids[start:start + BATCH])
        docs += batch_docs
        gone += batch_gone
    return docs, gone


def all_documents(session: Session) -> Iterator[SearchDocument]:
    """Every document that belongs in the index, read in id-ordered batches (bounded memory)."""
    for _doc_type, (model, builder) in BUILDERS.items():
        last = 0
        while True:
            ids = list(session.scalars(select(model.id).where(model.id > last).order_by(model.id).limit(BATCH)))
            if not ids:
                break
            docs, _gone = builder(session, ids)
            yield from docs
            session.expunge_all()
            last = ids[-1]
