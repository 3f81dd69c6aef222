"""HTML forms for posts, comments and collections; the rules themselves live in services."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from app.posts.services import TITLE_MAX


class PostForm(FlaskForm):
    """Length and presence are checked by the service, so the same messages reach the API."""

    community = SelectField(_l("Community"), validators=[Optional()])
    kind = RadioField(_l("Kind"), choices=[("note", _l("Note")), ("review", _l("Review"))], default="note",
                      validators=[Optional()])
    title = StringField(_l("Title"), render_kw={"maxlength": TITLE_MAX})
    body = TextAreaField(_l("Text"), render_kw={"rows": 8})
    tags = StringField(_l("Tags"))
    rating = SelectField(_l("Rating"), choices=[("", "—"), ("5", "★★★★★"), ("4", "★★★★"), ("3", "★★★"),
                                                ("2", "★★"), ("1", "★")], validators=[Optional()])
    images = MultipleFileField(_l("Images"))
    # Product tags: a checkbox per tagged product (untick to remove), numbers typed in (works without
    # JavaScript), a radio for the product a review rates, and a pin_<product id> text field per product.
    product_ids = SelectMultipleField(_l("Products in this note"), choices=[], validate_choice=False,
                                      validators=[Optional()])
    add_products = StringField(_l("Add products by number"))
    reviewed_product_id = StringField(_l("The product this review rates"))
    pins = StringField(_l("Pins"))  # holds pin errors; the values come from the pin_<id> fields
    discloses_own_product = BooleanField(_l("I sell a product tagged here (my own product)"))


class CommentForm(FlaskForm):
    body = TextAreaField(_l("Comment"), render_kw={"rows": 2})
    parent_id = HiddenField()


class CollectionForm(FlaskForm):
    name = StringField(_l("Name"))
    is_public = BooleanField(_l("Public: anyone can see this collection"))
