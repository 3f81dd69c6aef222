"""HTML pages for accounts: register, log in/out, profile, settings and tokens."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app.accounts import cookies, deletion, services, sessions
from app.accounts.forms import (
    ConfirmForm,
    DeleteAccountForm,
    LoginForm,
    PasswordForm,
    ProfileForm,
    RegisterForm,
    TokenForm,
)
from app.core.errors import Conflict, Invalid
from app.core.forms import safe_next_url, show_errors_on_form
from app.core.i18n import normalise_language
from app.core.timezones import browser_timezone, time_zone_choices
from app.core.uploads import upload_rate_limit
from app.extensions import limiter

bp = Blueprint("accounts", __name__)

AUTH_LIMIT = "10 per minute; 100 per hour"  # per address


def login_account_limit() -> str:
    return current_app.config["LOGIN_ACCOUNT_RATE_LIMIT"]


def login_account_key() -> str:
    """The account a log-in names, so guesses spread over many addresses still count together."""
    return "login-account:" + services.login_key(request.form.get("login", ""))


def failed_login(response) -> bool:
    return response.status_code != 302


@bp.before_app_request
def remember_language_switch():
    """`?lang=` on any page switches this session's language. It never saves the account's preference:
    a GET must not change stored state (a cross-site <img> could do it); Settings saves it by POST."""
    requested = normalise_language(request.args.get("lang"))
    if requested:
        session["lang"] = requested


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("feeds.home"))
    form = RegisterForm(invite=request.args.get("invite", ""))
    if form.validate_on_submit():
        try:
            user = services.sign_up(form.username.data, form.email.data, form.password.data,
                                    invite_code=form.invite.data or None, locale=session.get("lang"))
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            if user is None:  # the email has an account; its owner was told, the visitor is not
                return redirect(url_for("accounts.check_email"))
            cookies.sign_in(user, remember=False)
            flash(_("Welcome to Tastemaker, %(name)s!", name=user.name), "success")
            return redirect(url_for("feeds.home"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("accounts/register.html", form=form), status


@bp.get("/register/check-email")
def check_email():
    """Where a sign-up with an already registered email lands: a neutral page, no account details."""
    return render_template("accounts/check_email.html")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(AUTH_LIMIT, methods=["POST"])
@limiter.limit(login_account_limit, key_func=login_account_key, methods=["POST"], deduct_when=failed_login)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("feeds.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.login.data, form.password.data)
        except services.AccountSuspended as exc:
            flash(exc.message, "error")
            return redirect(url_for("moderation.suspension", token=exc.token))
        except Invalid as exc:
            form.form_errors.append(exc.message)
        else:
            cookies.sign_in(user, remember=form.remember.data)
            if user.locale:
                session["lang"] = user.locale
            flash(_("You are logged in."), "success")
            return redirect(safe_next_url(request.args.get("next"), url_for("feeds.home")))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/logout")
def logout():
    form = ConfirmForm()
    if form.validate_on_submit():
        cookies.sign_out()
        session.pop("lang", None)
        flash(_("You are logged out."), "info")
    return redirect(url_for("feeds.home"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
@upload_rate_limit
def settings():
    form = ProfileForm(obj=current_user)
    form.timezone.choices = [("", _("As my browser says (%(zone)s)", zone=browser_timezone()))] \
        + time_zone_choices()
    if request.method == "GET":
        form.locale.data = current_user.locale or session.get("lang") or "en"
        form.timezone.data = current_user.timezone or ""
    if form.validate_on_submit():
        try:
            upload = form.avatar.data
            if upload and getattr(upload, "filename", ""):
                services.set_avatar(current_user, upload.read(), current_app.config["AVATAR_MAX_BYTES"])
            services.update_profile(current_user, display_name=form.display_name.data or "",
                                    bio=form.bio.data or "", locale=form.locale.data,
                                    timezone=form.timezone.data or "")
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            session["lang"] = current_user.locale
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("accounts.settings"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("accounts/settings.html", form=form, section="profile"), status


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current_password.data, form.new_password.data,
                                     keep_session=cookies.current_secret())
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            flash(_("Your password is changed. Your other devices are signed out."), "success")
            return redirect(url_for("accounts.settings"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("accounts/password.html", form=form, section="password"), status


@bp.route("/settings/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    form = TokenForm()
    new_secret = None
    if form.validate_on_submit():
        days = int(form.expires_in_days.data) if form.expires_in_days.data else None
        try:
            _token, new_secret = services.create_token(current_user, form.name.data, days)
        except Invalid as exc:
            show_errors_on_form(form, exc)
        else:
            form = TokenForm(formdata=None)
    status = 422 if form.errors or form.form_errors else 200
    response = render_template("accounts/tokens.html", form=form, new_secret=new_secret,
                               tokens=services.list_tokens(current_user), revoke_form=ConfirmForm(),
                               section="tokens")
    return response, status


@bp.post("/settings/tokens/<id:token_id>/revoke")
@login_required
def revoke_token(token_id: int):
    form = ConfirmForm()
    if form.validate_on_submit():
        services.revoke_token(current_user, token_id)
        flash(_("The token is revoked."), "info")
    return redirect(url_for("accounts.tokens"))


@bp.get("/settings/devices")
@login_required
def devices():
    """Signed-in devices: where this account is logged in, with sign-out per device or everywhere else."""
    listed = sessions.signed_in_devices(current_user, cookies.current_secret())
    return render_template("accounts/devices.html", devices=listed, confirm_form=ConfirmForm(),
                           section="devices")


@bp.post("/settings/devices/<id:session_id>/sign-out")
@login_required
def sign_out_device(session_id: int):
    if ConfirmForm().validate_on_submit():
        sessions.revoke_session(current_user, session_id)
        flash(_("That device is signed out."), "info")
    return redirect(url_for("accounts.devices"))


@bp.post("/settings/devices/sign-out-others")
@login_required
def sign_out_other_devices():
    if ConfirmForm().validate_on_submit():
        count = sessions.revoke_other_sessions(current_user, cookies.current_secret())
        flash(ngettext("%(num)s other device is signed out.", "%(num)s other devices are signed out.", count),
              "info")
    return redirect(url_for("accounts.devices"))


@bp.route("/settings/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    """Delete (anonymise) the account after the password is confirmed."""
    form = DeleteAccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            deletion.delete_account(current_user, form.password.data)
        except Invalid as exc:
            show_errors_on_form(form, exc)
        except Conflict as exc:  # the shop still has orders in progress
            form.form_errors.append(exc.message)
            status = 409
        else:
            cookies.sign_out()
            session.pop("lang", None)
            flash(_("Your account is deleted."), "info")
            return redirect(url_for("feeds.home"))
    if status == 200 and (form.errors or form.form_errors):
        status = 422
    return render_template("accounts/delete.html", form=form, section="delete"), status


@bp.get("/me")
@login_required
def me():
    """The phone tab bar's "Me": the signed-in person's links, settings and log out in one place."""
    return render_template("accounts/me.html")
