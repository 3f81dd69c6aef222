"""Group-buys (拼团): open a group, join it, fill it or expire it with automatic refunds.

Joining is a checkout: `open_group` and `join_group` place the order through the shop's checkout at the
group's price (checkout.TrustedTerms), held (paid but not shippable) until the group fills, and claim the
seat inside the checkout's own transaction, before any stock moves, with a conditional update
(`seats_taken = seats_taken + 1 WHERE seats_taken < size AND state = 'open' AND deadline > now`, row count
checked). What happens to the order afterwards reaches the group through the shop's order hooks
(`order_moved`, registered by app.groupbuy.init_app), inside the order move's transaction:

- paid: the member's seat is paid; the leader's payment opens the group (deadline = paid time + window); the
  N-th payment before the deadline fills it and releases every member's hold in the same transaction;
- cancelled (unpaid in time, or by the buyer): the seat comes back; a pending group whose leader never paid
  is cancelled;
- refunded while the group is open (the member left, or the shop refunded): the seat comes back, leadership
  passes to the earliest remaining member.

`expire_overdue_groups(now)` (every minute) cancels the unpaid orders of overdue groups, moves the groups
to expired and enqueues one `refund_member` job per paid member. A refund carries the idempotency key
"groupbuy-member-<id>" (unique among refunds and sent to the provider) and a failed one is retried by later
runs, so each order is refunded exactly once whatever runs twice or fails.

Lock order (with the shop's, app/shop/orders.py): buyer row, payment, orders, then the group row, then the
campaign row, then SKUs. Every path here takes them in that order: the order moves lock the order before the
hook locks the group; a join claims its seat and the campaign's units before the checkout takes stock.
Leaving locks the group first, then refunds through payment and order (it holds the group so a concurrent
payment cannot fill it meanwhile); the only other path that takes a group and then orders is a fill releasing
its members' holds, and those members are paid, so nothing else moves their orders but a shop refund.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from app.accounts.models import User
from app.communities.services import ensure_may_participate
from app.core.clock import now as clock_now
from app.core.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from app.core.uow import after_commit, unit_of_work
from app.extensions import db
from app.groupbuy.models import (
    GROUP_TRANSITIONS,
    MAX_SIZE,
    MAX_WINDOW_HOURS,
    MIN_SIZE,
    MIN_WINDOW_HOURS,
    SEAT_HOLDING,
    Campaign,
    CampaignPrice,
    CampaignStatus,
    Group,
    GroupMember,
    GroupState,
    MemberState,
)
from app.jobs.runner import enqueue_urgent
from app.shop import checkout, orders, refunds
from app.shop.models import Order, OrderStatus, Product, ProductStatus, Shop, ShopStatus, Sku
from app.social.models import Follow
from app.social.notifications import notify

log = logging.getLogger(__name__)

HOLD_REASON = "group-buy"
REFUND_JOB = "app.groupbuy.services:refund_member"
REFUND_GRACE = timedelta(minutes=2)  # a queued refund job's turn before the retry sweep may enqueue it again
MAX_REFUND_BACKOFF = timedelta(hours=1)


def refund_key(member_id: int) -> str:
    """The refund's idempotency key: unique among the shop's refunds, so a member is refunded once."""
    return f"groupbuy-member-{member_id}"


# --- the group state machine ------------------------------------------------------------------------------

def transition_group(group: Group, to_state: GroupState, now: datetime, values: dict | None = None) -> None:
    """Move `group` from the state it was read in to `to_state` with a conditional update; an illegal move
    or a lost race raises Conflict."""
    from_state = GroupState(group.state)
    if to_state not in GROUP_TRANSITIONS[from_state]:
        raise Conflict(_("This group cannot change from %(current)s to %(wanted)s.",
                         current=str(from_state), wanted=str(to_state)), code="invalid-transition")
    changes = {"state": str(to_state), **(values or {})}
    moved = db.session.execute(update(Group).where(Group.id == group.id, Group.state == str(from_state))
                               .values(**changes).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise Conflict(_("This group changed in the meantime. Reload it and try again."), code="concurrent-change")
    for key, value in changes.items():
        set_committed_value(group, key, value)


def _locked_group(group_id: int) -> Group:
    return db.session.scalar(select(Group).where(Group.id == group_id).with_for_update()
                             .execution_options(populate_existing=True))


def _bump(group: Group, seats: int = 0, paid: int = 0) -> None:
    """Change the seat counters of a group this transaction has locked (CHECKs guard the bounds)."""
    db.session.execute(update(Group).where(Group.id == group.id)
                       .values(seats_taken=Group.seats_taken + seats, paid_count=Group.paid_count + paid)
                       .execution_options(synchronize_session=False))
    set_committed_value(group, "seats_taken", group.seats_taken + seats)
    set_committed_value(group, "paid_count", group.paid_count + paid)


def _return_units(campaign_id: int, units: int) -> None:
    db.session.execute(update(Campaign).where(Campaign.id == campaign_id)
                       .values(units_taken=Campaign.units_taken - units).execution_options(synchronize_session=False))


# --- campaigns --------------------------------------------------------------------------------------------

@dataclass
class CampaignInput:
    """What a merchant sets on a campaign (already parsed into plain values by the form or the schema)."""

    prices: Mapping[int, int]  # sku id → group price cents
    group_size: int
    window_hours: int
    starts_at: datetime
    ends_at: datetime
    per_order_limit: int = 1
    per_user_limit: int = 1
    units_cap: int | None = None
    coupon_stacks: bool = False


def _managed_product(merchant: User, product_id: int) -> Product:
    product = db.session.get(Product, product_id) if product_id else None
    if product is None:
        raise NotFound(_("No such product."))
    shop = db.session.get(Shop, product.shop_id)
    if not merchant.is_admin and shop.owner_id != merchant.id:
        raise Forbidden(_("Only the shop that sells this product can run a group-buy for it."), code="not-your-shop")
    return product


def _validate(product: Product, data: CampaignInput) -> dict[int, int]:
    """Every rule of a campaign's settings; Invalid with per-field errors. Returns the prices to store."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data.group_size, int) or not MIN_SIZE <= data.group_size <= MAX_SIZE:
        errors["group_size"] = [_("A group has from %(min)d to %(max)d people.", min=MIN_SIZE, max=MAX_SIZE)]
    if not isinstance(data.window_hours, int) or not MIN_WINDOW_HOURS <= data.window_hours <= MAX_WINDOW_HOURS:
        errors["window_hours"] = [_("The time to fill is from %(min)d to %(max)d hours.",
                                    min=MIN_WINDOW_HOURS, max=MAX_WINDOW_HOURS)]
    if not isinstance(data.starts_at, datetime) or not isinstance(data.ends_at, datetime) \
            or data.ends_at <= data.starts_at:
        errors["ends_at"] = [_("The campaign must end after it starts.")]
    if not isinstance(data.per_order_limit, int) or not 1 <= data.per_order_limit <= 99:
        errors["per_order_limit"] = [_("Allow from 1 to 99 units per order.")]
    elif not isinstance(data.per_user_limit, int) or not data.per_order_limit <= data.per_user_limit <= 999:
        errors["per_user_limit"] = [_("The limit per person must be at least the limit per order (and at most 999).")]
    if data.units_cap is not None and (not isinstance(data.units_cap, int) or not 1 <= data.units_cap <= 1_000_000):
        errors["units_cap"] = [_("The cap is a number of units from 1 to 1,000,000, or empty for none.")]
    skus = {sku.id: sku for sku in product.skus if sku.is_active}
    prices: dict[int, int] = {}
    if not data.prices:
        errors["prices"] = [_("Give a group price for at least one option.")]
    for sku_id, price in (data.prices or {}).items():
        sku = skus.get(sku_id)
        field = f"prices.{sku_id}"
        if sku is None:
            errors[field] = [_("This option is not for sale.")]
        elif not isinstance(price, int) or isinstance(price, bool) or price <= 0:
            errors[field] = [_("Enter the group price.")]
        elif price >= sku.price_cents:
            errors[field] = [_("The group price must be below the normal price (%(price)s).",
                               price=f"{sku.price_cents / 100:.2f}")]
        else:
            prices[sku_id] = price
    if errors:
        raise Invalid(_("Check the campaign's settings."), errors)
    return prices


