"""Deleting an account at its owner's request: anonymise the person, keep the records others rely on.

The user row stays (orders, payments, ledgers, moderation logs and other people's threads refer to it)
but loses everything that identifies the person: username, email, display name, bio, avatar, saved
addresses, sessions and tokens, follows. Their notes and comments stay where they are, shown as by
"Deleted user". A merchant whose shop still has orders in progress must settle them first.

This one use case reaches above accounts (social, shop) on purpose, by name, in one transaction.
"""
from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.accounts import services
from app.accounts.models import ApiToken, User, UserSession
from app.core import images
from app.core.clock import now
from app.core.errors import Conflict
from app.core.uow import after_commit, transactional
from app.extensions import db
from app.search.queue import queue_product, queue_user

DELETED_EMAIL_DOMAIN = "deleted.invalid"  # RFC 2606: can never receive mail


def open_shop_orders(user: User) -> int:
    """How many orders of the user's shop are still in progress (unpaid, paid, shipped)."""
    from app.shop.models import Order, OrderStatus, Shop

    in_progress = (OrderStatus.PENDING_PAYMENT, OrderStatus.PAID, OrderStatus.SHIPPED,
                   OrderStatus.PARTIALLY_REFUNDED)
    return db.session.scalar(
        select(func.count(Order.id)).join(Shop, Shop.id == Order.shop_id)
        .where(Shop.owner_id == user.id, Order.status.in_(in_progress)))


@transactional
def delete_account(user: User, password: str) -> User:
    """Anonymise the account after checking its password; refuse while the user's shop has open orders."""
    from app.shop.models import Address, Product, ProductStatus, Shop
    from app.social.services import remove_all_follows

    services.check_current_password(user, password)
    if user.deleted_at is not None:
        return user
    open_orders = open_shop_orders(user)
    if open_orders:
        raise Conflict(_("Your shop has %(n)s orders in progress. Ship, complete or refund them before "
                         "deleting your account.", n=open_orders))
    moment = now()
    placeholder = f"deleted_{user.id}"
    old_avatar = user.avatar_path
    user.username = user.username_key = placeholder
    user.email = user.email_key = f"{placeholder}@{DELETED_EMAIL_DOMAIN}"
    user.password_hash = services.hash_password(secrets.token_urlsafe(32))  # nobody knows it
    user.display_name, user.bio, user.avatar_path, user.locale = "", "", None, None
    user.is_creator = user.is_merchant = False
    user.invite_code = secrets.token_urlsafe(12)[:16]  # the old code no longer leads to this account
    user.deleted_at = moment
    db.session.execute(update(UserSession).where(UserSession.user_id == user.id,
                                                 UserSession.revoked_at.is_(None)).values(revoked_at=moment))
    db.session.execute(update(ApiToken).where(ApiToken.user_id == user.id,
                                              ApiToken.revoked_at.is_(None)).values(revoked_at=moment))
    remove_all_follows(user)
    # Saved addresses are personal data; orders keep their own copy of where they were shipped.
    db.session.execute(update(Address).where(Address.user_id == user.id, Address.deleted_at.is_(None))
                       .values(deleted_at=moment))
    listed = db.session.scalars(select(Product.id).join(Shop, Shop.id == Product.shop_id).where(
        Shop.owner_id == user.id, Product.status != ProductStatus.ARCHIVED)).all()
    if listed:
        db.session.execute(update(Product).where(Product.id.in_(listed)).values(status=ProductStatus.ARCHIVED))
    for product_id in listed:
        queue_product(product_id)
    queue_user(user.id)
    after_commit(lambda: images.delete_media(old_avatar))
    return user
