"""Progress of `flask seed-demo`, one stage at a time, with counts and how long each stage took.

The seed's steps call `stage(label, total)` and `advance(n)` on what it returns; what that shows is up to the
reporter in force (`reporting(...)`): by default nothing (tests, the app's own calls), while the command shows a
progress bar per stage on a terminal and one line per finished stage otherwise. Every reporter records each
stage's wall time, which the seed's report carries (bench/README.md quotes them).
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

import click


class Stage:
    """One running stage: `advance(n)` counts work done (up to `total` when known)."""

    def __init__(self, label: str, total: int | None):
        self.label, self.total, self.done = label, total, 0
        self.started = time.perf_counter()

    def advance(self, n: int = 1) -> None:
        self.done += n

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.started


class Reporter:
    """Records stage timings and shows nothing."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    def begin(self, stage: Stage) -> None:
        pass

    def update(self, stage: Stage) -> None:
        pass

    def end(self, stage: Stage) -> None:
        self.timings[stage.label] = round(self.timings.get(stage.label, 0.0) + stage.seconds, 2)


class ConsoleReporter(Reporter):
    """A click progress bar per stage on a terminal; without one, a line per stage as it finishes."""

    def __init__(self, stream: TextIO | None = None, tty: bool | None = None):
        super().__init__()
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self._bar = None

    def begin(self, stage: Stage) -> None:
        if self.tty and stage.total:
            self._bar = click.progressbar(length=stage.total, label=f"{stage.label:<22}", show_pos=True,
                                          show_eta=False, file=self.stream, width=28)
            self._bar.__enter__()

    def update(self, stage: Stage) -> None:
        if self._bar is not None:
            self._bar.update(stage.done - self._bar.pos)

    def end(self, stage: Stage) -> None:
        super().end(stage)
        if self._bar is not None:
            self._bar.update(max(0, (stage.total or 0) - self._bar.pos))
            self._bar.__exit__(None, None, None)
            self._bar = None
        count = f": {stage.done}/{stage.total}" if stage.total else f": {stage.done}" if stage.done else ""
        line = f"{stage.label}{count} in {stage.seconds:.1f}s"
        click.echo(f"  ✓ {line}" if self.tty else line, file=self.stream)


_current: Reporter = Reporter()


@contextmanager
def reporting(reporter: Reporter) -> Iterator[Reporter]:
    """Route the seed's stages to `reporter` while the block runs."""
    global _current
    previous, _current = _current, reporter
    try:
        yield reporter
    finally:
        _current = previous


class Handle:
    """What a running stage's code holds: `advance(n)` as work is done, `finish()` at its end."""

    def __init__(self, stage: Stage, reporter: Reporter):
        self._stage, self._reporter, self._open = stage, reporter, True
        reporter.begin(stage)

    def advance(self, n: int = 1) -> None:
        self._stage.advance(n)
        self._reporter.update(self._stage)

    def finish(self, done: int | None = None) -> None:
        """End the stage (once); `done` sets its final count."""
        if self._open:
            if done is not None:
                self._stage.done = done
            self._open = False
            self._reporter.end(self._stage)


def start(label: str, total: int | None = None) -> Handle:
    """Begin a stage of the seed; what it counts is shown as `done/total` (or `done` without a total)."""
    return Handle(Stage(label, total), _current)


@contextmanager
def stage(label: str, total: int | None = None) -> Iterator[Handle]:
    """A stage as a block: it ends when the block does."""
    handle = start(label, total)
    try:
        yield handle
    finally:
        handle.finish()


def timings() -> dict[str, float]:
    """Seconds per stage recorded by the reporter in force."""
    return dict(_current.timings)
