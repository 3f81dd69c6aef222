"""Property tests for the pricing arithmetic: no cent is made or lost."""
from hypothesis import given
from hypothesis import strategies as st

from app.shop.pricing import coupon_discount, refund_for_units, split_proportionally

cents = st.integers(min_value=0, max_value=10**9)


@given(kind=st.sampled_from(["percent", "fixed"]), value=st.integers(1, 10**7), base=cents)
def test_a_discount_is_never_negative_nor_above_the_base(kind, value, base):
    value = min(value, 100) if kind == "percent" else value
    discount = coupon_discount(kind, value, base)
    assert 0 <= discount <= base
    if kind == "percent":
        assert discount * 100 <= base * value < (discount + 1) * 100


@given(data=st.data(), bases=st.lists(st.integers(0, 10**7), min_size=1, max_size=12))
def test_a_split_adds_up_exactly_and_stays_within_each_base(data, bases):
    amount = data.draw(st.integers(0, sum(bases)))
    parts = split_proportionally(amount, bases)
    assert sum(parts) == amount
    assert all(0 <= part <= base for part, base in zip(parts, bases, strict=True))
    total = sum(bases)
    if total:  # each part is within one unit of its exact proportional share
        assert all(abs(part * total - amount * base) < total for part, base in zip(parts, bases, strict=True))


@given(data=st.data(), unit=st.integers(1, 10**6), quantity=st.integers(1, 99))
def test_refunding_every_unit_in_any_batches_returns_exactly_the_line(data, unit, quantity):
    gross = unit * quantity
    net = gross - data.draw(st.integers(0, gross))
    refunded, returned = 0, 0
    while refunded < quantity:
        batch = data.draw(st.integers(1, quantity - refunded))
        amount = refund_for_units(net, quantity, refunded, batch)
        assert amount >= 0
        returned += amount
        refunded += batch
    assert returned == net


@given(data=st.data(), prices=st.lists(st.tuples(st.integers(1, 10**6), st.integers(1, 99)), min_size=1, max_size=8),
       kind=st.sampled_from(["percent", "fixed"]), value=st.integers(1, 10**6))
def test_an_order_total_is_its_lines_less_the_discount(data, prices, kind, value):
    value = min(value, 100) if kind == "percent" else value
    lines = [price * quantity for price, quantity in prices]
    subtotal = sum(lines)
    discount = min(coupon_discount(kind, value, subtotal), subtotal - 1)
    line_discounts = split_proportionally(discount, lines)
    total = subtotal - discount
    assert total >= 1
    assert total == sum(line - share for line, share in zip(lines, line_discounts, strict=True))