def create_campaign(merchant: User, product_id: int, data: CampaignInput, now: datetime | None = None) -> Campaign:
    """A merchant's group-buy offer on one of their products; one unended campaign per product at a time."""
    now = now or clock_now()
    product = _managed_product(merchant, product_id)
    prices = _validate(product, data)
    with unit_of_work():
        clash = db.session.scalar(select(Campaign.id).where(
            Campaign.product_id == product.id, Campaign.status == CampaignStatus.ACTIVE, Campaign.ends_at > now))
        if clash:
            raise Conflict(_("This product already has a group-buy that has not ended."), code="campaign-exists")
        campaign = Campaign(shop_id=product.shop_id, product_id=product.id, group_size=data.group_size,
                            window_hours=data.window_hours, starts_at=data.starts_at, ends_at=data.ends_at,
                            per_order_limit=data.per_order_limit, per_user_limit=data.per_user_limit,
                            units_cap=data.units_cap, coupon_stacks=bool(data.coupon_stacks), created_at=now)
        campaign.prices = [CampaignPrice(sku_id=sku_id, group_price_cents=price) for sku_id, price in prices.items()]
        db.session.add(campaign)
    return campaign


def managed_campaign(merchant: User, campaign_id: int) -> Campaign:
    """A campaign its shop's owner (or an admin) may change; NotFound for anyone else (no hint it exists)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("No such group-buy campaign."))
    if not merchant.is_admin and campaign.shop.owner_id != merchant.id:
        raise Forbidden(_("Only the shop that runs this campaign can change it."), code="not-your-shop")
    return campaign


def get_campaign(viewer: User | None, campaign_id: int) -> Campaign:
    """A campaign of an approved shop's active product for anyone; every campaign for its shop's owner."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(_("No such group-buy campaign."))
    manages = viewer is not None and (viewer.is_admin or campaign.shop.owner_id == viewer.id)
    if not manages and not campaign_product_ok(campaign.product):
        raise NotFound(_("No such group-buy campaign."))
    return campaign


