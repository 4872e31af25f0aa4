"""Runs the scenarios in order, prints one line per scenario, writes bench/results/<id>.json
and rewrites the results table of bench/README.md from them."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from collections.abc import Callable

from bench.common import RESULTS, ROOT, Config, Result, machine, now_iso

README = ROOT / "bench" / "README.md"
BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"


def scenarios() -> dict[str, Callable[[Config], Result]]:
    from bench import (
        s1_save,
        s2_throughput,
        s3_latency,
        s4_schedules,
        s5_api,
        s6_growth,
        s7_purge,
        s8_bulk,
    )

    # S5, S7 and S6 share the history workspace (1,000,000 logs, inserted once); S6 empties
    # the log tables, so it comes last.
    return {
        "S1": s1_save.run,
        "S1b": s1_save.run_matching,
        "S2": s2_throughput.run,
        "S3": s3_latency.run,
        "S4": s4_schedules.run,
        "S8": s8_bulk.run,
        "S5": s5_api.run,
        "S7": s7_purge.run,
        "S6": s6_growth.run,
    }


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help="comma-separated scenario ids, e.g. S1,S2")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument(
        "--full", action="store_true", help="S6 memory at the issue's full size (100,000 runs)"
    )
    return parser.parse_args(argv)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from bench.common import check_services

    check_services()
    call_command("migrate", verbosity=0)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    setup_django()
    available = scenarios()
    chosen = list(available)
    if args.only:
        wanted = [s.strip() for s in args.only.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in available]
        if unknown:
            print(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(available)}")
            return 2
        chosen = [s for s in available if s in wanted]
    cfg = Config(quick=args.quick, full=args.full)
    print(f"bench: {', '.join(chosen)}{' (quick)' if args.quick else ''} on {machine()}")
    started = time.monotonic()
    failures = 0
    for scenario in chosen:
        began = time.monotonic()
        try:
            result = available[scenario](cfg)
        except Exception as err:
            traceback.print_exc()
            result = Result(
                scenario=scenario, title=f"ERROR: {type(err).__name__}: {err}", figures=[]
            )
            result.notes.append("the scenario did not finish")
        result.seconds = time.monotonic() - began
        result.params["mode"] = "quick" if args.quick else ("full" if args.full else "default")
        result.write()
        if not result.passed:
            failures += 1
        print(f"{result.line()} [{result.seconds:.0f} s]", flush=True)
    print(f"bench: done in {time.monotonic() - started:.0f} s")
    write_readme_table()
    return 1 if failures else 0


def write_readme_table() -> None:
    """The README's table, from the latest bench/results/*.json of each scenario."""
    order = list(scenarios())
    rows = []
    scaled = []
    machines = set()
    for scenario in order:
        path = RESULTS / f"{scenario}.json"
        if not path.exists():
            continue
        data = json.loads(path.read_text())
        machines.add(data.get("machine", "?"))
        mode = data.get("params", {}).get("mode", "default")
        scaled += [f"{scenario}: {note}" for note in data.get("notes", []) if "SCALED" in note]
        suffix = "" if mode == "default" else f" ({mode})"
        if not data["figures"]:
            rows.append(f"| {scenario}{suffix} | {data['title']} | | | | | ERROR |")
        for figure in data["figures"]:
            ratio = "" if figure["ratio"] is None else f"{figure['ratio']:.2f}x"
            verdict = {True: "pass", False: "**FAIL**", None: "info"}[figure["passed"]]
            rows.append(
                f"| {scenario}{suffix} | {figure['name']} | {fmt(figure['value'])} "
                f"{figure['unit']} | {figure['baseline_name']}: {fmt(figure['baseline'])} "
                f"{figure['unit']} | {ratio} | {figure['target']} | {verdict} |"
            )
    table = "\n".join(
        [
            BEGIN,
            f"Latest results, written by `python -m bench` on {now_iso()}; each row is its "
            "scenario's latest run (`bench/results/<id>.json` says when).",
            "",
            "Machine: " + "; ".join(sorted(machines)),
            "",
            "| # | figure | value | baseline (same run) | ratio | target | verdict |",
            "|---|---|---|---|---|---|---|",
            *rows,
            *(["", *scaled] if scaled else []),
            END,
        ]
    )
    text = README.read_text() if README.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    README.write_text(head + table + tail)


def fmt(value) -> str:
    from bench.common import fmt as number

    return number(value)
