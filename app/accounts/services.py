"""Account rules: registration, authentication, profiles, passwords and API tokens."""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from app.accounts import hooks, sessions
from app.accounts.mail import queue_email
from app.accounts.models import ApiToken, User
from app.core import images
from app.core.clock import now
from app.core.errors import Invalid, NotFound, Unauthorized
from app.core.i18n import SUPPORTED
from app.core.timezones import is_time_zone
from app.core.uow import after_commit, transactional, unit_of_work
from app.extensions import db
from app.search.queue import queue_user

USERNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,29}$")
# Names that would collide with routes, staff or impersonation.
RESERVED_USERNAMES = frozenset({
    "admin", "administrator", "api", "static", "media", "root", "system", "support", "help", "staff",
    "moderator", "mod", "mods", "tastemaker", "official", "login", "logout", "register", "settings",
    "healthz", "search", "shop", "shops", "pay", "payments", "notifications", "following", "feed", "null",
    "undefined", "anonymous", "me", "www", "mail", "security",
})
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password123", "1234567890", "12345678910", "qwertyuiop", "iloveyou123",
    "letmein123", "welcome123", "admin12345", "abc1234567", "passw0rd12", "1q2w3e4r5t", "qwerty12345",
})
PASSWORD_MIN_LENGTH = 10
AVATAR_SIZE = 256
AVATAR_RENDITION = images.Rendition("avatars", AVATAR_SIZE, AVATAR_SIZE, mode="RGB")  # square, cropped
TOKEN_PREFIX = "tm_"
DEMO_USERNAMES = ("admin", "reader", "creator", "merchant", "moderator")

# A real hash per method to compare against when the account does not exist, so both paths take as long.
_DUMMY_HASHES: dict[str, str] = {}


def _field_error(field: str, message: str) -> Invalid:
    return Invalid(message, {field: [message]})


def _hash_method() -> str:
    """PASSWORD_HASH_METHOD: scrypt everywhere but under test (app/config.py's TestConfig)."""
    return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt") if has_app_context() else "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hash_method())


def _dummy_hash() -> str:
    method = _hash_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash("not-a-real-password", method=method)
    return _DUMMY_HASHES[method]


# Bidirectional marks, embeddings, overrides and isolates reorder how a name reads ("moc.elgoog" shown
# as "google.com"); with control characters and line separators they are never part of a real name.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_REFUSED_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Cn", "Zl", "Zp"})


def check_name_characters(value: str, field: str) -> str:
    """Refuse control, bidirectional-override/isolate and line-separator characters in a name.

    The one check for usernames and display names, used by registration, settings and the API.
    Joiners used inside emoji (U+200D) stay allowed."""
    for char in value:
        if char in BIDI_CONTROLS or unicodedata.category(char) in _REFUSED_CATEGORIES:
            raise _field_error(field, _("Remove invisible control or text-direction characters."))
    return value


def check_username(username: str, *, allow_reserved: bool = False) -> str:
    """Return the username if it is well formed and not reserved, else raise Invalid."""
    username = check_name_characters((username or "").strip(), "username")
    if not USERNAME_RE.fullmatch(username):
        raise _field_error("username", _(
            "Use 3–30 letters, digits or underscores, starting with a letter."))
    if not allow_reserved and username.lower() in RESERVED_USERNAMES:
        raise _field_error("username", _("This username is reserved. Choose another."))
    return username


def check_email(email: str) -> str:
    try:
        return validate_email((email or "").strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise _field_error("email", _("Enter a valid email address.")) from None


def password_problems(password: str, username: str = "") -> list[str]:
    """Why a password is too weak (empty list when it is acceptable)."""
    problems = []
    if len(password) < PASSWORD_MIN_LENGTH:
        problems.append(_("Use at least %(n)s characters.", n=PASSWORD_MIN_LENGTH))
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]", r"[^A-Za-z0-9]"))
    if len(password) < 16 and classes < 2:
        problems.append(_("Mix letters with digits or symbols, or use 16 or more characters."))
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(password)) < 4:
        problems.append(_("This password is too easy to guess."))
    if username and len(username) >= 3 and username.lower() in lowered:
        problems.append(_("Do not include your username in the password."))
    return problems


def check_password_strength(password: str, username: str = "", field: str = "password") -> None:
    problems = password_problems(password or "", username)
    if problems:
        raise Invalid(problems[0], {field: problems})


def get_user_by_username(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username_key == (username or "").lower()))
    if user is None:
        raise NotFound(_("No such user."))
    return user


class EmailAlreadyRegistered(Invalid):
    """The email belongs to an account. Pages must not say so (see `sign_up`); the CLI may."""

    def __init__(self, owner_id: int):
        message = _("An account with this email already exists.")
        super().__init__(message, {"email": [message]})
        self.owner_id = owner_id


