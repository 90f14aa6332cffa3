"""Run feeder's benchmarks, print a table and write ``benchmarks/RESULTS.md``.

    python -m benchmarks.run            # everything, 5-10 minutes on 2 cores (busy or not)
    python -m benchmarks.run --quick    # small sizes, well under a minute; no RESULTS.md
                                        # unless --results PATH is given
    python -m benchmarks.run --only parse rebuild

Every benchmark works in its own temporary folder, all removed at the end; servers and
child processes are stopped. Exit status 1 if a benchmark failed to run (a missed target
is a result, not a failure).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from benchmarks import import_, latency, memory, parse, peers, rebuild, serving
from benchmarks.common import Scale, Section, machine, workspace

NAMES = ("parse", "import", "rebuild", "latency", "serving", "memory", "peers")
DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv)
    scale = Scale(quick=args.quick)
    results = args.results or (None if args.quick else DEFAULT_RESULTS)
    started = time.perf_counter()
    sections: list[Section] = []
    failed = False
    with workspace("run") as root:
        for name, bench in _plan(scale, root, set(args.only or NAMES)):
            print(f"== {name} ...", file=sys.stderr, flush=True)
            began = time.perf_counter()
            try:
                section = bench()
            except Exception as exc:  # one broken benchmark must not lose the others
                failed = True
                traceback.print_exc()
                section = Section(f"{name} (failed)")
                section.add("error", f"{type(exc).__name__}: {exc}".splitlines()[0][:200])
            section.seconds = time.perf_counter() - began
            sections.append(section)
            print(render_section(section), flush=True)
    total = time.perf_counter() - started
    if results is not None:
        results.write_text(render_results(sections, scale, total), encoding="utf-8")
        print(f"wrote {results}", file=sys.stderr)
    print(f"all benchmarks: {total:.0f} s", file=sys.stderr)
    return 1 if failed else 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run",
                                     description="Run feeder's benchmarks.")
    parser.add_argument("--quick", action="store_true",
                        help="Small sizes and short runs (a smoke test of the benchmarks).")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME",
                        help=f"Run only these: {', '.join(NAMES)}.")
    parser.add_argument("--results", type=Path,
                        help="Markdown file to write (default: benchmarks/RESULTS.md, "
                        "none with --quick).")
    return parser.parse_args(argv)


def _plan(scale: Scale, root: Path, chosen: set[str]
          ) -> list[tuple[str, Callable[[], Section]]]:
    """The benchmarks to run, in order; rebuild and memory reuse the cold-import archive."""
    archive = root / "import"
    archive.mkdir()

    def imported() -> Path | None:
        return archive if (archive / "out" / "index.html").exists() else None

    def fresh(name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{name}-", dir=root))

    def memory_run() -> Section:
        store = imported()
        if store is None:  # run on its own: make the archive first
            import_.run(scale, archive)
            store = archive
        return memory.run(scale, store)

    steps: dict[str, Callable[[], Section]] = {
        "parse": lambda: parse.run(scale),
        "import": lambda: import_.run(scale, archive),
        "rebuild": lambda: rebuild.run(scale, [fresh("rebuild"), fresh("rebuild")], imported()),
        "latency": lambda: latency.run(scale, fresh("latency")),
        "serving": lambda: serving.run(scale, fresh("serving")),
        "memory": memory_run,
        "peers": lambda: peers.run(scale, fresh("peers")),
    }
    return [(name, steps[name]) for name in NAMES if name in chosen]


def render_section(section: Section) -> str:
    """A section as a Markdown table (readable as it is in a terminal) with its notes."""
    rows = [("metric", "value", "target", "verdict"), ("---",) * 4]
    rows += [(r.metric, r.value, r.target, r.verdict) for r in section.rows]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [f"### {section.title} ({section.seconds:.0f} s)", ""]
    for row in rows:
        cells = [cell.ljust(width) if cell != "---" else "-" * width
                 for cell, width in zip(row, widths, strict=True)]
        lines.append("| " + " | ".join(cells) + " |")
    if section.notes:
        lines.append("")
        lines += section.notes
    return "\n".join(lines) + "\n"


def render_results(sections: list[Section], scale: Scale, total: float) -> str:
    """The whole RESULTS.md: how to run, the machine, the targets, every section."""
    info = machine()
    lines = [
        "# feeder benchmarks",
        "",
        "Produced by `make bench` (`python -m benchmarks.run" + (" --quick" if scale.quick
                                                                else "") + "`); "
        "rerun it to refresh this file. Figures are from one run on the machine below; "
        "compare ratios within a run rather than absolute numbers across machines.",
        "",
        "| machine | |",
        "| --- | --- |",
        *(f"| {key} | {value} |" for key, value in info.items()),
        f"| total run time | {total:.0f} s |",
        "",
        "## Targets",
        "",
        "| benchmark | metric | value | target | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    for section in sections:
        for row in section.rows:
            if row.target:
                lines.append(f"| {section.title} | {row.metric} | {row.value} | {row.target} "
                             f"| {row.verdict or 'n/a'} |")
    lines += ["", "## Results", ""]
    lines += [render_section(section) for section in sections]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
