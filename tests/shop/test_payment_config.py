"""Settings that decide whether money is real: no sandbox in production, one figure for holds and payment."""
from __future__ import annotations

import pytest

from app import create_app
from app.config import ProductionConfig, config_from_environment
from app.shop import payments
from tests.conftest import make_config


@pytest.fixture
def production_env(tmp_path, monkeypatch):
    monkeypatch.setenv("TASTEMAKER_ENV", "production")
    monkeypatch.setenv("TASTEMAKER_INSTANCE", str(tmp_path))
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'prod.db'}")
    for name in ("PAYMENT_PROVIDER", "ALLOW_SANDBOX_PAYMENTS", "PAYMENT_WINDOW_MINUTES", "ORDER_RESERVATION_MINUTES"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_production_refuses_the_sandbox_provider(production_env):
    with pytest.raises(RuntimeError, match="PAYMENT_PROVIDER=sandbox"):
        config_from_environment()
    production_env.setenv("PAYMENT_PROVIDER", "sandbox")
    production_env.setenv("ALLOW_SANDBOX_PAYMENTS", "0")
    with pytest.raises(RuntimeError, match="ALLOW_SANDBOX_PAYMENTS=1"):
        config_from_environment()


def test_create_app_refuses_a_production_config_on_the_sandbox(production_env):
    with pytest.raises(RuntimeError, match="PAYMENT_PROVIDER=sandbox"):
        create_app(ProductionConfig())


def test_a_staging_server_may_run_on_the_sandbox_when_it_says_so(production_env):
    production_env.setenv("ALLOW_SANDBOX_PAYMENTS", "1")
    app = create_app(config_from_environment())
    assert app.config["PAYMENT_PROVIDER"] == "sandbox"
    assert "/pay/sandbox/<id:payment_id>" in {rule.rule for rule in app.url_map.iter_rules()}


def test_production_starts_with_a_real_provider_and_has_no_sandbox_routes(production_env):
    production_env.setenv("PAYMENT_PROVIDER", "realpay")
    app = create_app(config_from_environment())
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    assert not any("sandbox" in rule for rule in rules)


def test_sandbox_routes_exist_only_while_the_sandbox_is_the_provider(app, tmp_path):
    assert app.config["PAYMENT_PROVIDER"] == "sandbox"  # development and tests
    assert app.test_client().get("/pay/sandbox/1").status_code == 302  # to the log-in page
    config = make_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "media2")
    config.PAYMENT_PROVIDER = "realpay"
    payments.register_provider("realpay", lambda app: payments.SandboxProvider("stand-in for a real one"))
    try:
        real = create_app(config)
        client = real.test_client()
        assert client.get("/pay/sandbox/1").status_code == 404
        body, signature = b'{"payment_id": 1}', "0" * 64
        assert client.post("/payments/callback/sandbox", data=body,
                           headers={"X-Sandbox-Signature": signature}).status_code == 404
    finally:
        payments.PROVIDERS.pop("realpay", None)


@pytest.mark.parametrize(("reservation", "window"), [("15", "30"), ("30", "15")])
def test_the_reservation_and_the_payment_window_must_be_one_figure(production_env, reservation, window):
    production_env.setenv("TASTEMAKER_ENV", "development")
    production_env.setenv("ORDER_RESERVATION_MINUTES", reservation)
    production_env.setenv("PAYMENT_WINDOW_MINUTES", window)
    with pytest.raises(RuntimeError, match="must be the same figure"):
        config_from_environment()
    production_env.setenv("PAYMENT_WINDOW_MINUTES", reservation)
    config = config_from_environment()
    assert config.PAYMENT_WINDOW_MINUTES == config.ORDER_RESERVATION_MINUTES == int(reservation)


def test_the_window_follows_the_reservation_when_only_that_is_set(production_env):
    production_env.setenv("TASTEMAKER_ENV", "development")
    production_env.setenv("ORDER_RESERVATION_MINUTES", "20")
    assert config_from_environment().PAYMENT_WINDOW_MINUTES == 20


@pytest.mark.parametrize("name", ["MAX_UNPAID_ORDERS", "MAX_HELD_UNITS_PER_SKU", "ORDER_RESERVATION_MINUTES"])
def test_hold_settings_must_be_positive(production_env, name):
    production_env.setenv("TASTEMAKER_ENV", "development")
    production_env.setenv(name, "0")
    with pytest.raises(RuntimeError, match=name):
        config_from_environment()


def test_hold_defaults(production_env):
    production_env.setenv("TASTEMAKER_ENV", "development")
    config = config_from_environment()
    assert (config.MAX_UNPAID_ORDERS, config.MAX_HELD_UNITS_PER_SKU) == (5, 10)
    assert config.ORDER_RESERVATION_MINUTES == config.PAYMENT_WINDOW_MINUTES == 15
    assert config.CHECKOUT_RATE_LIMIT == "10/minute;60/hour"
    assert config.CHECKOUT_IP_RATE_LIMIT == "30/minute;300/hour"
