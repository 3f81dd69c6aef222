"""The unit-of-work helper (app/core/uow.py): one transaction per use case, callbacks only after commit."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.accounts.models import User
from app.core.uow import after_commit, current_unit, transactional, unit_of_work
from app.extensions import db

APP = Path(__file__).resolve().parents[2] / "app"
# The only places allowed to call .commit(): the helper itself, and the search index's Whoosh writer (a file
# index's own commit, not the database session's).
ALLOWED_COMMITS = {
    "app/core/uow.py": "the one helper",
    "app/search/whoosh_backend.py": "Whoosh IndexWriter.commit(), not the database",
}


def _add_user(name: str) -> None:
    db.session.add(User(username=name, username_key=name, email=f"{name}@example.com",
                        email_key=f"{name}@example.com", password_hash="x"))


def _count_users() -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def _other_session_count() -> int:
    """What another connection sees: proves the change was really committed, not just flushed."""
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(User))


def test_leaving_the_block_commits(ctx):
    with unit_of_work():
        _add_user("ada")
    assert _other_session_count() == 1


def test_an_exception_rolls_everything_back_and_propagates(ctx):
    with pytest.raises(ValueError), unit_of_work():
        _add_user("ada")
        db.session.flush()
        raise ValueError("the rule refused")
    assert _count_users() == 0
    assert _other_session_count() == 0
    assert current_unit() is None


def test_callbacks_run_only_after_a_successful_commit(ctx):
    seen = []
    with unit_of_work():
        _add_user("ada")
        after_commit(lambda: seen.append(_other_session_count()))
        assert seen == []  # not yet: the transaction is still open
    assert seen == [1]  # ran once, and the row was already visible to other connections


def test_callbacks_are_dropped_when_the_unit_rolls_back(ctx):
    seen = []
    with pytest.raises(ValueError), unit_of_work():
        after_commit(lambda: seen.append("ran"))
        raise ValueError
    with unit_of_work():
        pass  # a later unit must not run the dropped callback either
    assert seen == []


def test_a_failing_commit_rolls_back_and_runs_no_callback(ctx):
    with unit_of_work():
        _add_user("ada")
    seen = []
    with pytest.raises(Exception), unit_of_work():  # noqa: B017  (the driver's IntegrityError)
        _add_user("ada")  # same username: the commit itself fails
        after_commit(lambda: seen.append("ran"))
    assert seen == []
    assert _count_users() == 1  # the session is usable again


def test_nested_units_join_the_outer_one(ctx):
    seen = []

    @transactional
    def inner_service():
        _add_user("bob")
        after_commit(lambda: seen.append("inner"))

    with unit_of_work() as outer:
        _add_user("ada")
        inner_service()
        assert current_unit() is outer
        assert _other_session_count() == 0  # the inner service did not commit on its own
        assert seen == []
    assert _other_session_count() == 2
    assert seen == ["inner"]


def test_an_error_after_a_nested_service_undoes_the_nested_work_too(ctx):
    @transactional
    def inner_service():
        _add_user("bob")

    with pytest.raises(ValueError), unit_of_work():
        inner_service()
        raise ValueError("the outer use case failed after the inner one succeeded")
    assert _other_session_count() == 0


def test_after_commit_outside_a_unit_is_refused(ctx):
    with pytest.raises(RuntimeError):
        after_commit(lambda: None)


def test_a_callback_that_fails_does_not_undo_the_commit_nor_stop_the_others(ctx):
    seen = []
    with unit_of_work():
        _add_user("ada")
        after_commit(lambda: 1 / 0)
        after_commit(lambda: seen.append("second"))
    assert seen == ["second"]
    assert _other_session_count() == 1


def test_only_the_helper_commits():
    """Views, API routes, helpers and services never commit: they use app/core/uow.py."""
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        relative = path.relative_to(APP.parent).as_posix()
        if relative in ALLOWED_COMMITS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\.commit\(\)", line) and not line.lstrip().startswith("#"):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
