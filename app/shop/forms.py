"""HTML forms of the storefront. They only carry fields; every rule is checked by the services."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional


class ShopApplicationForm(FlaskForm):
    name = StringField(_l("Shop name"), render_kw={"maxlength": 80})
    slug = StringField(_l("Shop address"), render_kw={"maxlength": 40, "pattern": "[a-z0-9-]{3,40}",
                                                       "autocapitalize": "none"})
    description = TextAreaField(_l("What do you sell?"), render_kw={"rows": 4, "maxlength": 5000})


class RejectForm(FlaskForm):
    reason = StringField(_l("Reason"), render_kw={"maxlength": 500})


class ProductForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"maxlength": 120})
    description = TextAreaField(_l("Description"), render_kw={"rows": 5})
    community = SelectField(_l("Community"), validators=[Optional()])
    commission = StringField(_l("Creator commission (%)"), default="5", render_kw={"inputmode": "decimal"})
    code = StringField(_l("Option code (SKU)"), render_kw={"maxlength": 40, "autocapitalize": "none"})
    label = StringField(_l("Option name"), render_kw={"maxlength": 80})
    price = StringField(_l("Price (¥)"), render_kw={"inputmode": "decimal"})
    stock = StringField(_l("Stock"), default="0", render_kw={"inputmode": "numeric"})
    images = MultipleFileField(_l("Images"))


class SkuForm(FlaskForm):
    code = StringField(_l("Option code (SKU)"), render_kw={"maxlength": 40, "autocapitalize": "none"})
    label = StringField(_l("Option name"), render_kw={"maxlength": 80})
    price = StringField(_l("Price (¥)"), render_kw={"inputmode": "decimal"})
    stock = StringField(_l("Stock"), default="0", render_kw={"inputmode": "numeric"})


class StockForm(FlaskForm):
    delta = StringField(_l("Add or remove units"), render_kw={"inputmode": "numeric", "placeholder": "+10 / -2"})


class AddressForm(FlaskForm):
    recipient_name = StringField(_l("Recipient"), render_kw={"maxlength": 60, "autocomplete": "name"})
    phone = StringField(_l("Phone"), render_kw={"maxlength": 30, "autocomplete": "tel", "inputmode": "tel"})
    region = StringField(_l("Province and city"), render_kw={"maxlength": 120, "autocomplete": "address-level1"})
    line1 = StringField(_l("Street address"), render_kw={"maxlength": 200, "autocomplete": "street-address"})
    postal_code = StringField(_l("Postal code"), render_kw={"maxlength": 20, "autocomplete": "postal-code"})


class CheckoutForm(FlaskForm):
    address_id = RadioField(_l("Ship to"), choices=[], validate_choice=False, validators=[Optional()])
    coupon = StringField(_l("Coupon code"), render_kw={"maxlength": 40, "autocapitalize": "characters"})
    # A new random value each time the page renders, sent as the checkout's idempotency key: the same
    # form submitted twice (a double-click, a resent POST) places one order.
    checkout_token = HiddenField()


class ShipForm(FlaskForm):
    tracking_number = StringField(_l("Tracking number"), render_kw={"maxlength": 64})


class RefundForm(FlaskForm):
    reason = StringField(_l("Reason"), render_kw={"maxlength": 300})


class CouponForm(FlaskForm):
    code = StringField(_l("Code"), render_kw={"maxlength": 40, "autocapitalize": "characters"})
    kind = RadioField(_l("Discount"), choices=[("percent", _l("Percentage off")), ("fixed", _l("Amount off"))],
                      default="percent", validators=[Optional()])
    value = StringField(_l("Percent or amount (¥)"), render_kw={"inputmode": "decimal"})
    min_spend = StringField(_l("Minimum spend (¥)"), default="0", render_kw={"inputmode": "decimal"})
    starts_at = StringField(_l("Starts (YYYY-MM-DD)"), render_kw={"type": "date"})
    ends_at = StringField(_l("Ends (YYYY-MM-DD)"), render_kw={"type": "date"})
    total_uses = StringField(_l("Total uses"), render_kw={"inputmode": "numeric"})
    per_user_limit = StringField(_l("Uses per customer"), default="1", render_kw={"inputmode": "numeric"})
    claimable = BooleanField(_l("Let readers claim it on my shop and product pages (领券)"))


class AfterSaleForm(FlaskForm):
    """The buyer's after-sales request; the units per line come as qty-<order line id> fields."""

    kind = RadioField(_l("What do you want?"), choices=[("refund", _l("Refund only")),
                                                        ("return", _l("Return and refund"))],
                      default="refund", validators=[Optional()])
    reason = SelectField(_l("Reason"), validators=[Optional()])
    note = TextAreaField(_l("Describe the problem"), render_kw={"rows": 3, "maxlength": 1000})
    photos = MultipleFileField(_l("Photos (up to 3)"), render_kw={"accept": "image/*"})


class AfterSaleDeclineForm(FlaskForm):
    reason = StringField(_l("Why are you declining?"), render_kw={"maxlength": 500})


class ReturnTrackingForm(FlaskForm):
    tracking_number = StringField(_l("Return tracking number"), render_kw={"maxlength": 64})


class EscalateForm(FlaskForm):
    note = TextAreaField(_l("What should the site's team know?"), render_kw={"rows": 3, "maxlength": 500})


class ResolveForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=[("refund", _l("Refund the buyer")),
                                                   ("close", _l("Uphold the shop's decline"))],
                          default="refund", validators=[Optional()])
    note = StringField(_l("Reason (both sides see it)"), render_kw={"maxlength": 500})


class ShopSettingsForm(FlaskForm):
    name = StringField(_l("Shop name"), render_kw={"maxlength": 80})
    description = TextAreaField(_l("About the shop"), render_kw={"rows": 4, "maxlength": 5000})
    return_policy = TextAreaField(_l("Return policy"), render_kw={"rows": 4, "maxlength": 5000})
    contact = StringField(_l("Contact (phone, WeChat or email)"), render_kw={"maxlength": 200})
    logo = FileField(_l("Logo"), render_kw={"accept": "image/*"})
    banner = FileField(_l("Banner"), render_kw={"accept": "image/*"})


class ProductEditForm(FlaskForm):
    title = StringField(_l("Title"), render_kw={"maxlength": 120})
    description = TextAreaField(_l("Description"), render_kw={"rows": 6})
    community = SelectField(_l("Community"), validators=[Optional()])
