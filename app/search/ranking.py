"""sort=trusted: text relevance blended with social proof from the people the reader follows.

For each candidate post (the best TRUSTED_WINDOW text matches):

    rel      = text score / best text score among the candidates           (0, 1]
    F        = followees who liked + 2 × followees who saved + 1.5 × followees who commented
    social   = F / (F + 2)                                                  0 … 1 (½ at F = 2)
    standing = 1 if the author moderates or owns the post's community,
               else L / (L + 50), L = likes on the author's published posts there
    fresh    = 0.5 ^ (age in days / 30)                                     (halves every 30 days)

    trusted  = rel × (1 + 1.5·social + 0.5·standing + 0.5·fresh)

Relevance multiplies everything, so social proof re-orders good matches but never lifts a poor match
above a clearly better one by much more than 3.5×. The signals for the whole candidate list come from
five batched queries (likes, saves, comments by followees; author likes per community; moderators),
however many candidates there are.

Products (type=products) blend the same way, with what the followees did with the product itself:

    F        = 2 × followees who bought it (paid, not fully refunded) + 1.5 × followees whose review rates it
               + followees whose note features it
    social   = F / (F + 2)
    quality  = (average stars / 5) × n / (n + 5), n = reviews that rate it  (few reviews count for less)
    stock    = 1 if some option is in stock, else 0

    trusted  = rel × (1 + 1.5·social + 0.5·quality + 0.25·stock)

in four batched queries (purchases, reviews and notes by followees; ratings).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from app.communities.models import ROLE_MODERATOR, ROLE_OWNER, Membership
from app.core.clock import now
from app.extensions import db
from app.posts.models import STATUS_PUBLISHED, Comment, Like, Post, Save
from app.social.models import Follow

TRUSTED_WINDOW = 100  # candidates re-ranked; later pages fall back to text relevance
SOCIAL_WEIGHT, STANDING_WEIGHT, FRESH_WEIGHT = 1.5, 0.5, 0.5
STANDING_HALF = 50  # likes in a community that make an author's standing ½
FRESH_HALF_LIFE_DAYS = 30
POPULAR_AUTHOR_LIKES = 20  # standing worth mentioning in the reason line
QUALITY_WEIGHT, STOCK_WEIGHT = 0.5, 0.25
QUALITY_HALF = 5  # reviews that make a product's rating count half
RATED_REASON_MIN = 3  # reviews before "rated 4.5 by 12 reviewers" is worth saying


@dataclass
class Signals:
    liked: int = 0
    saved: int = 0
    commented: int = 0
    author_likes: int = 0
    moderator: bool = False

    @property
    def followee_weight(self) -> float:
        return self.liked + 2 * self.saved + 1.5 * self.commented


def social_signals(viewer_id: int, posts: list[Post]) -> dict[int, Signals]:
    """Signals for each post (id, author_id, community_id), in five queries whatever the number of posts."""
    ids = [post.id for post in posts]
    signals = {post_id: Signals() for post_id in ids}
    if not ids:
        return signals
    followees = select(Follow.followee_id).where(Follow.follower_id == viewer_id).scalar_subquery()
    for model, user_column, attribute in ((Like, Like.user_id, "liked"), (Save, Save.user_id, "saved"),
                                          (Comment, Comment.author_id, "commented")):
        statement = (select(model.post_id, func.count(func.distinct(user_column)))
                     .where(model.post_id.in_(ids), user_column.in_(followees)))
        if model is Comment:
            statement = statement.where(Comment.status == STATUS_PUBLISHED)
        for post_id, count in db.session.execute(statement.group_by(model.post_id)):
            setattr(signals[post_id], attribute, count)
    authors = {post.author_id for post in posts}
    communities = {post.community_id for post in posts}
    likes = {(author, community): int(total or 0) for author, community, total in db.session.execute(
        select(Post.author_id, Post.community_id, func.sum(Post.like_count))
        .where(Post.author_id.in_(authors), Post.community_id.in_(communities), Post.status == STATUS_PUBLISHED)
        .group_by(Post.author_id, Post.community_id))}
    moderators = set(tuple(row) for row in db.session.execute(
        select(Membership.user_id, Membership.community_id)
        .where(Membership.user_id.in_(authors), Membership.community_id.in_(communities),
               Membership.role.in_((ROLE_MODERATOR, ROLE_OWNER)))).all())
    for post in posts:
        signal = signals[post.id]
        signal.author_likes = likes.get((post.author_id, post.community_id), 0)
        signal.moderator = (post.author_id, post.community_id) in moderators
    return signals


def trusted_score(relevance: float, signal: Signals, age_days: float) -> float:
    """The blend documented at the top of this module."""
    weight = signal.followee_weight
    social = weight / (weight + 2)
    standing = 1.0 if signal.moderator else signal.author_likes / (signal.author_likes + STANDING_HALF)
    fresh = 0.5 ** (max(0.0, age_days) / FRESH_HALF_LIFE_DAYS)
    return relevance * (1 + SOCIAL_WEIGHT * social + STANDING_WEIGHT * standing + FRESH_WEIGHT * fresh)


def rerank(posts_with_scores: list[tuple[Post, float]], viewer_id: int) -> list[tuple[Post, float, Signals]]:
    """Order (post, text score) pairs by the trusted score, best first; stable for ties.

    A "post" needs only id, author_id, community_id and created_at (a Post, or a row of those columns).
    """
    posts = [post for post, _score in posts_with_scores]
    signals = social_signals(viewer_id, posts)
    best = max((score for _post, score in posts_with_scores), default=0.0) or 1.0
    moment = now()
    scored = []
    for position, (post, score) in enumerate(posts_with_scores):
        age_days = (moment - post.created_at).total_seconds() / 86400 if post.created_at else 365.0
        scored.append((trusted_score(score / best, signals[post.id], age_days), -position, post, signals[post.id]))
    scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
    return [(post, value, signal) for value, _pos, post, signal in scored]


def reason_for(post: Post, signal: Signals) -> str | None:
    """The line under a result saying why it ranks where it does (None when nothing social applies)."""
    if signal.saved:
        return ngettext("%(num)d person you follow saved this", "%(num)d people you follow saved this",
                        signal.saved)
    if signal.liked:
        return ngettext("%(num)d person you follow liked this", "%(num)d people you follow liked this",
                        signal.liked)
    if signal.commented:
        return ngettext("%(num)d person you follow commented on this",
                        "%(num)d people you follow commented on this", signal.commented)
    if signal.moderator:
        return _("By a moderator of %(community)s", community=post.community.name)
    if signal.author_likes >= POPULAR_AUTHOR_LIKES:
        return _("Popular author in %(community)s", community=post.community.name)
    return None


# --- products ---------------------------------------------------------------------------------------------

@dataclass
class ProductSignals:
    bought: int = 0
    reviewed: int = 0
    featured: int = 0
    rating: float | None = None
    reviews: int = 0
    in_stock: bool = False

    @property
    def followee_weight(self) -> float:
        return 2 * self.bought + 1.5 * self.reviewed + self.featured


def product_signals(viewer_id: int, products: list) -> dict[int, ProductSignals]:
    """Signals for each product (an object with id and in_stock), in four queries whatever their number."""
    from app.shop.models import KEPT_STATUSES, Order, OrderLine, PostProduct
    from app.shop.tags import product_ratings

    ids = [product.id for product in products]
    signals = {product.id: ProductSignals(in_stock=bool(product.in_stock)) for product in products}
    if not ids:
        return signals
    followees = select(Follow.followee_id).where(Follow.follower_id == viewer_id).scalar_subquery()
    bought = (select(OrderLine.product_id, func.count(func.distinct(Order.buyer_id)))
              .join(Order, Order.id == OrderLine.order_id)
              .where(OrderLine.product_id.in_(ids), Order.buyer_id.in_(followees), Order.status.in_(KEPT_STATUSES))
              .group_by(OrderLine.product_id))
    for product_id, count in db.session.execute(bought):
        signals[product_id].bought = count
    tagged = (select(PostProduct.product_id, PostProduct.is_rated, func.count(func.distinct(Post.author_id)))
              .join(Post, Post.id == PostProduct.post_id)
              .where(PostProduct.product_id.in_(ids), Post.author_id.in_(followees), Post.status == STATUS_PUBLISHED)
              .group_by(PostProduct.product_id, PostProduct.is_rated))
    for product_id, rated, count in db.session.execute(tagged):
        if rated:
            signals[product_id].reviewed += count
        else:
            signals[product_id].featured += count
    for product_id, rating in product_ratings(ids).items():
        signals[product_id].rating, signals[product_id].reviews = rating.average, rating.count
    return signals


def trusted_product_score(relevance: float, signal: ProductSignals) -> float:
    """The product blend documented at the top of this module."""
    weight = signal.followee_weight
    social = weight / (weight + 2)
    quality = (signal.rating or 0) / 5 * signal.reviews / (signal.reviews + QUALITY_HALF)
    return relevance * (1 + SOCIAL_WEIGHT * social + QUALITY_WEIGHT * quality + STOCK_WEIGHT * signal.in_stock)


def rerank_products(products_with_scores: list[tuple], viewer_id: int) -> list[tuple]:
    """Order (product, text score) pairs by the trusted product score, best first; stable for ties."""
    signals = product_signals(viewer_id, [product for product, _score in products_with_scores])
    best = max((score for _product, score in products_with_scores), default=0.0) or 1.0
    scored = sorted(((trusted_product_score(score / best, signals[product.id]), -position, product)
                     for position, (product, score) in enumerate(products_with_scores)),
                    key=lambda item: (item[0], item[1]), reverse=True)
    return [(product, value, signals[product.id]) for value, _pos, product in scored]


def product_reason(signal: ProductSignals) -> str | None:
    """Why a product ranks where it does."""
    if signal.bought:
        return ngettext("%(num)d person you follow bought this", "%(num)d people you follow bought this",
                        signal.bought)
    if signal.reviewed:
        return ngettext("%(num)d person you follow reviewed this", "%(num)d people you follow reviewed this",
                        signal.reviewed)
    if signal.featured:
        return ngettext("Featured in a note by %(num)d person you follow",
                        "Featured in notes by %(num)d people you follow", signal.featured)
    if signal.rating is not None and signal.reviews >= RATED_REASON_MIN:
        return ngettext("Rated %(rating)s by %(num)d reviewer", "Rated %(rating)s by %(num)d reviewers",
                        signal.reviews, rating=f"{signal.rating:.1f}")
    return None
