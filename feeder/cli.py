"""Command line: the only place an exception becomes a message and an exit code.

Exit codes: 0 success, 1 a checked file would be rejected, 2 bad usage or configuration,
3 the build failed (previous outputs untouched), 4 the store or the drop folder cannot be
used now (busy, locked, full, missing: nothing was changed; try again).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from feeder import __version__, logs, publish
from feeder.clock import Clock, system_clock
from feeder.config import Config, load_config
from feeder.errors import (
    BuildError,
    ConfigError,
    DropFolderUnavailable,
    StoreUnavailable,
)
from feeder.ingest import Ingestor, copy_tree, preview
from feeder.parallel import Workers, worker_count
from feeder.store.store import Store

log = logging.getLogger("feeder")
EXIT_REJECTED, EXIT_USAGE, EXIT_BUILD, EXIT_UNAVAILABLE = 1, 2, 3, 4


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run one command; *clock* stands in for the wall clock (tests set it)."""
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config, _overrides(args))
    except ConfigError as exc:
        print(f"feeder: bad configuration: {exc}", file=sys.stderr)
        return EXIT_USAGE
    args.clock = clock or system_clock(config.tz)
    verbose = getattr(args, "verbose", False)
    logs.setup("DEBUG" if verbose else config.service_log_level.upper(), config.service_log_format)
    try:
        result: int = args.handler(args, config)
        return result
    except BuildError as exc:
        log.error("%s", exc)
        return EXIT_BUILD
    except (StoreUnavailable, DropFolderUnavailable) as exc:
        log.error("%s", exc)
        return EXIT_UNAVAILABLE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="feeder", description=(
        "Publish a folder of article files as RSS, Atom and JSON Feed."))
    parser.add_argument("--version", action="version", version=f"feeder {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    build = _command(commands, "build", _build, "Parse what changed in the drop folder and "
                     "write the feeds.")
    build.add_argument("--force", action="store_true", help="Re-render every page and feed.")
    build.add_argument("--reparse", action="store_true",
                       help="Read every file again (after changing categories).")

    check = _command(commands, "check", _check, "Show what files parse into, and every "
                     "warning; exit 1 if any would be rejected.")
    check.add_argument("files", nargs="+", type=Path, metavar="FILE")

    imp = _command(commands, "import", _import, "Copy article files from a folder into the "
                   "drop folder, then build once.")
    imp.add_argument("source", type=Path, metavar="DIR", help="Folder to import from.")

    _command(commands, "status", _status, "Show what is stored, the last build, recent "
             "rejections and corrections.")

    run = _command(commands, "run", _run, "Watch the drop folder, rebuild, and serve the "
                   "feeds over HTTP.")
    run.add_argument("--host", help="Address to bind (server.host).")
    run.add_argument("--port", type=int, help="Port to listen on (server.port).")
    return parser


def _command(commands: Any, name: str, handler: Any, text: str) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = commands.add_parser(name, help=text, description=text)
    sub.set_defaults(handler=handler)
    sub.add_argument("--config", type=Path, default=_default_config(),
                     help="Configuration file (default: ./config.toml if present).")
    sub.add_argument("--drop-dir", type=Path, help="Folder of article files (drop_dir).")
    sub.add_argument("--output-dir", type=Path, help="Folder for feeds (output_dir).")
    sub.add_argument("--state-dir", type=Path, help="Folder for the store (state_dir).")
    sub.add_argument("--rejected-dir", type=Path, help="Folder rejected files are moved to "
                     "(rejected_dir; default: rejected/ beside the drop folder).")
    sub.add_argument("-v", "--verbose", action="store_true", help="Log debug detail.")
    return sub


BULK_CACHE_MIB = 64  # SQLite page cache of a build or import: ~15 % faster at 100k articles


def _default_config() -> Path | None:
    candidate = Path("config.toml")
    return candidate if candidate.is_file() else None


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"drop_dir": args.drop_dir, "output_dir": args.output_dir,
            "state_dir": args.state_dir, "rejected_dir": args.rejected_dir,
            "server.host": getattr(args, "host", None), "server.port": getattr(args, "port", None)}


