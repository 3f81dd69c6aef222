"""How group-buy notifications read and link (registered with app.social.notifications at import)."""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.social.notifications import register_kind, register_target_type


def _load_groups(ids: list[int]) -> dict[int, Any]:
    from sqlalchemy.orm import joinedload

    from app.groupbuy.models import Group

    return {group.id: group for group in db.session.scalars(select(Group).where(Group.id.in_(ids))
                                                            .options(joinedload(Group.product)))}


register_target_type("group", _load_groups, lambda group: f"/g/{group.id}",
                     lambda group: _("the group for %(title)s", title=group.product.title))
register_kind("group_filled", _l("Your group-buy filled: %(target)s ships now"), "check")
register_kind("group_expired", _l("Your group-buy expired before it filled (%(target)s); your payment is refunded"),
              "refund")
