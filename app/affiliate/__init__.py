"""Sharing commissions (分销 / CPS): share links, attribution, the commission ledger, earnings, payouts.

`init_app` connects the shop's order hooks (placed → attribution snapshot, paid → pending commission,
refund → reversal) and the accounts' registration hook (an invited user follows the inviter), carries a
visitor's share-link clicks over to their account at log-in, and offers the
lower layers' templates an `affiliate_panel(kind, obj)` global (share button, disclosure, sales figures), so
neither posts nor the shop import this package.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from app.accounts import hooks as account_hooks
    from app.affiliate import attribution, invites, ledger, views
    from app.affiliate.panels import affiliate_panel
    from app.shop import hooks

    hooks.on_order_placed(attribution.attribute_order)
    hooks.on_order_moved(ledger.accrue_paid_order)
    hooks.on_refund_issued(ledger.reverse_refunded_lines)
    account_hooks.on_user_registered(invites.follow_inviter)
    app.register_blueprint(views.bp)
    app.jinja_env.globals["affiliate_panel"] = affiliate_panel
    views.connect_visitor_cookie(app)