def update_campaign(merchant: User, campaign_id: int, data: CampaignInput, now: datetime | None = None) -> Campaign:
    """Change a campaign's settings. Open groups keep what they opened with; still, an edit that lowers the
    group size or raises a price while groups are open is refused (it would be a different offer)."""
    now = now or clock_now()
    campaign = managed_campaign(merchant, campaign_id)
    if campaign.status != CampaignStatus.ACTIVE:
        raise Conflict(_("This campaign has ended."), code="campaign-ended")
    prices = _validate(campaign.product, data)
    with unit_of_work():
        campaign = db.session.scalar(select(Campaign).where(Campaign.id == campaign_id).with_for_update()
                                     .execution_options(populate_existing=True))
        has_open = db.session.scalar(select(func.count(Group.id)).where(
            Group.campaign_id == campaign.id, Group.state.in_([GroupState.OPEN, GroupState.PENDING])))
        if has_open:
            old = {price.sku_id: price.group_price_cents for price in campaign.prices}
            raised = [sku_id for sku_id, price in prices.items() if price > old.get(sku_id, price)]
            if data.group_size < campaign.group_size or raised:
                message = _("Groups are open: the group size cannot go down and no price can go up until they close.")
                raise Conflict(message, {"group_size": [message]}, code="open-groups")
        for field in ("group_size", "window_hours", "starts_at", "ends_at", "per_order_limit", "per_user_limit",
                      "units_cap"):
            setattr(campaign, field, getattr(data, field))
        campaign.coupon_stacks = bool(data.coupon_stacks)
        if data.units_cap is not None and data.units_cap < campaign.units_taken:
            message = _("The cap cannot be below the %(count)d units already taken.", count=campaign.units_taken)
            raise Invalid(message, {"units_cap": [message]})
        existing = {price.sku_id: price for price in campaign.prices}
        campaign.prices = [existing.get(sku_id) or CampaignPrice(sku_id=sku_id) for sku_id in sorted(prices)]
        for price in campaign.prices:
            price.group_price_cents = prices[price.sku_id]
    return campaign


def end_campaign(merchant: User, campaign_id: int, now: datetime | None = None) -> Campaign:
    """End a campaign early: no new groups, its open groups expire (and are refunded) at once, groups whose
    leader has not paid are cancelled."""
    now = now or clock_now()
    campaign = managed_campaign(merchant, campaign_id)
    with unit_of_work():
        ended = db.session.execute(update(Campaign).where(Campaign.id == campaign.id,
                                                          Campaign.status == CampaignStatus.ACTIVE)
                                   .values(status=CampaignStatus.ENDED, ended_at=now)
                                   .execution_options(synchronize_session=False))
        if ended.rowcount != 1:
            raise Conflict(_("This campaign has ended."), code="campaign-ended")
    group_ids = list(db.session.scalars(select(Group.id).where(
        Group.campaign_id == campaign.id, Group.state.in_([GroupState.OPEN, GroupState.PENDING])).order_by(Group.id)))
    for group_id in group_ids:
        _close_group(group_id, now, forced=True)
    db.session.refresh(campaign)
    return campaign


def live_campaign(product_id: int, now: datetime | None = None) -> Campaign | None:
    """The product's campaign that is live now (open to new groups), if any."""
    now = now or clock_now()
    return db.session.scalar(select(Campaign).where(
        Campaign.product_id == product_id, Campaign.status == CampaignStatus.ACTIVE, Campaign.starts_at <= now,
        Campaign.ends_at > now).options(selectinload(Campaign.prices)).order_by(Campaign.id.desc()).limit(1))


