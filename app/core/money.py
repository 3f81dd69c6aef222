"""Money is integer minor units (cents/fen) plus an ISO currency code; never floats."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from babel.numbers import format_currency

from app.core.parsing import is_ascii_digits

MINOR_UNITS = {"CNY": 2, "USD": 2, "EUR": 2, "JPY": 0}


@dataclass(frozen=True)
class Money:
    cents: int
    currency: str = "CNY"

    def __post_init__(self):
        if not isinstance(self.cents, int) or isinstance(self.cents, bool):
            raise TypeError("Money amounts are integer minor units")

    def __add__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents + other.cents, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same_currency(other)
        return Money(self.cents - other.cents, self.currency)

    def times(self, quantity: int) -> Money:
        return Money(self.cents * quantity, self.currency)

    def share(self, basis_points: int) -> Money:
        """This amount × basis_points / 10 000, rounded half up to a whole minor unit."""
        return Money((self.cents * basis_points + 5_000) // 10_000, self.currency)

    def _same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"Cannot combine {self.currency} with {other.currency}")


def format_money(money: Money, locale: str = "en") -> str:
    """Render for people, e.g. CN¥12.50 / ¥12.50."""
    digits = MINOR_UNITS.get(money.currency, 2)
    return format_currency(Decimal(money.cents).scaleb(-digits), money.currency, locale=locale)


def parse_amount(text, currency: str = "CNY") -> int | None:
    """A price typed by a person ("128", "128.5", "1,280.00") as integer minor units; None when it is not
    a non-negative amount with at most the currency's decimals."""
    digits = MINOR_UNITS.get(currency, 2)
    cleaned = str(text or "").strip().replace(",", "").lstrip("¥").strip()
    if not cleaned or len(cleaned) > 15 or cleaned.count(".") > 1 or not is_ascii_digits(cleaned.replace(".", "")):
        return None
    amount = Decimal(cleaned)
    minor = amount.scaleb(digits)
    if minor != minor.to_integral_value():
        return None
    return int(minor)
