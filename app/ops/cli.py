"""`flask doctor`: what is wrong with this deployment, and how to fix it."""
from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from app.ops.doctor import FAIL, WARN, run_checks

MARKS = {"ok": "ok  ", WARN: "WARN", FAIL: "FAIL"}


@click.command("doctor")
@with_appcontext
def doctor() -> None:
    """Check configuration, database, migrations, search index, Redis, queues and jobs; exit 1 on a failure."""
    findings = run_checks()
    for finding in findings:
        click.echo(f"[{MARKS[finding.level]}] {finding.check}: {finding.message}")
        if finding.fix and finding.level != "ok":
            click.echo(f"       fix: {finding.fix}")
    failures = sum(f.level == FAIL for f in findings)
    warnings = sum(f.level == WARN for f in findings)
    click.echo(f"{failures} problem(s), {warnings} warning(s).")
    sys.exit(1 if failures else 0)
