"""HTML forms of group-buys. They carry fields (and the CSRF token); every rule is the services'."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField


class JoinForm(FlaskForm):
    """Open or join a group: an option, a quantity and a saved address (read from the request by the view)."""

    quantity = StringField(_l("Quantity"), default="1", render_kw={"inputmode": "numeric"})
    coupon_code = StringField(_l("Coupon code"), render_kw={"maxlength": 40, "autocapitalize": "characters"})


class CampaignForm(FlaskForm):
    group_size = StringField(_l("Group size"), render_kw={"inputmode": "numeric"})
    window_hours = StringField(_l("Hours to fill"), render_kw={"inputmode": "numeric"})
    per_order_limit = StringField(_l("Units per order"), render_kw={"inputmode": "numeric"})
    per_user_limit = StringField(_l("Units per person"), render_kw={"inputmode": "numeric"})
    units_cap = StringField(_l("Cap on units (optional)"), render_kw={"inputmode": "numeric"})
    coupon_stacks = BooleanField(_l("Coupons may be used on top of the group price"))
