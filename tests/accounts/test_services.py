"""Account rules through the service layer."""
import io
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.accounts import services
from app.accounts.models import ApiToken, User
from app.core.clock import frozen_at, now
from app.core.errors import Invalid, Unauthorized
from app.extensions import db

GOOD = "correct-Horse-42"


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_register_stores_scrypt_hash_and_lowercase_keys(ctx):
    ctx.config["PASSWORD_HASH_METHOD"] = "scrypt"  # every Config's but TestConfig's (one fast round)
    user = services.register_user("Ann_Lee", "Ann@Example.com", GOOD)
    assert user.username == "Ann_Lee" and user.username_key == "ann_lee"
    assert user.email_key == "ann@example.com"
    assert user.password_hash.startswith("scrypt:") and GOOD not in user.password_hash
    assert not user.is_admin and not user.is_creator and not user.is_merchant


def test_tests_hash_fast_and_log_in_against_either_method(ctx):
    fast = services.register_user("fast", "fast@example.com", GOOD)
    ctx.config["PASSWORD_HASH_METHOD"] = "scrypt"
    slow = services.register_user("slow", "slow@example.com", GOOD)
    assert fast.password_hash.startswith("pbkdf2:sha256:1$") and slow.password_hash.startswith("scrypt:")
    assert services.authenticate("fast", GOOD).id == fast.id and services.authenticate("slow", GOOD).id == slow.id
    with pytest.raises(Invalid):
        services.authenticate("nobody", GOOD)


@pytest.mark.parametrize("username,email", [("ANN", "other@example.com"), ("other", "ANN@EXAMPLE.COM")])
def test_duplicate_username_or_email_in_any_case_is_refused(ctx, username, email):
    services.register_user("ann", "ann@example.com", GOOD)
    with pytest.raises(Invalid) as err:
        services.register_user(username, email, GOOD)
    assert set(err.value.errors) & {"username", "email"}
    assert count_users() == 1


@pytest.mark.parametrize("password", ["short1A", "lowercaseonly", "1234567890", "password123",
                                      "aaaaaaaaaaaaaaaaaaaa", "my-ann-password-1"])
def test_weak_passwords_are_refused(ctx, password):
    with pytest.raises(Invalid) as err:
        services.register_user("ann", "ann@example.com", password)
    assert err.value.errors["password"]
    assert count_users() == 0


@pytest.mark.parametrize("name", ["admin", "API", "static", "Settings", "ab", "1abc", "has space", "x" * 31])
def test_reserved_or_malformed_usernames_are_refused(ctx, name):
    with pytest.raises(Invalid) as err:
        services.register_user(name, "x@example.com", GOOD)
    assert "username" in err.value.errors
    assert count_users() == 0


def test_invite_code_records_inviter(ctx):
    inviter = services.register_user("inviter", "i@example.com", GOOD)
    invited = services.register_user("invited", "j@example.com", GOOD, invite_code=inviter.invite_code)
    assert invited.invited_by_id == inviter.id


def test_authenticate_by_username_or_email_and_one_message_for_all_failures(ctx):
    services.register_user("ann", "ann@example.com", GOOD)
    assert services.authenticate("ANN", GOOD).username == "ann"
    assert services.authenticate("ann@EXAMPLE.com", GOOD).username == "ann"
    with pytest.raises(Invalid) as wrong_password:
        services.authenticate("ann", "wrong-Password-1")
    with pytest.raises(Invalid) as no_account:
        services.authenticate("nobody", "wrong-Password-1")
    assert wrong_password.value.message == no_account.value.message


def test_suspended_user_cannot_log_in(ctx):
    user = services.register_user("ann", "ann@example.com", GOOD)
    user.suspended_at = now()
    db.session.commit()
    with pytest.raises(Invalid):
        services.authenticate("ann", GOOD)


def test_change_password_needs_current_password(ctx):
    user = services.register_user("ann", "ann@example.com", GOOD)
    with pytest.raises(Invalid) as err:
        services.change_password(user, "not-the-password-1", "another-Good-pass-9")
    assert "current_password" in err.value.errors
    services.change_password(user, GOOD, "another-Good-pass-9")
    assert services.authenticate("ann", "another-Good-pass-9").id == user.id


def test_update_profile_validates_lengths_and_language(ctx):
    user = services.register_user("ann", "ann@example.com", GOOD)
    services.update_profile(user, display_name="  Ann  ", bio="Hello", locale="zh_Hans")
    assert (user.display_name, user.bio, user.locale) == ("Ann", "Hello", "zh_Hans")
    for field, kwargs in [("display_name", {"display_name": "x" * 61}), ("bio", {"bio": "x" * 501}),
                          ("locale", {"locale": "fr"})]:
        with pytest.raises(Invalid) as err:
            services.update_profile(user, **kwargs)
        assert field in err.value.errors
    db.session.refresh(user)
    assert user.display_name == "Ann"


def _png_with_exif() -> bytes:
    image = Image.new("RGB", (600, 400), (200, 30, 60))
    exif = Image.Exif()
    exif[0x010F] = "SecretCameraMaker"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def test_avatar_is_reencoded_square_without_exif(ctx):
    user = services.register_user("ann", "ann@example.com", GOOD)
    services.set_avatar(user, _png_with_exif(), max_bytes=5 * 1024 * 1024)
    stored = ctx.config["MEDIA_ROOT"] / user.avatar_path
    data = stored.read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "WEBP" and image.size == (services.AVATAR_SIZE, services.AVATAR_SIZE)
        assert not image.getexif()
    assert b"SecretCameraMaker" not in data


def test_text_file_named_png_is_not_an_avatar(ctx):
    user = services.register_user("ann", "ann@example.com", GOOD)
    with pytest.raises(Invalid) as err:
        services.set_avatar(user, b"<html><script>alert(1)</script></html>", max_bytes=1024 * 1024)
    assert "avatar" in err.value.errors
    assert user.avatar_path is None


def test_tokens_are_stored_hashed_and_can_be_revoked(ctx):
    user = services.register_user("ann", "ann@example.com", GOOD)
    token, secret = services.create_token(user, "laptop", 30)
    assert secret.startswith("tm_") and secret not in token.token_hash
    assert services.user_for_token(secret).id == user.id
    services.revoke_token(user, token.id)
    with pytest.raises(Unauthorized):
        services.user_for_token(secret)


def test_expired_token_is_refused(ctx):
    user = services.register_user("ann", "ann@example.com", GOOD)
    _token, secret = services.create_token(user, "short", 1)
    with frozen_at(now() + timedelta(days=2)), pytest.raises(Unauthorized):
        services.user_for_token(secret)


def test_cannot_revoke_someone_elses_token(ctx):
    ann = services.register_user("ann", "ann@example.com", GOOD)
    bob = services.register_user("bob", "bob@example.com", GOOD)
    token, _secret = services.create_token(ann, "laptop")
    with pytest.raises(Exception) as err:
        services.revoke_token(bob, token.id)
    assert getattr(err.value, "status", None) == 404
    assert db.session.get(ApiToken, token.id).revoked_at is None