def _build(args: argparse.Namespace, config: Config) -> int:
    if config.base_url_derived and config.server_port == 0:
        log.warning("site.base_url is unset and server.port is 0 (any free port, chosen by "
                    "`feeder run` as it starts): the links of this build point at port 0 until "
                    "the service rebuilds them; set site.base_url or server.port")
    store = Store(config.store_path, cache_mib=BULK_CACHE_MIB, clock=args.clock)
    try:
        if not config.drop_dir.exists() and not store.files():
            # A first run; once files were seen, a missing folder is an error (exit 4).
            config.drop_dir.mkdir(parents=True)
        with Workers(worker_count(config.processes)) as workers:
            ingestor = Ingestor(store, config, workers, args.clock)
            changes = ingestor.scan(reparse=args.reparse)
            report = publish.build(store, config, now=args.clock(), force=args.force,
                                   workers=workers)
            if rereads := store.take_rereads():  # entries quarantined by the build
                changes += ingestor.ingest_many([config.drop_dir / p for p in rereads])
                report = publish.build(store, config, now=args.clock(), workers=workers)
    finally:
        store.close()
    print(f"{changes.added} new, {changes.updated} updated, {changes.removed} retracted; "
          f"{'nothing to write' if report.skipped else f'{len(report.written)} file(s) written'}"
          f" in {config.output_dir}")
    return 0


def _import(args: argparse.Namespace, config: Config) -> int:
    source: Path = args.source
    if not source.is_dir():
        print(f"feeder import: not a folder: {source}", file=sys.stderr)
        return EXIT_USAGE
    copied = copy_tree(source, config.drop_dir)
    print(f"copied {copied} file(s) into {config.drop_dir}")
    return _build(argparse.Namespace(reparse=False, force=False, clock=args.clock), config)


def _check(args: argparse.Namespace, config: Config) -> int:
    """Show what ingest would store of each file; store, move and reject nothing."""
    status = 0
    for path in args.files:
        seen = preview(path, config)
        if seen.rejected is not None:
            print(f"{path}: REJECTED: {seen.rejected}")
            status = EXIT_REJECTED
            continue
        print(f"{path}: {len(seen.articles)} article(s), {len(seen.problems)} warning(s)")
        for n, a in enumerate(seen.articles, 1):
            details = [a.author and f"by {a.author}", a.photo_credit and f"Foto: {a.photo_credit}",
                       a.place and f"{a.place}", a.source,
                       a.tags and f"topics: {', '.join(a.tags)}",
                       a.image and f"image: {a.image.path}",
                       f"{a.content_html.count('<p>')} paragraph(s)"]
            print(f"  {n}. {a.published.isoformat(' ', 'minutes')}  {a.title}")
            print(f"     {'; '.join(d for d in details if d)}")
        for problem in seen.problems:
            print(f"  warning: {problem}")
    return status


def _status(args: argparse.Namespace, config: Config) -> int:
    store = Store(config.store_path, clock=args.clock)
    try:
        print(f"store: {config.store_path}")
        print(f"entries: {store.count()}; files: {len(store.files())}")
        pending = store.meta("built_generation") != str(store.generation())
        print(f"last build: {store.meta('built_at') or 'never'}"
              f"{' (changes waiting for the next build)' if pending else ''}")
        for article in store.scheduled(args.clock()):
            print(f"scheduled {article.published.isoformat()}: {article.title}")
        for path, reason, at in store.rejections():
            print(f"rejected {at}: {path}: {reason}")
        for path, (reason, since) in store.unreadable().items():
            print(f"cannot be read since {since}: {path}: {reason}")
        for key, reason, at, paths in store.quarantined():
            again = ", ".join(paths.splitlines()) or "no file"
            print(f"quarantined {at}: entry {key}: {reason} (read again from {again})")
        for line in _corrections(store, args.clock()):
            print(line)
    finally:
        store.close()
    return 0


RECENT_CORRECTIONS = 20  # lines of `feeder status`


def _corrections(store: Store, now: datetime) -> list[str]:
    """The latest corrections, newest first: when, the entry's title, what changed."""
    found = [(c.at, article.title, c.what, c.before)
             for article in store.newest_corrected(RECENT_CORRECTIONS, now)
             for c in article.corrections]
    found.sort(key=lambda item: item[0], reverse=True)
    return [f"corrected {at.isoformat()}: {title}: {what}"
            + (f' (before: "{before}")' if before else "")
            for at, title, what, before in found[:RECENT_CORRECTIONS]]


def _run(args: argparse.Namespace, config: Config) -> int:
    from feeder.service.scheduler import serve_forever

    return serve_forever(config, args.clock)
