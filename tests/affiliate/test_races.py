"""Real threads on PostgreSQL: refunds, the availability job and payouts never write a commission twice."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.affiliate import attribution, ledger
from app.affiliate.models import CommissionEntry, Payout
from app.extensions import db
from tests.affiliate.conftest import T0, buy_paid, click, complete, entries, ledger_sum, refund_units, release
from tests.shop.test_races import attempt
from tests.social.conftest import is_postgres
from tests.social.test_races import run_threads


@pytest.fixture(autouse=True)
def postgres_only(app):
    if not is_postgres(app):
        pytest.skip("SQLite serialises writers; the races need PostgreSQL")



def _sold(aff, quantity=3):
    link = attribution.share_link_for(aff.creator, product_id=aff.product_id, now=T0)
    click(link, aff.reader, T0)
    return buy_paid(aff, quantity=quantity, at=T0).id


def _merchant_refund(aff, order_id, units, at):
    merchant = db.session.get(User, aff.merchant.id)
    aff_here = type(aff)(**{**aff.__dict__, "merchant": merchant})
    return refund_units(aff_here, order_id, units, at)


def test_refunding_an_order_twice_at_once_reverses_once(app, aff):
    order_id = _sold(aff)
    results: list = []
    run_threads(app, [attempt(results, lambda: _merchant_refund(aff, order_id, None, T0 + timedelta(hours=1)).id)
                      for _ in range(4)])
    with app.app_context():
        assert sum(1 for r in results if isinstance(r, int)) == 1
        assert entries(aff.creator.id) == [("pending", 299), ("reversed", -299)]
        assert ledger_sum(aff.creator.id) == (0, 0, 0)


def test_the_availability_job_run_four_times_at_once_releases_once(app, aff):
    order_id = _sold(aff)
    complete(aff, order_id, T0 + timedelta(days=1))
    results: list = []
    run_threads(app, [attempt(results, lambda: release(T0 + timedelta(days=9))) for _ in range(4)])
    with app.app_context():
        assert sorted(results) == [0, 0, 0, 1]
        assert entries(aff.creator.id) == [("pending", 299), ("available", 299)]
        assert ledger_sum(aff.creator.id) == (0, 299, 0)


def test_the_availability_job_racing_a_refund_moves_each_cent_once(app, aff):
    order_id = _sold(aff)
    complete(aff, order_id, T0 + timedelta(days=1))
    results: list = []
    # The refund is dated inside the window; the job runs as if the window had passed. Either order is fine,
    # but the sums must be the same: 100 reversed, 199 available, nothing left pending.
    run_threads(app, [attempt(results, lambda: _merchant_refund(aff, order_id, 1, T0 + timedelta(days=7)).id),
                      attempt(results, lambda: release(T0 + timedelta(days=9)))])
    with app.app_context():
        assert not [r for r in results if isinstance(r, Exception)], results
        kinds = sorted(entries(aff.creator.id))
        assert kinds in ([("available", 199), ("pending", 299), ("reversed", -100)],
                         [("available", 299), ("pending", 299), ("reversed", -100)])
        assert ledger_sum(aff.creator.id) == (0, 199, 0)
        assert ledger.balances(aff.creator.id).reversed_cents == 100


def test_concurrent_payout_runs_pay_each_balance_once(app, aff):
    order_id = _sold(aff)
    complete(aff, order_id, T0 + timedelta(days=1))
    release(T0 + timedelta(days=9))
    admin_id = aff.admin.id
    results: list = []

    def run(batch):
        return ledger.run_payout(db.session.get(User, admin_id), batch, 100, now=T0 + timedelta(days=10)).id

    run_threads(app, [attempt(results, lambda b=b: run(b)) for b in ("a", "a", "b", "c")])
    with app.app_context():
        assert db.session.scalar(select(func.sum(CommissionEntry.paid_cents))) == 299
        assert ledger_sum(aff.creator.id) == (0, 0, 299)
        paying = db.session.scalar(select(func.count()).select_from(Payout))
        assert paying == 1  # the others found nothing left to pay (their transactions rolled back)
        assert len({r for r in results if isinstance(r, int)}) == 1
