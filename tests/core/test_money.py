"""Money arithmetic stays in integer minor units."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.money import Money, format_money

amounts = st.integers(min_value=-10**12, max_value=10**12)


@given(amounts, amounts)
def test_addition_and_subtraction_are_exact(a, b):
    assert (Money(a) + Money(b)).cents == a + b
    assert (Money(a) - Money(b) + Money(b)).cents == a


@given(st.integers(min_value=0, max_value=10**10), st.integers(min_value=0, max_value=10_000))
def test_share_rounds_half_up_and_never_exceeds_whole(cents, bps):
    share = Money(cents).share(bps).cents
    assert 0 <= share <= cents
    assert abs(share * 10_000 - cents * bps) <= 5_000


def test_floats_and_mixed_currencies_are_refused():
    with pytest.raises(TypeError):
        Money(1.5)
    with pytest.raises(ValueError):
        Money(100, "CNY") + Money(100, "USD")


def test_format_money():
    assert format_money(Money(1250, "CNY"), "en") == "CN¥12.50"
    assert format_money(Money(1250, "CNY"), "zh_Hans") == "¥12.50"
