"""Bring in a partnership's cases already in progress, with their past history.

    python -m safeguarding.onboard FILE [--dry-run] [--partnership CODE] [--user ID]

FILE is JSON or CSV (the format: ``safeguarding/domain/onboarding.py``; a template and a worked example
are in ``examples/onboarding/``). Every row is checked first and nothing of a refused row is imported;
``--dry-run`` checks and reports only. Importing the same file again changes nothing. Connects to
Temporal and the read model from the service's settings (``SLL_*``) and acts as a Business Unit officer of
the partnership (``--user``, by default ``onboarding``).

Exit status: 0 when every row was opened, already imported (or, on a dry run, would open); 1 when a row
was refused (the report says why); 2 when the file cannot be read; 3 when the service cannot be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any, TextIO

from safeguarding.domain.onboarding import (
    ImportReport,
    RowOutcome,
    RowReport,
    UnreadableFile,
    kind_of,
    read_rows,
)
from safeguarding.domain.people import Actor, Role
from safeguarding.domain.policy import Policy
from safeguarding.platform.settings import Settings, get_settings

ACTION = "python -m safeguarding.onboard"


class ProgressLine:
    """``[#####-----] 25/50 cases`` on one line of ``stream``, redrawn as each row is finished."""

    def __init__(self, stream: TextIO, width: int = 20) -> None:
        self.stream = stream
        self.width = width

    def __call__(self, done: int, total: int) -> None:
        filled = self.width * done // total if total else self.width
        end = "\n" if done >= total else ""
        self.stream.write(f"\r[{'#' * filled}{'-' * (self.width - filled)}] {done}/{total} cases{end}")
        self.stream.flush()


def render(report: ImportReport) -> str:
    """The report, a line per row (and what was late), then the counts."""
    lines = []
    for row in report.rows:
        lines.append(_line(row))
        lines += [f"      late: {late}" for late in row.late]
    counts = ", ".join(f"{n} {outcome}" for outcome, n in report.counts().items() if n)
    lines.append(
        ("Dry run: nothing imported. " if report.dry_run else "") + f"{len(report.rows)} rows: {counts}."
    )
    return "\n".join(lines)


def _line(row: RowReport) -> str:
    head = f"row {row.row:>4}  {row.reference or '(no reference)':<20} {row.outcome.value:<17}"
    if row.outcome is RowOutcome.refused:
        extra = (
            " Steps before it are recorded: correct the row and import again." if row.partly_imported else ""
        )
        return f"{head} {row.reason}{extra}"
    where = f"stage {row.stage}" if row.stage else ""
    if row.review_stage:
        where += f", review {row.review_stage}"
    if row.plan_status:
        where += f", action plan {row.plan_status}"
    return f"{head} {row.steps} steps; {where}"


class Unreachable(Exception):
    """Temporal cannot be reached: nothing was imported."""


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog=ACTION, description="Bring in cases already in progress.")
    parser.add_argument("file", type=Path, help="the cases: JSON or CSV")
    parser.add_argument("--dry-run", action="store_true", help="check every row and report; import nothing")
    parser.add_argument("--partnership", help="the partnership the cases are of (rows may leave it out)")
    parser.add_argument("--user", default="onboarding", help="the staff id the import acts as")
    args = parser.parse_args(argv)
    try:
        text = args.file.read_text(encoding="utf-8-sig")
        rows = read_rows(text, kind_of(args.file.name, text))
    except (OSError, UnicodeDecodeError, UnreadableFile) as problem:
        print(f"{args.file}: cannot be read: {problem}", file=sys.stderr)
        return 2
    from safeguarding.platform.policy_files import load_policies

    settings = settings or get_settings()
    policies = load_policies(settings.policy_dir)
    if args.partnership is not None and args.partnership not in policies:
        print(
            f"unknown partnership {args.partnership!r}; known: {', '.join(sorted(policies))}", file=sys.stderr
        )
        return 2
    importer = Actor(
        user_id=args.user,
        role=Role.business_unit,
        partnerships=[args.partnership] if args.partnership else sorted(policies),
    )
    try:
        report = asyncio.run(_run(rows, args, settings, policies, importer))
    except Unreachable as problem:
        print(f"the service cannot be reached: {problem}", file=sys.stderr)
        return 3
    print(render(report))
    return 1 if report.refused else 0


async def _run(
    rows: list[Any],
    args: argparse.Namespace,
    settings: Settings,
    policies: dict[str, Policy],
    importer: Actor,
) -> ImportReport:
    from temporalio.client import Client

    from safeguarding.onboarding import Service, import_rows
    from safeguarding.store.audit import AuditEntry, append, now
    from safeguarding.store.engine import make_engine

    try:
        client = await Client.connect(
            settings.temporal_address,
            namespace=settings.temporal_namespace,
            tls=settings.temporal_tls(),
            data_converter=settings.data_converter(),
        )
    except RuntimeError as problem:  # the SDK's "Failed client connect"
        raise Unreachable(f"Temporal at {settings.temporal_address}: {problem}") from None
    engine = make_engine(settings.database_url)

    async def audit(row: RowReport) -> None:
        """Each row opened or refused, in the audit log (its accepted steps are audited by its workflows)."""
        entry = AuditEntry(
            at=now(),
            user_id=importer.user_id,
            role=importer.role.value,
            partnership=row.partnership,
            action=ACTION,
            case_reference=row.reference,
            outcome="refused" if row.outcome is RowOutcome.refused else "accepted",
            status_code=422 if row.outcome is RowOutcome.refused else 201,
            reason=row.reason,
        )
        await asyncio.to_thread(append, engine, entry)

    try:
        return await import_rows(
            rows,
            Service(client, engine, policies, settings.task_queue),
            importer,
            dry_run=args.dry_run,
            partnership=args.partnership,
            progress=ProgressLine(sys.stderr),
            audit=audit,
        )
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
