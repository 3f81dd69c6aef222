"""Demo moderation: moderators on every community (the demo `moderator` owns Trailhead and moderates Glow Lab
and Food Hunters), a queue with real-looking reports of every kind, a log with removals, restorations, bans,
warnings and pins, an appeal waiting for the demo moderator, Editor's picks and curated collections.

Everything goes through the moderation services (so the log, notifications and counters are what real use
makes); only timestamps are moved back afterwards so the queue and the log read like a few weeks of work.
Does nothing when the log already has rows.
"""
from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import func, select, update

from app.accounts.models import User
from app.communities import services as communities
from app.communities.models import ROLE_MEMBER, ROLE_MODERATOR, Community, Membership
from app.core.clock import now
from app.core.errors import DomainError
from app.core.uow import unit_of_work
from app.extensions import db
from app.moderation import actions, curation, reports
from app.moderation.models import Appeal, ModAction, QueueItem, Report
from app.posts.models import STATUS_PUBLISHED, Comment, Post
from app.shop.models import Product, Shop, ShopStatus

DEMO_MODERATES = ("trailhead", "glow", "food-hunters")  # the demo moderator's communities (owner of trailhead)
REASONS_BY_COMMUNITY = {
    "glow": "Spam or self-promotion / 广告或自我推广\nNo proof of use / 没有真实使用体验\n"
            "Undisclosed gifted product / 未标注赠品\nMedical claims without source / 无依据的功效宣称",
    "trailhead": "Unsafe advice / 不安全的建议\nSpam or self-promotion / 广告或自我推广\n"
                 "Off-topic for Trailhead / 与户外无关",
}
REPORT_NOTES = {
    "spam": ["Same link posted in five communities today.", "这是广告，链接跳转到淘宝店。",
             "Account only posts coupon codes."],
    "misinformation": ["Claims SPF 100 sunscreen blocks all UV — not true.", "说这个能治湿疹，没有依据。"],
    "off_topic": ["This is about phone cases, not hiking.", "和本社区无关。"],
    "undisclosed_ads": ["The author owns this brand but doesn't say so.", "作者自己的店，没有标注。"],
    "harassment": ["Insulting other members in every thread.", "人身攻击。"],
    "counterfeit": ["Packaging differs from the official brand; looks fake.", "疑似假货，批号对不上。"],
    "other": ["Shop asks buyers to pay outside the platform.", "要求私下转账。"],
}
COLLECTIONS = {
    "glow": [("Best sunscreen reviews 2026", "The reviews our members found most useful. 最有用的防晒测评。"),
             ("Sensitive skin starter kit", "Gentle picks, tested for weeks. 敏感肌入门。")],
    "trailhead": [("First overnight hike", "Everything a beginner asked about. 第一次过夜徒步。"),
                  ("Gear that lasted", "Long-term reviews only. 长期使用测评。")],
}
APPEAL_TEXTS = [
    "The product page was the only source I had; happy to edit. 可以修改。",
    "This is my honest experience after two weeks, not an ad. 这是我用了两周的真实感受，不是广告。",
    "I removed the shop link — can the note come back? 我已经删掉店铺链接了。",
    "It is on-topic: the trip was about the gear I tested. 这篇就是讲装备的。",
]
COLLECTION_DEFAULT = ("Editors' favourites / 编辑最爱", "")


def seed_moderation(named: dict[str, User], seed: int) -> dict[str, int]:
    if db.session.scalar(select(func.count(ModAction.id))):
        return {}
    rng = random.Random(seed * 11 + 5)
    moderator, admin = named["moderator"], named["admin"]
    all_communities = list(db.session.scalars(select(Community).order_by(Community.id)))
    if not all_communities:
        return {}
    mods_of: dict[int, list[User]] = {}
    with unit_of_work():
        for community in all_communities:
            members = list(db.session.scalars(
                select(User).join(Membership, Membership.user_id == User.id)
                .where(Membership.community_id == community.id, Membership.role == ROLE_MEMBER,
                       User.is_demo.is_(True), User.username_key.not_in(list(named)))
                .order_by(User.id).limit(60)))
            extra = rng.sample(members, min(2, len(members)))
            for person in extra:
                communities.set_role(community, person, ROLE_MODERATOR)
            if community.slug not in DEMO_MODERATES and communities.membership_role(moderator, community) \
                    == ROLE_MODERATOR:
                communities.set_role(community, moderator, ROLE_MEMBER)  # the demo moderator moderates a few
            if community.slug in REASONS_BY_COMMUNITY:
                community.removal_reasons = REASONS_BY_COMMUNITY[community.slug]
            mods_of[community.id] = extra
    counts = {"moderators": sum(len(v) for v in mods_of.values())}
    for community in all_communities:
        _curate(community, moderator if community.slug in DEMO_MODERATES else (mods_of[community.id] or [admin])[0],
                rng, counts)
        _history(community, moderator if community.slug in DEMO_MODERATES else None, mods_of[community.id], rng,
                 counts)
    _queue(named, all_communities, rng, counts)
    _age_rows(rng)
    counts.update(log=db.session.scalar(select(func.count(ModAction.id))),
                  open_items=db.session.scalar(select(func.count(QueueItem.id)).where(QueueItem.status == "open")),
                  reports=db.session.scalar(select(func.count(Report.id))),
                  appeals=db.session.scalar(select(func.count(Appeal.id))))
    return counts