def register_user(username: str, email: str, password: str, *, invite_code: str | None = None,
                  display_name: str = "", locale: str | None = None, allow_reserved: bool = False) -> User:
    """Create a reader account; duplicate names or emails (in any case) are refused.

    The email is checked last, after everything a visitor can see anyway (usernames are public), so
    `EmailAlreadyRegistered` is raised only when the sign-up would otherwise have succeeded."""
    username = check_username(username, allow_reserved=allow_reserved)
    email = check_email(email)
    check_password_strength(password, username)
    display_name = check_name_characters((display_name or "").strip(), "display_name")[:60]
    if db.session.scalar(select(User.id).where(User.username_key == username.lower())):
        raise _field_error("username", _("This username is taken."))
    inviter = None
    if invite_code:
        inviter = db.session.scalar(select(User).where(User.invite_code == invite_code.strip(),
                                                       User.deleted_at.is_(None)))
        if inviter is None:
            raise _field_error("invite", _("This invite code does not exist. Check it, or leave it empty."))
    owner_id = db.session.scalar(select(User.id).where(User.email_key == email.lower()))
    if owner_id:
        raise EmailAlreadyRegistered(owner_id)
    user = User(
        username=username, username_key=username.lower(), email=email, email_key=email.lower(),
        password_hash=hash_password(password), display_name=display_name,
        locale=locale if locale in SUPPORTED else None, invited_by=inviter,
    )
    db.session.add(user)
    try:
        with unit_of_work():
            db.session.flush()
            queue_user(user.id)
            hooks.user_registered(user)  # e.g. an invited user follows their inviter (app/affiliate)
    except IntegrityError:  # a concurrent registration took the name or email first (the unit rolled back)
        owner_id = db.session.scalar(select(User.id).where(User.email_key == email.lower()))
        if owner_id and not db.session.scalar(select(User.id).where(User.username_key == username.lower())):
            raise EmailAlreadyRegistered(owner_id) from None
        raise _field_error("username", _("This username is taken.")) from None
    return user


# One "someone tried to sign up with your email" notice per account per this period, so the form
# cannot be used to flood someone's inbox.
SIGNUP_NOTICE_INTERVAL = timedelta(hours=1)


def sign_up(username: str, email: str, password: str, **extra) -> User | None:
    """Registration as the public pages see it: the new user, or None when the email already has an
    account. Then the owner gets an email notice and the caller answers exactly as it does for any
    "check your email" outcome, so the form does not tell strangers which emails are registered."""
    try:
        return register_user(username, email, password, **extra)
    except EmailAlreadyRegistered as exc:
        owner = db.session.get(User, exc.owner_id)
        with force_locale(owner.locale or "en"):
            subject = _("Someone tried to sign up to Tastemaker with your email")
            body = _("Someone (perhaps you) tried to create a new Tastemaker account with this email address. "
                     "You already have an account: your username is %(username)s. Log in with it as usual. "
                     "If this was not you, you can ignore this message; nothing was changed.",
                     username=owner.username)
        with unit_of_work():
            queue_email(owner, "signup_attempt", subject, body, min_interval=SIGNUP_NOTICE_INTERVAL)
        return None


def login_key(login: str) -> str:
    """A rate-limit key for the account a log-in form names (username or email alike)."""
    key = (login or "").strip().lower()[:254]
    column = User.email_key if "@" in key else User.username_key
    user_id = db.session.scalar(select(User.id).where(column == key)) if key else None
    return f"user:{user_id}" if user_id else f"name:{key}"


class AccountSuspended(Invalid):
    """The right password for a suspended account: say so (the person proved who they are), with a
    short-lived token that lets them read the reason and appeal without logging in."""

    code = "account-suspended"

    def __init__(self, user: User):
        if user.suspended_until is not None:
            from flask_babel import format_datetime

            message = _("Your account is suspended until %(until)s.", until=format_datetime(user.suspended_until,
                                                                                             "short"))
        else:
            message = _("Your account is suspended.")
        super().__init__(message)
        self.token = suspension_token(user.id)


SUSPENSION_TOKEN_SECONDS = 3600


def _suspension_serializer():
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="suspension-appeal")


def suspension_token(user_id: int) -> str:
    return _suspension_serializer().dumps(user_id)


def user_for_suspension_token(token: str | None) -> User | None:
    """The suspended account a token (from a log-in attempt within the last hour) names, or None."""
    from itsdangerous import BadSignature

    try:
        user_id = _suspension_serializer().loads(token or "", max_age=SUSPENSION_TOKEN_SECONDS)
    except BadSignature:
        return None
    user = db.session.get(User, user_id) if isinstance(user_id, int) else None
    return user if user is not None and user.is_suspended and user.deleted_at is None else None


