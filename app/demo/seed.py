"""Seed the database with demo users; safe to run again (existing rows are kept)."""
from __future__ import annotations

import random
from dataclasses import dataclass, field

from sqlalchemy import func, select, update

from app.accounts.models import User
from app.accounts.services import DEMO_USERNAMES, hash_password
from app.core import images
from app.core.clock import now
from app.core.uow import unit_of_work
from app.demo import progress
from app.demo.avatars import make_avatar
from app.extensions import db

DEMO_PASSWORD = "tastemaker-demo"

NAMED_ACCOUNTS = {
    "admin": ("Site Admin", "站点管理员", "Keeps Tastemaker running.", "en"),
    "reader": ("Rita Reader", "读者小丽", "我喜欢逛社区、收藏好物。Always hunting for honest reviews.", "zh_Hans"),
    "creator": ("Chen Creator", "创作者阿辰", "护肤和户外装备测评博主 | Skincare & outdoor gear reviews.", "zh_Hans"),
    "merchant": ("Mia Merchant", "店主米娅", "Small-batch skincare from Hangzhou. 杭州小众护肤品牌主理人。", "en"),
    "moderator": ("Max Moderator", "版主阿明", "Keeping the Outdoor community friendly. 户外社区版主。", "en"),
}

SURNAMES = [("li", "李"), ("wang", "王"), ("zhang", "张"), ("liu", "刘"), ("chen", "陈"), ("yang", "杨"),
            ("zhao", "赵"), ("huang", "黄"), ("zhou", "周"), ("wu", "吴"), ("lin", "林"), ("he", "何")]
GIVEN = [("yue", "悦"), ("xin", "欣"), ("hao", "浩"), ("ting", "婷"), ("jie", "杰"), ("lan", "兰"),
         ("yu", "雨"), ("chen", "晨"), ("mei", "梅"), ("lei", "磊"), ("qing", "晴"), ("an", "安")]
ENGLISH = ["emma", "liam", "olivia", "noah", "ava", "lucas", "mia", "leo", "zoe", "ethan", "chloe",
           "jack", "grace", "ryan", "lily", "owen", "nora", "sam", "ivy", "max"]
LAST = ["walker", "chen", "smith", "tan", "lee", "wong", "ng", "brown", "park", "kim"]
BIOS_ZH = ["热爱户外徒步，周末在山里。", "新手妈妈，分享育儿好物。", "数码控，爱拆箱。", "美妆爱好者｜成分党",
           "吃货一枚，探店日常。", "旅行中记录生活。", "极简家居爱好者。", "穿搭分享，日常通勤风。"]
BIOS_EN = ["Trail runner and gear nerd.", "New parent sharing what actually works.", "Gadget unboxer.",
           "Skincare ingredient geek.", "Eats first, reviews later.", "Slow traveller, fast packer.",
           "Minimalist home, maximal coffee.", "Everyday outfits, honest fits."]


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    named: list[str] = field(default_factory=list)
    content: dict[str, int] = field(default_factory=dict)
    storefront: dict[str, int] = field(default_factory=dict)
    moderation: dict[str, int] = field(default_factory=dict)
    model: str | None = None
    search_documents: int | None = None
    timings: dict[str, float] = field(default_factory=dict)  # wall seconds per stage


def _random_person(rng: random.Random) -> tuple[str, str, str, str]:
    """(username, display name, bio, locale): half Chinese-speaking, half English-speaking."""
    if rng.random() < 0.5:
        (sur_py, sur_zh), (given_py, given_zh) = rng.choice(SURNAMES), rng.choice(GIVEN)
        return (f"{sur_py}_{given_py}{rng.randint(1, 999)}", sur_zh + given_zh, rng.choice(BIOS_ZH), "zh_Hans")
    first, last = rng.choice(ENGLISH), rng.choice(LAST)
    return (f"{first}_{last}{rng.randint(1, 999)}", f"{first.title()} {last.title()}", rng.choice(BIOS_EN), "en")