def _top_posts(community: Community, limit: int, offset: int = 0) -> list[Post]:
    return list(db.session.scalars(select(Post).where(Post.community_id == community.id,
                                                      Post.status == STATUS_PUBLISHED)
                                   .order_by(Post.like_count.desc(), Post.id).offset(offset).limit(limit)))


def _try(fn, *args, **kwargs):
    """Demo data: an action the world does not allow (already done, wrong state) is simply skipped."""
    try:
        return fn(*args, **kwargs)
    except DomainError:
        db.session.rollback()
        return None


def _curate(community: Community, curator: User, rng: random.Random, counts: dict) -> None:
    posts = _top_posts(community, 24)
    if len(posts) < 6:
        return
    for post in posts[:4]:
        if _try(actions.take_action, curator, "feature_post", target_kind="post", target_id=post.id,
                reason=rng.choice(["Thorough, honest and well photographed.", "内容详实，图片清楚。",
                                   "A model review: real use over weeks."])):
            counts["editor's picks"] = counts.get("editor's picks", 0) + 1
    for post in posts[4:6]:
        _try(actions.take_action, curator, "pin_post", target_kind="post", target_id=post.id,
             reason="Pinned for new members. 置顶给新成员。")
    for position, (name, description) in enumerate(COLLECTIONS.get(community.slug, [COLLECTION_DEFAULT])):
        collection = _try(curation.create_collection, curator, community, name, description)
        if collection is None:
            continue
        counts["collections"] = counts.get("collections", 0) + 1
        for post in rng.sample(posts[6:], min(5, len(posts) - 6)) if position else posts[6:11]:
            _try(curation.add_note, curator, collection, post.id)


def _history(community: Community, demo_mod: User | None, others: list[User], rng: random.Random,
             counts: dict) -> None:
    """Past work: removals (one restored on appeal), a lock, a warning and bans, by the community's moderators."""
    acting = [m for m in [demo_mod, *others] if m is not None]
    if not acting:
        return
    posts = _top_posts(community, 6, offset=30)
    removal_reasons = ["Spam or self-promotion: affiliate links only. 纯推广链接。",
                       "Off-topic for this community. 与本社区无关。",
                       "Medical claim without a source. 无依据的功效宣称。"]
    removed = []
    for post, actor in zip(posts[:3], [acting[0], acting[-1], acting[0]], strict=False):
        row = _try(actions.take_action, actor, "remove_post", target_kind="post", target_id=post.id,
                   reason=rng.choice(removal_reasons))
        if row is not None:
            removed.append(row)
    if removed and len(acting) > 1:
        # One author appealed and another moderator restored the note.
        first = removed[0]
        appeal = _try(actions.appeal, db.session.get(User, first.target_user_id), first.id,
                      "I bought it myself; the link is to the brand's official store, not mine. 我是自费购买的。")
        decider = next((m for m in acting if m.id != first.actor_id), None)
        if appeal is not None and decider is not None:
            _try(actions.decide_appeal, decider, appeal.id, True, "Fair: it reads as a genuine review. 申诉成立。")
        if len(removed) > 1 and demo_mod is not None and removed[1].actor_id != demo_mod.id:
            # An appeal waiting for the demo moderator (they did not take the action).
            _try(actions.appeal, db.session.get(User, removed[1].target_user_id), removed[1].id,
                 rng.choice(APPEAL_TEXTS))
    if len(posts) > 3:
        _try(actions.take_action, acting[0], "lock_comments", target_kind="post", target_id=posts[3].id,
             reason="The thread turned into a fight; locked to cool down. 评论区争吵，暂时锁定。")
    commenters = list(db.session.scalars(
        select(User).join(Comment, Comment.author_id == User.id).join(Post, Post.id == Comment.post_id)
        .where(Post.community_id == community.id, User.is_demo.is_(True), User.is_admin.is_(False),
               User.username_key.not_in(["admin", "reader", "creator", "merchant", "moderator"]))
        .distinct().order_by(User.id).limit(40)))
    targets = [u for u in commenters if policy_role(u, community) == ROLE_MEMBER]
    if len(targets) >= 3:
        warned, temp, perma = rng.sample(targets, 3)
        _try(actions.take_action, acting[0], "warn_user", target_kind="user", target_id=warned.id,
             community_id=community.id, reason="Please keep it civil: no name-calling. 请文明发言。")
        if _try(actions.take_action, acting[-1], "ban_user", target_kind="user", target_id=temp.id,
                community_id=community.id, reason="Repeated coupon spam after a warning. 警告后仍发优惠券广告。",
                expires_at=now() + timedelta(days=rng.choice([3, 7, 30]))):
            counts["bans"] = counts.get("bans", 0) + 1
        if community.slug in DEMO_MODERATES and _try(
                actions.take_action, acting[0], "ban_user", target_kind="user", target_id=perma.id,
                community_id=community.id, reason="Selling counterfeits through DMs. 私信售卖假货。"):
            counts["bans"] = counts.get("bans", 0) + 1
    counts["removals"] = counts.get("removals", 0) + len(removed)


