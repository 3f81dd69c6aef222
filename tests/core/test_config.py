"""Configuration from the environment."""
import os
import stat

import pytest

from app.config import config_from_environment, load_or_create_secret_key, normalise_database_url


def test_secret_key_is_generated_once_and_private(tmp_path):
    first = load_or_create_secret_key(tmp_path)
    assert len(first) >= 40 and load_or_create_secret_key(tmp_path) == first
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_environment_variables_are_read(tmp_path, monkeypatch):
    monkeypatch.setenv("TASTEMAKER_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "m"))
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    config = config_from_environment()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@h/db"
    assert str(config.MEDIA_ROOT) == str(tmp_path / "m")
    assert config.RATELIMIT_STORAGE_URI == "redis://127.0.0.1:6379/0"
    assert (tmp_path / "secret_key").exists() and config.SECRET_KEY


def test_unknown_environment_is_refused(monkeypatch):
    monkeypatch.setenv("TASTEMAKER_ENV", "staging")
    with pytest.raises(RuntimeError):
        config_from_environment()


def test_database_url_normalised():
    assert normalise_database_url("postgres://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_only_the_test_environment_may_hash_passwords_fast():
    from app.config import Config, ProductionConfig, TestConfig, check_settings

    assert Config().PASSWORD_HASH_METHOD == ProductionConfig().PASSWORD_HASH_METHOD == "scrypt"
    assert TestConfig().PASSWORD_HASH_METHOD != "scrypt"
    check_settings({"ENV_NAME": "test", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1"})
    for env in ("development", "production"):
        with pytest.raises(RuntimeError, match="PASSWORD_HASH_METHOD"):
            check_settings({"ENV_NAME": env, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
                            "ALLOW_SANDBOX_PAYMENTS": True})
