"""Group-buys (拼团): campaigns, groups and members; open / join / fill / expire with automatic refunds.

`init_app(app)` connects the package to the shop below it (the shop never imports it): the order hook that
keeps seats in step with orders, the product and order page panels, and the fill-rate panel of the shop's sales
dashboard. The expiry schedule is listed in
app/jobs/runner.py's SCHEDULES. Importing the package registers its notification kinds.
"""
from __future__ import annotations

from app.groupbuy import notices  # noqa: F401  (registers the notification kinds)


def init_app(app) -> None:
    from app.groupbuy import panels, services
    from app.shop import hooks

    hooks.on_order_moved(services.on_order_moved)
    hooks.on_product_page(panels.product_panel)
    hooks.on_order_page(panels.order_panel)
    hooks.on_dashboard_panel(panels.dashboard_panel)
