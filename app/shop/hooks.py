"""Order lifecycle hooks: the domains above the shop (group-buys, commissions) react to an order's moves
without the shop importing them (the layer contract in pyproject.toml forbids that).

A listener is connected once at app start (from the domain's `init_app`) and is called inside the same
unit of work as the move, so what it writes commits or rolls back with the move itself. Listeners must be
idempotent (a job may run twice) and must not commit. Keep them cheap: they run on the payment callback's
and the refund's transaction.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover - typing only
    from app.shop.models import Order, Refund

# fn(order, from_status, to_status, now): after every order status move (transition_order), e.g. paid,
# cancelled, shipped, completed, refunded, partially_refunded.
OrderMoved = Callable[["Order", str, str, datetime], None]
# fn(order, refund, now): after a refund of `order` is recorded; refund.lines says which lines and how much.
RefundIssued = Callable[["Order", "Refund", datetime], None]

_order_moved: list[OrderMoved] = []
_refund_issued: list[RefundIssued] = []


def on_order_moved(listener: OrderMoved) -> OrderMoved:
    if listener not in _order_moved:
        _order_moved.append(listener)
    return listener


def on_refund_issued(listener: RefundIssued) -> RefundIssued:
    if listener not in _refund_issued:
        _refund_issued.append(listener)
    return listener


def order_moved(order: Order, from_status: str, to_status: str, now: datetime) -> None:
    for listener in list(_order_moved):
        listener(order, from_status, to_status, now)


def refund_issued(order: Order, refund: Refund, now: datetime) -> None:
    for listener in list(_refund_issued):
        listener(order, refund, now)


# --- product page panels (group-buys) ----------------------------------------------------------------------
# fn(product, viewer) -> HTML (a Markup) or "": a panel a domain above the shop shows on the product page
# under the buy box (group-buys: the campaign price, "Open a group" and the open groups to join). Called while
# the page renders, read-only; the shop's template knows nothing of what a panel holds.
ProductPanel = Callable[[object, object], str]

_product_panels: list[ProductPanel] = []


def on_product_page(panel: ProductPanel) -> ProductPanel:
    if panel not in _product_panels:
        _product_panels.append(panel)
    return panel


def product_page_panels(product, viewer) -> list[str]:
    """The registered panels' HTML for this product page, in registration order, empty ones left out."""
    return [html for html in (panel(product, viewer) for panel in list(_product_panels)) if html]


# fn(order, viewer) -> HTML or "": a panel on the order page (group-buys: which group, its state, the refund).
OrderPanel = Callable[[object, object], str]

_order_panels: list[OrderPanel] = []


def on_order_page(panel: OrderPanel) -> OrderPanel:
    if panel not in _order_panels:
        _order_panels.append(panel)
    return panel


def order_page_panels(order, viewer) -> list[str]:
    return [html for html in (panel(order, viewer) for panel in list(_order_panels)) if html]
# --- order placed (added for commissions; separate from the lists above so other domains can add theirs) ---

# fn(order, now): after checkout created `order` and its lines (flushed, ids known), before the buyer's cart
# items are removed, inside the checkout's transaction. Attribution is snapshotted here (app/affiliate), so
# a later rate change or click never moves an order already placed. Listeners must not commit.
OrderPlaced = Callable[["Order", datetime], None]

_order_placed: list[OrderPlaced] = []


def on_order_placed(listener: OrderPlaced) -> OrderPlaced:
    if listener not in _order_placed:
        _order_placed.append(listener)
    return listener


def order_placed(order: Order, now: datetime) -> None:
    for listener in list(_order_placed):
        listener(order, now)


# --- shop dashboard panels (group-buy fill rates on the affiliate sales dashboard) ---------------------------
# fn(shop, days) -> HTML (a Markup) or "": a panel a domain above the shop adds to the shop's sales dashboard
# (/shop/<slug>/dashboard, app/affiliate) for the chosen 7/30/90-day period. The dashboard and the panel's
# domain (app/groupbuy) are siblings and never import each other; the caller has checked the viewer may see
# the shop's figures. Read-only, aggregate queries only.
DashboardPanel = Callable[[object, int], str]

_dashboard_panels: list[DashboardPanel] = []


def on_dashboard_panel(panel: DashboardPanel) -> DashboardPanel:
    if panel not in _dashboard_panels:
        _dashboard_panels.append(panel)
    return panel


def dashboard_panels(shop, days: int) -> list[str]:
    return [html for html in (panel(shop, days) for panel in list(_dashboard_panels)) if html]