def authenticate(login: str, password: str) -> User:
    """Return the user for a username-or-email and password; one message for every failure, except that
    the right password for a suspended account is told so (AccountSuspended)."""
    key = (login or "").strip().lower()
    column = User.email_key if "@" in key else User.username_key
    user = db.session.scalar(select(User).where(column == key)) if key else None
    valid = check_password_hash(user.password_hash if user else _dummy_hash(), password or "")
    if user is not None and valid and user.deleted_at is None and user.is_suspended:
        raise AccountSuspended(user)
    if user is None or not valid or not user.is_active:
        raise Invalid(_("Wrong username/email or password."))
    with unit_of_work():
        user.last_login_at = now()
    return user


@transactional
def update_profile(user: User, *, display_name: str | None = None, bio: str | None = None,
                   locale: str | None = None, timezone: str | None = None) -> User:
    """Change the profile fields that were given (timezone "" means: follow the browser)."""
    if display_name is not None:
        display_name = check_name_characters(display_name.strip(), "display_name")
        if len(display_name) > 60:
            raise _field_error("display_name", _("Use at most 60 characters."))
        user.display_name = display_name
    if bio is not None:
        if len(bio) > 500:
            raise _field_error("bio", _("Use at most 500 characters."))
        user.bio = bio.strip()
    if locale is not None:
        if locale not in SUPPORTED:
            raise _field_error("locale", _("Choose English or Simplified Chinese."))
        user.locale = locale
    if timezone is not None:
        if timezone and not is_time_zone(timezone):
            raise _field_error("timezone", _("Choose a time zone from the list, such as Asia/Shanghai."))
        user.timezone = timezone or None
    queue_user(user.id)
    return user


@transactional
def set_avatar(user: User, data: bytes, max_bytes: int) -> User:
    """Store a re-encoded square avatar; anything that is not a real image is refused."""
    (avatar,) = images.prepare_upload(data, [AVATAR_RENDITION], field="avatar", max_bytes=max_bytes)
    path = images.store_encoded(avatar)
    old, user.avatar_path = user.avatar_path, path
    after_commit(lambda: images.delete_media(old))
    return user


@transactional
def change_password(user: User, current: str, new: str, *, keep_session: str | None = None) -> None:
    """Change the password and sign out every other log-in (sessions and remember cookies) of the user;
    the log-in whose secret is keep_session stays. Personal API tokens are kept: revoke them in Settings."""
    if not check_password_hash(user.password_hash, current or ""):
        raise _field_error("current_password", _("Your current password is not right."))
    check_password_strength(new, user.username, field="new_password")
    user.password_hash = hash_password(new)
    sessions.revoke_other_sessions(user, keep_session)  # joins this unit of work


def check_current_password(user: User, password: str, field: str = "password") -> None:
    if not check_password_hash(user.password_hash, password or ""):
        raise _field_error(field, _("Your current password is not right."))


@transactional
def set_admin(user: User, is_admin: bool = True) -> User:
    user.is_admin = is_admin
    return user


# --- personal API tokens -------------------------------------------------------------------------

def _token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transactional
def create_token(user: User, name: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token; return it with its secret, which is never stored and shown only now."""
    name = (name or "").strip()
    if not name or len(name) > 60:
        raise _field_error("name", _("Give the token a name of 1–60 characters."))
    if expires_in_days is not None and not 1 <= expires_in_days <= 366:
        raise _field_error("expires_in_days", _("Choose between 1 and 366 days, or no expiry."))
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name, prefix=secret[:10], token_hash=_token_digest(secret),
        expires_at=now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(token)
    return token, secret


def list_tokens(user: User) -> list[ApiToken]:
    return list(db.session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def revoke_token(user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (revoking twice is harmless)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise NotFound(_("No such token."))
    if token.revoked_at is None:
        with unit_of_work():
            token.revoked_at = now()
    return token


def user_for_token(secret: str) -> User:
    """The active user a bearer secret belongs to; expired, revoked or unknown secrets are refused."""
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _token_digest(secret or "")))
    moment = now()
    if token is None or not token.is_usable(moment) or not token.user.is_active:
        raise Unauthorized(_("The access token is invalid, expired or revoked."))
    # Record use at most once a minute so every API call does not write.
    if token.last_used_at is None or moment - token.last_used_at > timedelta(minutes=1):
        with unit_of_work():
            token.last_used_at = moment
    return token.user


def demo_accounts_present() -> list[str]:
    """Usernames of demo accounts in the database (a production start refuses to run with them)."""
    return list(db.session.scalars(select(User.username).where(User.is_demo.is_(True))
                                   .where(User.username_key.in_(DEMO_USERNAMES))))
