"""HTML forms for accounts; the rules themselves live in services."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

LANGUAGE_CHOICES = [("en", "English"), ("zh_Hans", "简体中文")]


class RegisterForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=30)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    invite = StringField(_l("Invite code (optional)"), validators=[Optional(), Length(max=16)])


class LoginForm(FlaskForm):
    login = StringField(_l("Username or email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Remember me"))


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[Optional(), Length(max=60)])
    bio = TextAreaField(_l("Bio"), validators=[Optional(), Length(max=500)])
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    # Checked by the service (a clear error names the field), so any submitted value reaches it.
    timezone = SelectField(_l("Time zone"), validate_choice=False)
    avatar = FileField(_l("Avatar"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=200)])


class DeleteAccountForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=200)])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=60)])
    expires_in_days = SelectField(
        _l("Expires"),
        choices=[("30", _l("In 30 days")), ("90", _l("In 90 days")), ("365", _l("In a year")),
                 ("", _l("Never"))],
        default="90",
    )


class ConfirmForm(FlaskForm):
    """An empty form: a CSRF-protected button (log out, revoke)."""