def policy_role(user: User, community: Community) -> str | None:
    return communities.membership_role(user, community)


def _queue(named: dict[str, User], all_communities: list[Community], rng: random.Random, counts: dict) -> None:
    """Open reports of every kind: notes and comments in each community, users, products and shops for the admins."""
    people = list(db.session.scalars(select(User).where(User.is_demo.is_(True), User.is_admin.is_(False),
                                                        User.username_key.not_in(list(named)))
                                      .order_by(User.id).limit(120)))
    reporters = [named["reader"], *people]

    def report(kind: str, target_id: int, reason: str, times: int) -> None:
        for reporter in rng.sample(reporters, min(times, len(reporters))):
            if _try(reports.report, reporter, kind, target_id, reason,
                    rng.choice(REPORT_NOTES[reason]) if rng.random() < 0.7 else ""):
                counts["reports filed"] = counts.get("reports filed", 0) + 1

    for community in all_communities:
        posts = _top_posts(community, 8, offset=12)
        weight = 2 if community.slug in DEMO_MODERATES else 1
        for post, reason in zip(posts, ["spam", "misinformation", "off_topic", "undisclosed_ads"][:2 * weight],
                                strict=False):
            report("post", post.id, reason, rng.randint(1, 4))
        comment = db.session.scalar(select(Comment).join(Post, Post.id == Comment.post_id).where(
            Post.community_id == community.id, Comment.status == STATUS_PUBLISHED).order_by(Comment.id.desc()).limit(1))
        if comment is not None:
            report("comment", comment.id, "harassment", rng.randint(1, 3))
    suspicious = rng.sample(people, min(2, len(people)))
    for person in suspicious:
        report("user", person.id, "spam", rng.randint(1, 3))
    products = list(db.session.scalars(select(Product).join(Shop, Shop.id == Product.shop_id)
                                       .where(Shop.status == ShopStatus.APPROVED).order_by(Product.id).limit(40)))
    for product in rng.sample(products, min(2, len(products))):
        report("product", product.id, "counterfeit", rng.randint(1, 3))
    shop = db.session.scalar(select(Shop).where(Shop.status == ShopStatus.APPROVED,
                                                Shop.owner_id != named["merchant"].id).order_by(Shop.id).limit(1))
    if shop is not None:
        report("shop", shop.id, "other", 2)


def _age_rows(rng: random.Random) -> None:
    """Spread the log and the queue over the last three weeks (newest last), as real work would be."""
    moment = now()
    with unit_of_work():
        rows = list(db.session.scalars(select(ModAction).order_by(ModAction.id)))
        for index, row in enumerate(rows):
            ago = timedelta(hours=min(24 * 12, (len(rows) - index) * rng.uniform(1.5, 3.5)))
            db.session.execute(update(ModAction).where(ModAction.id == row.id).values(created_at=moment - ago))
        for item in db.session.scalars(select(QueueItem).where(QueueItem.status == "open")):
            age = timedelta(hours=rng.uniform(1, 24 * 10))
            db.session.execute(update(QueueItem).where(QueueItem.id == item.id).values(
                created_at=moment - age, updated_at=moment - age / 2))
        db.session.execute(update(Appeal).values(created_at=moment - timedelta(hours=rng.uniform(2, 30))))
        # An appeal decided after its action: keep each appeal after the action it answers.
        for appeal in db.session.scalars(select(Appeal)):
            action = db.session.get(ModAction, appeal.action_id)
            if appeal.created_at < action.created_at:
                appeal.created_at = action.created_at + timedelta(hours=2)