def live_prices(product_ids, now: datetime | None = None) -> dict[int, int]:
    """product id → the lowest group price of its live campaign, for lists (search results, cards): one query."""
    now = now or clock_now()
    ids = list(set(product_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(Campaign.product_id, func.min(CampaignPrice.group_price_cents))
        .join(CampaignPrice, CampaignPrice.campaign_id == Campaign.id)
        .where(Campaign.product_id.in_(ids), Campaign.status == CampaignStatus.ACTIVE, Campaign.starts_at <= now,
               Campaign.ends_at > now).group_by(Campaign.product_id))
    return {product_id: price for product_id, price in rows}


def shop_has_campaigns(shop_id: int) -> bool:
    return db.session.scalar(select(Campaign.id).where(Campaign.shop_id == shop_id).limit(1)) is not None


def shop_campaigns(merchant: User, shop_id: int) -> list[Campaign]:
    shop = db.session.get(Shop, shop_id)
    if shop is None or (shop.owner_id != merchant.id and not merchant.is_admin):
        raise Forbidden(_("Only the shop's owner can see its campaigns."), code="not-your-shop")
    return list(db.session.scalars(select(Campaign).where(Campaign.shop_id == shop.id)
                                   .options(joinedload(Campaign.product), selectinload(Campaign.prices))
                                   .order_by(Campaign.id.desc())))


@dataclass
class CampaignFigures:
    opened: int
    filled: int
    expired: int
    open: int
    units: int  # units of filled groups' orders, less what was refunded
    revenue_cents: int  # what filled groups' members paid, less refunds

    @property
    def fill_rate(self) -> float | None:
        """Filled groups over closed ones (filled + expired); None before any closed."""
        closed = self.filled + self.expired
        return self.filled / closed if closed else None


def campaign_figures(campaign: Campaign) -> CampaignFigures:
    """Groups opened, filled, expired and open, and the units and revenue of the filled groups (2 queries)."""
    return _group_figures(Group.campaign_id == campaign.id)


def shop_group_figures(shop_id: int, since: datetime) -> CampaignFigures:
    """The same figures over every campaign of a shop, for the groups opened since `since` (the sales
    dashboard's period): 2 aggregate queries whatever the number of groups."""
    return _group_figures(Group.campaign_id.in_(select(Campaign.id).where(Campaign.shop_id == shop_id)),
                          Group.opened_at >= since)


def _group_figures(*where) -> CampaignFigures:
    counts = dict(db.session.execute(select(Group.state, func.count(Group.id))
                                     .where(*where, Group.opened_at.is_not(None))
                                     .group_by(Group.state)).all())
    from app.shop.models import OrderLine

    units, revenue = db.session.execute(
        select(func.coalesce(func.sum(OrderLine.quantity - OrderLine.refunded_quantity), 0),
               func.coalesce(func.sum(OrderLine.line_total_cents - OrderLine.discount_cents
                                      - OrderLine.refunded_cents), 0))
        .join(GroupMember, GroupMember.order_id == OrderLine.order_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(*where, Group.opened_at.is_not(None), Group.state == GroupState.FILLED,
               GroupMember.state == MemberState.PAID)).one()
    return CampaignFigures(opened=sum(counts.values()), filled=counts.get(GroupState.FILLED, 0),
                           expired=counts.get(GroupState.EXPIRED, 0), open=counts.get(GroupState.OPEN, 0),
                           units=int(units), revenue_cents=int(revenue))


def campaign_open_groups(campaign: Campaign) -> list[Group]:
    return list(db.session.scalars(select(Group).where(Group.campaign_id == campaign.id, Group.state == GroupState.OPEN)
                                   .options(joinedload(Group.leader)).order_by(Group.deadline)))


# --- opening and joining ----------------------------------------------------------------------------------

@dataclass
class Joined:
    """A join (or the group opened by it): the group, the member, and the checkout to pay."""

    group: Group
    member: GroupMember
    checkout: checkout.StartedCheckout

    @property
    def redirect_url(self) -> str | None:
        return self.checkout.redirect_url


def _check_join_request(campaign: Campaign, group_prices: Mapping[str, int], sku_id, quantity,
                        coupon_code: str | None) -> int:
    if not isinstance(sku_id, int) or str(sku_id) not in group_prices:
        message = _("Choose one of the options on offer.")
        raise Invalid(message, {"sku_id": [message]})
    quantity = checkout.parse_quantity(quantity)
    if quantity > campaign.per_order_limit:
        message = _("At most %(max)d per order in this group-buy.", max=campaign.per_order_limit)
        raise Invalid(message, {"quantity": [message]}, code="per-order-limit")
    if coupon_code and coupon_code.strip() and not campaign.coupon_stacks:
        message = _("Coupons cannot be used with this group price.")
        raise Invalid(message, {"coupon_code": [message]}, code="coupon-not-allowed")
    return quantity


def _claim_units(campaign: Campaign, user: User, quantity: int) -> None:
    """Under the buyer's lock: the per-person limit, then the campaign's unit cap (a conditional update)."""
    held = db.session.scalar(select(func.coalesce(func.sum(GroupMember.quantity), 0)).where(
        GroupMember.campaign_id == campaign.id, GroupMember.user_id == user.id,
        GroupMember.state.in_([s.value for s in SEAT_HOLDING])))
    if held + quantity > campaign.per_user_limit:
        message = _("This group-buy allows %(max)d per person; you already have %(held)d.",
                    max=campaign.per_user_limit, held=held)
        raise Invalid(message, {"quantity": [message]}, code="per-user-limit")
    taken = db.session.execute(
        update(Campaign).where(Campaign.id == campaign.id,
                               (Campaign.units_cap.is_(None)) | (Campaign.units_taken + quantity <= Campaign.units_cap))
        .values(units_taken=Campaign.units_taken + quantity).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise Conflict(_("This group-buy has sold all the units it offers."), {"quantity": [
            _("This group-buy has sold all the units it offers.")]}, code="campaign-sold-out")


def _add_member(group_id: int, campaign_id: int, user: User, quantity: int, leader: bool, now: datetime,
                placed: checkout.Checkout) -> GroupMember:
    member = GroupMember(group_id=group_id, campaign_id=campaign_id, user_id=user.id, order_id=placed.orders[0].id,
                         quantity=quantity, is_leader=leader, state=MemberState.PENDING, joined_at=now)
    db.session.add(member)
    db.session.flush()
    return member


def _joined_from(started: checkout.StartedCheckout) -> Joined:
    member = db.session.scalar(select(GroupMember).where(GroupMember.order_id == started.orders[0].id))
    if member is None:  # a key used for a plain checkout, replayed here
        raise Conflict(_("This Idempotency-Key was already used for a different request."), code="key-reused")
    return Joined(db.session.get(Group, member.group_id), member, started)


def open_group(leader: User, campaign_id: int, *, sku_id: int, quantity=1, address_id: int,
               coupon_code: str | None = None, now: datetime | None = None,
               idempotency_key: str | None = None) -> Joined:
    """Open a group on a live campaign: the leader's order at the group price; the group stays pending (and
    invisible) until that order is paid, which starts its window."""
    now = now or clock_now()
    campaign = db.session.get(Campaign, campaign_id) if campaign_id else None
    if campaign is None:
        raise NotFound(_("No such group-buy campaign."))
    if not campaign.is_live(now):
        raise Conflict(_("This group-buy is not running now."), code="campaign-not-live")
    _ensure_may_take_part(leader, campaign)
    prices = {str(price.sku_id): price.group_price_cents for price in campaign.prices}
    quantity = _check_join_request(campaign, prices, sku_id, quantity, coupon_code)
    made: dict = {}

    def claim():
        _claim_units(campaign, leader, quantity)
        group = Group(campaign_id=campaign.id, product_id=campaign.product_id, leader_id=leader.id,
                      state=GroupState.PENDING, size=campaign.group_size, window_hours=campaign.window_hours,
                      prices=prices, currency=db.session.get(Sku, sku_id).currency, seats_taken=1, created_at=now)
        db.session.add(group)
        db.session.flush()
        made["group"] = group

    def attach(placed: checkout.Checkout):
        made["member"] = _add_member(made["group"].id, campaign.id, leader, quantity, True, now, placed)

    terms = checkout.TrustedTerms(unit_prices={int(k): v for k, v in prices.items()}, hold_reason=HOLD_REASON,
                                  reference=f"groupbuy:open:{campaign.id}", before_stock=claim, after_orders=attach)
    started = checkout.check_out(leader, [{"sku_id": sku_id, "quantity": quantity}], address_id, coupon_code,
                                 now=now, idempotency_key=idempotency_key, terms=terms)
    if started.replayed:
        return _joined_from(started)
    return Joined(made["group"], made["member"], started)


def join_group(user: User, group_id: int, *, sku_id: int, quantity=1, address_id: int,
               coupon_code: str | None = None, now: datetime | None = None,
               idempotency_key: str | None = None) -> Joined:
    """Join an open group: claim a seat and place the order at the group's price in one transaction. The seat
    is held while the order awaits payment and comes back if it is not paid."""
    now = now or clock_now()
    group = db.session.get(Group, group_id) if group_id else None
    if group is None or group.state == GroupState.PENDING and group.leader_id != user.id:
        raise NotFound(_("No such group."))
    campaign = group.campaign
    _ensure_may_take_part(user, campaign)
    if idempotency_key is None:  # a replay answers below even once the group is full
        _check_joinable(group, user, now)
    quantity = _check_join_request(campaign, group.prices, sku_id, quantity, coupon_code)
    made: dict = {}

    def claim():
        if db.session.scalar(select(GroupMember.id).where(
                GroupMember.group_id == group.id, GroupMember.user_id == user.id,
                GroupMember.state.in_([s.value for s in SEAT_HOLDING]))):
            raise Conflict(_("You are already in this group."), code="already-member")
        seat = db.session.execute(
            update(Group).where(Group.id == group.id, Group.seats_taken < Group.size, Group.state == GroupState.OPEN,
                                Group.deadline > now)
            .values(seats_taken=Group.seats_taken + 1).execution_options(synchronize_session=False))
        if seat.rowcount != 1:
            db.session.refresh(group)
            _check_joinable(group, user, now)
            raise Conflict(_("This group is full."), code="group-full")
        _claim_units(campaign, user, quantity)

    def attach(placed: checkout.Checkout):
        made["member"] = _add_member(group.id, campaign.id, user, quantity, False, now, placed)

    terms = checkout.TrustedTerms(unit_prices={int(k): v for k, v in group.prices.items()}, hold_reason=HOLD_REASON,
                                  reference=f"groupbuy:join:{group.id}", before_stock=claim, after_orders=attach)
    started = checkout.check_out(user, [{"sku_id": sku_id, "quantity": quantity}], address_id, coupon_code,
                                 now=now, idempotency_key=idempotency_key, terms=terms)
    if started.replayed:
        return _joined_from(started)
    db.session.refresh(group)
    return Joined(group, made["member"], started)


def _ensure_may_take_part(user: User, campaign: Campaign) -> None:
    """A suspended account, or a member banned from the product's community, cannot open or join its groups
    (moderation's bans, enforced here so pages, the API and jobs all obey)."""
    community_id = db.session.scalar(select(Product.community_id).where(Product.id == campaign.product_id))
    if community_id is not None or getattr(user, "is_suspended", False):
        ensure_may_participate(user, community_id)


def _check_joinable(group: Group, user: User, now: datetime) -> None:
    """Why this person cannot join the group now (Conflict with a stable code), or nothing."""
    if group.state == GroupState.PENDING:
        raise Conflict(_("This group opens once its leader has paid."), code="group-pending")
    if group.state == GroupState.FILLED:
        raise Conflict(_("This group is already full."), code="group-full")
    if group.state in (GroupState.EXPIRED, GroupState.CANCELLED) or (group.deadline and group.deadline <= now):
        raise Conflict(_("This group has closed."), code="group-closed")
    if db.session.scalar(select(GroupMember.id).where(
            GroupMember.group_id == group.id, GroupMember.user_id == user.id,
            GroupMember.state.in_([s.value for s in SEAT_HOLDING]))):
        raise Conflict(_("You are already in this group."), code="already-member")
    if group.seats_taken >= group.size:
        raise Conflict(_("This group is full."), code="group-full")


def leave_group(user: User, group_id: int, now: datetime | None = None) -> GroupMember:
    """Leave a group before it fills: an unpaid order is cancelled, a paid one refunded in full; the seat
    reopens. A leader who leaves passes leadership to the earliest remaining member; the deadline stays."""
    now = now or clock_now()
    group = db.session.get(Group, group_id) if group_id else None
    member = group and db.session.scalar(select(GroupMember).where(
        GroupMember.group_id == group.id, GroupMember.user_id == user.id,
        GroupMember.state.in_([s.value for s in SEAT_HOLDING])))
    if not member:
        raise NotFound(_("You are not in this group."))
    if group.state not in (GroupState.OPEN, GroupState.PENDING):
        raise Conflict(_("This group has filled or closed; it can no longer be left."), code="group-closed")
    with unit_of_work():
        if member.state == MemberState.PENDING:
            # Unpaid: cancel the order (order, then group through the hook: the usual lock order).
            order = db.session.get(Order, member.order_id)
            cancelled = orders.cancel_unpaid_orders(order.payment_id, actor_id=user.id, note="left the group-buy",
                                                    now=now, overdue_only=False)
            if not cancelled:
                raise Conflict(_("This order changed in the meantime. Reload it and try again."),
                               code="concurrent-change")
        else:
            # Paid: hold the group first, so a concurrent last payment cannot fill it while the refund runs.
            group = _locked_group(group.id)
            db.session.refresh(member)
            if group.state != GroupState.OPEN or member.state != MemberState.PAID:
                raise Conflict(_("This group has filled or closed; it can no longer be left."), code="group-closed")
            refunds.refund_order_automatically(member.order_id, "left the group-buy", f"groupbuy-leave-{member.id}",
                                               now=now)
    db.session.refresh(member)
    return member


# --- what order moves do to groups (the shop's order hook) -----------------------------------------------

def on_order_moved(order: Order, from_status: str, to_status: str, now: datetime) -> None:
    """Listener for app.shop.hooks.order_moved: keep the group's seats in step with its members' orders.
    Runs inside the move's transaction; idempotent (a member's state says what was already done)."""
    if to_status not in (OrderStatus.PAID, OrderStatus.CANCELLED, OrderStatus.REFUNDED):
        return
    member = db.session.scalar(select(GroupMember).where(GroupMember.order_id == order.id)
                               .execution_options(populate_existing=True))
    if member is None:
        return
    group = _locked_group(member.group_id)
    if to_status == OrderStatus.PAID:
        _member_paid(group, member, now)
    elif to_status == OrderStatus.CANCELLED:
        _member_released(group, member, now)
    else:
        _member_refunded(group, member, now)


def _member_paid(group: Group, member: GroupMember, now: datetime) -> None:
    if member.state != MemberState.PENDING:
        return
    member.state, member.paid_at = MemberState.PAID, now
    if group.state == GroupState.PENDING and member.is_leader:
        transition_group(group, GroupState.OPEN, now,
                         {"opened_at": now, "deadline": now + timedelta(hours=group.window_hours)})
        _bump(group, paid=1)
        return
    _bump(group, paid=1)
    if group.state == GroupState.OPEN and group.deadline > now:
        if group.paid_count >= group.size:
            _fill(group, now)
        return
    if group.state in (GroupState.EXPIRED, GroupState.CANCELLED):
        # Cannot happen through the services (a closing group cancels its unpaid orders first); if it does, the
        # money goes back like an expired group's.
        _schedule_refund(member, now)
    # An open group past its deadline: the next expiry run refunds every paid member, this one included.


def _fill(group: Group, now: datetime) -> None:
    """The N-th payment arrived before the deadline: the group fills and every member's order may ship."""
    transition_group(group, GroupState.FILLED, now, {"filled_at": now})
    paid = list(db.session.scalars(select(GroupMember).where(GroupMember.group_id == group.id,
                                                             GroupMember.state == MemberState.PAID)))
    orders.release_holds([m.order_id for m in paid], now)
    for m in paid:
        notify(m.user_id, "group_filled", target_type="group", target_id=group.id)


def _member_released(group: Group, member: GroupMember, now: datetime) -> None:
    if member.state != MemberState.PENDING:
        return
    member.state, member.left_at = MemberState.RELEASED, now
    _bump(group, seats=-1)
    _return_units(member.campaign_id, member.quantity)
    if group.state == GroupState.PENDING and member.is_leader:
        transition_group(group, GroupState.CANCELLED, now, {"closed_at": now})
    elif group.state == GroupState.OPEN and member.is_leader:
        _pass_leadership(group, member, now)


def _member_refunded(group: Group, member: GroupMember, now: datetime) -> None:
    if member.refund_state == "pending" or group.state in (GroupState.EXPIRED, GroupState.CANCELLED):
        if member.state == MemberState.PAID:  # the group closed: its counters stay as they were at the close
            member.state = MemberState.REFUNDED
            _return_units(member.campaign_id, member.quantity)
        member.refund_state, member.refund_error = "done", None
        return
    if member.state != MemberState.PAID or group.state != GroupState.OPEN:
        return  # a filled group's after-sales refund leaves the group as it is
    member.state, member.left_at = MemberState.LEFT, now
    _bump(group, seats=-1, paid=-1)
    _return_units(member.campaign_id, member.quantity)
    if member.is_leader:
        _pass_leadership(group, member, now)


def _pass_leadership(group: Group, former: GroupMember, now: datetime) -> None:
    """The earliest remaining paid member leads (else the earliest still paying); nobody left: cancelled."""
    successor = db.session.scalar(select(GroupMember).where(
        GroupMember.group_id == group.id, GroupMember.state.in_([s.value for s in SEAT_HOLDING]))
        .order_by((GroupMember.state != MemberState.PAID), GroupMember.id).limit(1))
    former.is_leader = False
    if successor is None:
        transition_group(group, GroupState.CANCELLED, now, {"closed_at": now})
        return
    successor.is_leader = True
    db.session.execute(update(Group).where(Group.id == group.id).values(leader_id=successor.user_id)
                       .execution_options(synchronize_session=False))
    set_committed_value(group, "leader_id", successor.user_id)


# --- expiry and refunds -----------------------------------------------------------------------------------

def expire_overdue_groups(now: datetime | None = None) -> int:
    """Job (every minute): expire open groups past their deadline — their unpaid orders are cancelled, one
    refund job is enqueued per paid order — and retry refunds that failed. Safe to run twice or on several
    hosts at once. Returns how many groups this run expired."""
    now = now or clock_now()
    with unit_of_work():  # a short read: each group closes in transactions of its own
        overdue = list(db.session.scalars(select(Group.id).where(Group.state == GroupState.OPEN,
                                                                 Group.deadline <= now).order_by(Group.id)))
    expired = sum(1 for group_id in overdue if _close_group(group_id, now, forced=False))
    retry_due_refunds(now)
    return expired


def _close_group(group_id: int, now: datetime, *, forced: bool) -> bool:
    """Expire one open group (when overdue, or at once when `forced` by the campaign ending) or cancel a
    pending one. Unpaid orders are cancelled first, one transaction each (order, then group: the lock order);
    then the group moves under its lock and its paid members' refunds are enqueued after the commit."""
    with unit_of_work():
        pending = db.session.execute(select(GroupMember.id, Order.payment_id)
                                     .join(Order, Order.id == GroupMember.order_id)
                                     .where(GroupMember.group_id == group_id,
                                            GroupMember.state == MemberState.PENDING)
                                     .order_by(GroupMember.id)).all()
    for _member_id, payment_id in pending:
        with unit_of_work():
            orders.cancel_unpaid_orders(payment_id, actor_id=None, note="group-buy closed", now=now,
                                        overdue_only=False)
    with unit_of_work():
        group = _locked_group(group_id)
        if group.state != GroupState.OPEN or (not forced and group.deadline > now):
            return False
        if db.session.scalar(select(func.count(GroupMember.id)).where(GroupMember.group_id == group.id,
                                                                       GroupMember.state == MemberState.PENDING)):
            return False  # a join slipped in before the deadline: the next run closes the group
        transition_group(group, GroupState.EXPIRED, now, {"closed_at": now})
        paid = list(db.session.scalars(select(GroupMember).where(GroupMember.group_id == group.id,
                                                                 GroupMember.state == MemberState.PAID)
                                       .order_by(GroupMember.id)))
        for member in paid:
            _schedule_refund(member, now)
            notify(member.user_id, "group_expired", target_type="group", target_id=group.id)
    return True


def _schedule_refund(member: GroupMember, now: datetime) -> None:
    """Mark the member's refund due and enqueue its job once this transaction commits."""
    member.refund_state, member.refund_next_at = "pending", now + REFUND_GRACE
    member_id = member.id
    after_commit(lambda: _enqueue_refund(member_id, now))


def _enqueue_refund(member_id: int, now: datetime) -> None:
    """Enqueue one member's refund job, stamped with the time of the run that decided it (the clock tests set;
    on RQ the job may run a little later, which only shifts its record and retry time)."""
    try:
        enqueue_urgent(REFUND_JOB, member_id=member_id, now=now)
    except Exception:  # an inline job that failed unexpectedly; the retry sweep picks it up
        db.session.rollback()
        log.exception("group-buy refund of member %s failed; it will be retried", member_id)


def refund_member(member_id: int, now: datetime | None = None) -> str:
    """Job: refund one member of an expired group, once. A provider failure rolls the refund back and is
    recorded with a later retry time (doubling, at most an hour); other members' refunds are unaffected.
    Returns 'refunded', 'skipped' (nothing due) or 'failed'."""
    now = now or clock_now()
    member = db.session.scalar(select(GroupMember).where(GroupMember.id == member_id)
                               .execution_options(populate_existing=True))
    if member is None or member.refund_state != "pending":
        return "skipped"
    try:
        refunds.refund_order_automatically(member.order_id, "group-buy expired: automatic refund",
                                           refund_key(member.id), now=now)
        return "refunded"
    except Exception as exc:  # noqa: BLE001 - a provider or database failure is retried later
        db.session.rollback()
        return _refund_failed(member_id, exc, now)


def _refund_failed(member_id: int, exc: Exception, now: datetime) -> str:
    with unit_of_work():
        member = db.session.scalar(select(GroupMember).where(GroupMember.id == member_id).with_for_update()
                                   .execution_options(populate_existing=True))
        if member.refund_state != "pending":
            return "skipped"  # a concurrent run refunded it
        order = db.session.get(Order, member.order_id)
        if isinstance(exc, DomainError) and order.status == OrderStatus.REFUNDED:
            member.refund_state, member.state = "done", MemberState.REFUNDED  # refunded by the shop meanwhile
            return "skipped"
        member.refund_attempts += 1
        member.refund_next_at = now + min(MAX_REFUND_BACKOFF, timedelta(minutes=2 ** min(member.refund_attempts, 6)))
        member.refund_error = f"{type(exc).__name__}: {exc}"[:300]
    log.warning("group-buy refund of member %s failed (attempt %s): %s", member_id, member.refund_attempts, exc)
    return "failed"


def retry_due_refunds(now: datetime | None = None) -> int:
    """Run the refunds still pending whose retry time has come; returns how many were attempted."""
    now = now or clock_now()
    with unit_of_work():
        due = list(db.session.scalars(select(GroupMember.id).where(GroupMember.refund_state == "pending",
                                                                   GroupMember.refund_next_at <= now)
                                      .order_by(GroupMember.id).limit(500)))
    for member_id in due:
        with unit_of_work():  # push the retry time first, so a second sweep meanwhile does not enqueue it too
            db.session.execute(update(GroupMember).where(GroupMember.id == member_id,
                                                         GroupMember.refund_state == "pending")
                               .values(refund_next_at=now + REFUND_GRACE).execution_options(synchronize_session=False))
        _enqueue_refund(member_id, now)
    return len(due)


# --- reading groups ---------------------------------------------------------------------------------------

def group_for(viewer: User | None, group_id: int) -> Group:
    """A group as anyone may see it: every state but pending, which only its leader sees."""
    group = db.session.scalar(select(Group).where(Group.id == group_id)
                              .options(joinedload(Group.product).selectinload(Product.images),
                                       joinedload(Group.leader), joinedload(Group.campaign)))
    if group is None or (group.state == GroupState.PENDING and not (viewer and viewer.id == group.leader_id)):
        raise NotFound(_("No such group."))
    return group


def shown_members(group: Group) -> list[GroupMember]:
    """The members a group page shows: only those who paid (no one who did not pay is ever shown)."""
    return list(db.session.scalars(select(GroupMember).where(
        GroupMember.group_id == group.id,
        GroupMember.state.in_([MemberState.PAID, MemberState.REFUNDED]))
        .options(joinedload(GroupMember.user)).order_by(GroupMember.is_leader.desc(), GroupMember.id)))


def membership(viewer: User | None, group: Group) -> GroupMember | None:
    """The viewer's newest membership of the group (any state), if any."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return None
    return db.session.scalar(select(GroupMember).where(GroupMember.group_id == group.id,
                                                       GroupMember.user_id == viewer.id)
                             .options(joinedload(GroupMember.order)).order_by(GroupMember.id.desc()).limit(1))


def open_groups_for_product(product_id: int, viewer: User | None, limit: int = 5,
                            now: datetime | None = None) -> list[Group]:
    """Up to `limit` open groups of a product to join: opened by people the viewer follows first, then those
    needing the fewest seats, then the nearest deadline."""
    now = now or clock_now()
    query = select(Group).where(Group.product_id == product_id, Group.state == GroupState.OPEN,
                                Group.deadline > now, Group.seats_taken < Group.size)
    followed = None
    if viewer is not None and getattr(viewer, "is_authenticated", False):
        followed = select(Follow.followee_id).where(Follow.follower_id == viewer.id).scalar_subquery()
        query = query.where(Group.leader_id != viewer.id)
        order = [Group.leader_id.in_(followed).desc()]
    else:
        order = []
    order += [(Group.size - Group.seats_taken), Group.deadline]
    return list(db.session.scalars(query.options(joinedload(Group.leader)).order_by(*order).limit(limit)))


def followed_open_group(viewer: User, now: datetime | None = None) -> Group | None:
    """For the Following feed: the open group, opened by someone the viewer follows and not joined by the
    viewer, that needs the fewest seats (then the nearest deadline)."""
    now = now or clock_now()
    joined = select(GroupMember.group_id).where(GroupMember.user_id == viewer.id)
    return db.session.scalar(
        select(Group).join(Follow, (Follow.followee_id == Group.leader_id) & (Follow.follower_id == viewer.id))
        .where(Group.state == GroupState.OPEN, Group.deadline > now, Group.seats_taken < Group.size,
               Group.id.not_in(joined))
        .options(joinedload(Group.leader), joinedload(Group.product).selectinload(Product.images))
        .order_by(Group.size - Group.seats_taken, Group.deadline).limit(1))


def avatars(groups: list[Group], per_group: int = 5) -> dict[int, list[User]]:
    """group id → the paid members to show as avatars (leader first), in one query for all groups."""
    if not groups:
        return {}
    rows = db.session.execute(select(GroupMember.group_id, User).join(User, User.id == GroupMember.user_id)
                              .where(GroupMember.group_id.in_([g.id for g in groups]),
                                     GroupMember.state == MemberState.PAID)
                              .order_by(GroupMember.group_id, GroupMember.is_leader.desc(), GroupMember.id)).all()
    out: dict[int, list[User]] = {g.id: [] for g in groups}
    for group_id, user in rows:
        if len(out[group_id]) < per_group:
            out[group_id].append(user)
    return out


def my_memberships(user: User, limit: int = 100) -> list[GroupMember]:
    """The reader's group-buys, newest first, with their groups, products and orders."""
    return list(db.session.scalars(select(GroupMember).where(GroupMember.user_id == user.id)
                                   .options(joinedload(GroupMember.group).joinedload(Group.product)
                                            .selectinload(Product.images),
                                            joinedload(GroupMember.order))
                                   .order_by(GroupMember.id.desc()).limit(limit)))


def member_of_order(order_id: int) -> GroupMember | None:
    return db.session.scalar(select(GroupMember).where(GroupMember.order_id == order_id)
                             .options(joinedload(GroupMember.group)))


def campaign_product_ok(product: Product) -> bool:
    return product.status == ProductStatus.ACTIVE and product.shop.status == ShopStatus.APPROVED
