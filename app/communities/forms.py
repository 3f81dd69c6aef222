"""HTML forms for communities; the rules themselves live in services."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.communities.services import DESCRIPTION_MAX, NAME_MAX, RULES_MAX, vertical_choices


class CommunityForm(FlaskForm):
    """Edit form (owner or admin). `owner` is shown to admins only."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    vertical = SelectField(_l("Vertical"))
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=DESCRIPTION_MAX)])
    rules_md = TextAreaField(_l("Rules"), validators=[Optional(), Length(max=RULES_MAX)])
    banner = FileField(_l("Banner image"))
    owner = StringField(_l("Owner (username)"), validators=[Optional(), Length(max=31)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.vertical.choices = vertical_choices()  # translated at request time


class NewCommunityForm(CommunityForm):
    slug = StringField(_l("Address"), validators=[DataRequired(), Length(max=40)])
    owner = StringField(_l("Owner (username)"), validators=[DataRequired(), Length(max=31)])