def _add_user(username: str, display_name: str, bio: str, locale: str, password_hash: str) -> User:
    # The avatar's randomness comes from the name, so re-runs stay in step with the main sequence.
    avatar = images.store_webp(make_avatar(username[:2], random.Random(username)), "avatars")
    user = User(username=username, username_key=username.lower(), email=f"{username}@demo.tastemaker.test",
                email_key=f"{username}@demo.tastemaker.test".lower(), password_hash=password_hash,
                display_name=display_name, bio=bio, locale=locale, avatar_path=avatar, is_demo=True)
    db.session.add(user)
    return user


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count(User.id)))


def seed_demo(users: int = 300, seed: int = 2026, posts: int = 3000, products: int = 200,
              orders: int = 260, reporter: progress.Reporter | None = None) -> SeedReport:
    """Create the named demo accounts, `users` random people and, on an empty site, communities, a follower
    graph, `posts` notes and reviews with their engagement, and a storefront with `products` products and
    about `orders` checkouts; the same seed gives the same data. `reporter` shows each stage's progress
    (app.demo.progress; silent by default) and the report carries each stage's wall time."""
    from app.demo.community_seed import finish_covers

    reporter = reporter or progress.Reporter()
    with progress.reporting(reporter):
        try:
            report = _seed(users, seed, posts, products, orders)
        finally:
            finish_covers()  # drawn in worker processes while the other stages ran
    report.timings = dict(reporter.timings)
    return report


def _seed(users: int, seed: int, posts: int, products: int, orders: int) -> SeedReport:
    rng = random.Random(seed)
    report = SeedReport()
    password_hash = hash_password(DEMO_PASSWORD)  # one slow hash shared by all demo accounts
    with progress.stage("people", len(DEMO_USERNAMES) + users) as step, unit_of_work():
        existing = set(db.session.scalars(select(User.username_key)))
        for username in DEMO_USERNAMES:
            display_en, display_zh, bio, locale = NAMED_ACCOUNTS[username]
            report.named.append(username)
            step.advance()
            if username in existing:
                continue
            user = _add_user(username, display_en if locale == "en" else display_zh, bio, locale, password_hash)
            user.is_admin = username == "admin"
            user.is_creator = username == "creator"
            user.is_merchant = username == "merchant"
            existing.add(username)
            report.created.append(username)
        made = 0
        while made < users:
            username, display_name, bio, locale = _random_person(rng)
            made += 1
            step.advance()
            if username.lower() in existing:
                continue
            _add_user(username, display_name, bio, locale, password_hash)
            existing.add(username.lower())
            report.created.append(username)
    from app.demo.community_seed import seed_social_content

    named = {u.username_key: u for u in db.session.scalars(select(User).where(User.username_key.in_(DEMO_USERNAMES)))}
    report.content = seed_social_content(named, posts, seed)
    from app.demo.shop_seed import seed_storefront

    report.storefront = seed_storefront(named, seed, products, orders)
    from app.demo.groupbuy_seed import seed_groupbuys

    with progress.stage("group-buys"):
        report.storefront.update(seed_groupbuys(named, seed) if report.storefront else {})
    from app.demo.affiliate_seed import seed_affiliate

    with progress.stage("commissions"):
        report.storefront = {**(report.storefront or {}), **seed_affiliate(named, seed)}
    from app.demo.moderation_seed import seed_moderation

    with progress.stage("moderation"):
        report.moderation = seed_moderation(named, seed)
    from app.demo.aftersales_seed import seed_aftersales

    with progress.stage("after-sales"):
        report.storefront.update(seed_aftersales(named) if report.storefront else {})
    # Demo people have "picked their communities" already; only real newcomers see the first-log-in picker.
    with unit_of_work():
        db.session.execute(update(User).where(User.onboarded_at.is_(None)).values(onboarded_at=now()))
    if report.content:
        from app.feeds.training import train_and_publish

        with progress.stage("recommender"):
            report.model = train_and_publish(seed=seed).summary()
    from app.search.indexing import rebuild_index

    with progress.stage("search index") as step:
        report.search_documents = rebuild_index()
        step.advance(report.search_documents or 0)
    return report
