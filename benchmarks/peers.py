"""7. feeder beside Hugo, the fastest static generator, on the same Markdown articles.

Both tools get the same generated articles (front matter title, date, tags) and do
comparable work: one HTML page per article, an index page and an RSS feed of the newest 50
with their full text. Hugo gets a minimal site written here (its own layouts, no theme,
taxonomy, section or sitemap pages). feeder runs with its default configuration and so
writes more besides (Atom, JSON Feed, per-source and archive feeds, its SQLite store).

Measured, with the two tools' runs interleaved and medians taken, as child processes:

1. a cold build of 1,000 and of 10,000 articles (``feeder build`` on a fresh store and
   output folder; ``hugo --quiet`` into a fresh destination);
2. one new article with 10,000 stored, the whole process (``feeder build``; Hugo has no
   incremental build, so a full ``hugo --quiet``);
3. watch mode with 10,000 stored: one file renamed into the drop (content) folder until a
   poll of the served feed holds its title (``feeder run``; ``hugo server`` with live
   reload off), and
4. a burst of 300 renamed in at once until the served feed holds the newest 50.

Absolute times swing on a shared VM; the ratios feeder/Hugo of one run are the figures.
Hugo comes from Debian (``apt-get install hugo``) when it is not on PATH; ``--quick`` never
installs it and skips the section without it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path

from benchmarks import corpus
from benchmarks.common import (
    TIMEZONE,
    Client,
    FeederService,
    Scale,
    Section,
    corpus_newest,
    count,
    feeder_command,
    free_port,
    median,
    wait_until,
    write_config,
)
from benchmarks.latency import POLL_INTERVAL

FEED_ENTRIES = 50  # feeder's default feed.max_entries; Hugo's services.rss.limit is set to it
PER_DAY = 15  # articles a day in the generated archive, as in the other benchmarks
INSTALL_TIMEOUT = 300.0  # seconds for each apt-get step
BUILD_TIMEOUT = 900.0
START_TIMEOUT = 300.0
DROP_TIMEOUT = 60.0
BURST_TIMEOUT = 180.0
# Pause between drops so that what a tool still does after its feed changed (pages written
# after the feed, a settle timer) is not charged to the next drop, either tool's.
QUIET = 0.5
POLL_FRACTION = 0.02
HUGO_FEED = "/index.xml"
FEEDER_FEED = "/rss.xml"
TITLE_TOKEN = re.compile(rb"\((peer-[a-z]+ \d+)\)</title>")
COLD_RATIO_TARGET = 1.0  # issue 18: a cold 10k build in at most Hugo's time
SERVICE_RATIO_TARGET = 1.0  # issue 18: the service stays ahead


# Hugo: finding or installing it, and a minimal site -----------------------------------


def find_hugo(install: bool) -> tuple[str | None, str]:
    """The hugo executable, installing Debian's package when allowed and possible, and a
    sentence saying what was done (empty when Hugo was already on PATH)."""
    found = shutil.which("hugo")
    if found:
        return found, ""
    if not install:
        return None, "Hugo is not on PATH and --quick does not install it."
    if shutil.which("apt-get") is None:
        return None, "Hugo is not on PATH and there is no apt-get to install it with."
    if os.geteuid() != 0:
        return None, "Hugo is not on PATH and installing it needs root (apt-get install hugo)."
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install_cmd = ["apt-get", "install", "-y", "--no-install-recommends", "hugo"]
    # Stale package lists are the usual reason an install fails: refresh them once.
    for steps in ([install_cmd], [["apt-get", "update"], install_cmd]):
        ok, why = True, ""
        for cmd in steps:
            try:
                done = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                      timeout=INSTALL_TIMEOUT, check=False)
            except subprocess.TimeoutExpired:
                ok, why = False, f"`{' '.join(cmd)}` took over {INSTALL_TIMEOUT:g} s"
                break
            if done.returncode != 0:
                tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
                ok, why = False, f"`{' '.join(cmd)}` failed: {tail[0][:160]}"
                break
        found = shutil.which("hugo")
        if ok and found:
            return found, "Hugo was installed for this run with `apt-get install hugo`."
    return None, f"Hugo is not on PATH and could not be installed: {why}"


def hugo_version(hugo: str) -> str:
    try:
        done = subprocess.run([hugo, "version"], capture_output=True, text=True, timeout=30,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    match = re.search(r"v(\d+\.\d+\.\d+)\S*", done.stdout)
    return match[1] if match else (done.stdout.strip()[:80] or "unknown")


HUGO_CONFIG = """\
baseURL = "http://127.0.0.1/"
languageCode = "id"
title = "feeder"
timeZone = "{timezone}"
# What feeder makes: a page per article, the home page and its RSS feed; nothing else.
disableKinds = ["taxonomy", "term", "section", "sitemap", "robotsTXT", "404"]

[outputs]
home = ["HTML", "RSS"]
page = ["HTML"]

[services.rss]
limit = {feed_entries}
"""

# Written for this benchmark: a full page per article, as feeder's are (title, date, author,
# text, tags), and an RSS feed carrying a summary and the full text, as feeder's does.
HUGO_LAYOUTS = {
    "_default/baseof.html": """\
<!DOCTYPE html>
<html lang="{{ .Site.LanguageCode }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ if .IsHome }}{{ .Site.Title }}{{ else }}{{ .Title }} · {{ .Site.Title }}{{ end }}</title>
<link rel="alternate" type="application/rss+xml" href="{{ "index.xml" | absURL }}">
</head>
<body>
{{ block "main" . }}{{ end }}
</body>
</html>
""",
    "_default/single.html": """\
{{ define "main" }}
<article>
<h1>{{ .Title }}</h1>
<p class="meta"><time datetime="{{ .Date.Format "2006-01-02T15:04:05-07:00" }}">\
{{ .Date.Format "2006-01-02" }}</time>{{ with .Params.author }} · {{ . }}{{ end }}\
{{ with .Params.source }} · {{ . }}{{ end }}</p>
{{ .Content }}
{{ with .Params.tags }}<p class="tags">{{ range . }}#{{ . }} {{ end }}</p>{{ end }}
</article>
{{ end }}
""",
    "index.html": """\
{{ define "main" }}
<h1>{{ .Site.Title }}</h1>
<ul class="articles">
{{ range first 50 .Site.RegularPages }}
<li><a href="{{ .RelPermalink }}">{{ .Title }}</a> <time>{{ .Date.Format "2006-01-02" }}</time></li>
{{ end }}
</ul>
{{ end }}
""",
    "index.rss.xml": """\
{{- $pages := .Site.RegularPages -}}
{{- $limit := .Site.Config.Services.RSS.Limit -}}
{{- if ge $limit 1 }}{{ $pages = first $limit $pages }}{{ end -}}
{{- printf "<?xml version=\\"1.0\\" encoding=\\"utf-8\\"?>" | safeHTML }}
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel>
<title>{{ .Site.Title }}</title>
<link>{{ .Permalink }}</link>
<description>Latest articles</description>
<language>{{ .Site.LanguageCode }}</language>
{{- range $pages }}
<item>
<title>{{ .Title }}</title>
<link>{{ .Permalink }}</link>
<guid>{{ .Permalink }}</guid>
<pubDate>{{ .Date.Format "Mon, 02 Jan 2006 15:04:05 -0700" | safeHTML }}</pubDate>
<description>{{ .Summary | plainify | html }}</description>
<content:encoded>{{ .Content | html }}</content:encoded>
</item>
{{- end }}
</channel>
</rss>
""",
}


def write_hugo_site(site: Path, feed_entries: int = FEED_ENTRIES) -> None:
    """Hugo's configuration and layouts in *site*, its feed holding the newest
    *feed_entries*; an empty content folder."""
    (site / "content").mkdir(parents=True, exist_ok=True)
    config = HUGO_CONFIG.format(timezone=TIMEZONE.key, feed_entries=feed_entries)
    (site / "config.toml").write_text(config, encoding="utf-8")
    for name, text in HUGO_LAYOUTS.items():
        path = site / "layouts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


# The two sites -------------------------------------------------------------------------


@dataclass
class Pair:
    """One corpus laid out for both tools, with the paths the runs use."""

    root: Path
    articles: int
    hugo: str

    @property
    def feeder_root(self) -> Path:
        return self.root / "feeder"

    @property
    def config(self) -> Path:
        return self.feeder_root / "feeder.toml"

    @property
    def drop(self) -> Path:
        return self.feeder_root / "drop"

    @property
    def site(self) -> Path:
        return self.root / "hugo"

    @property
    def content(self) -> Path:
        return self.site / "content"

    @property
    def staging(self) -> Path:
        return self.root / "staging"

    def feeder_build(self, out: str = "out", state: str = "state") -> list[str]:
        return feeder_command("build", "--config", str(self.config),
                              "--output-dir", str(self.feeder_root / out),
                              "--state-dir", str(self.feeder_root / state))

    def hugo_build(self, public: str = "public") -> list[str]:
        return [self.hugo, "--quiet", "--source", str(self.site),
                "--destination", str(self.site / public),
                "--cacheDir", str(self.root / "hugo-cache")]


def archive_day(n: int) -> date:
    """Article *n*'s date: *PER_DAY* a day going back from the corpus' newest day."""
    return corpus_newest() - timedelta(days=n // PER_DAY)


def new_time(n: int) -> datetime:
    """A time on the day after the archive for new article *n*: later *n*, newer article,
    so the newest of a burst are known; always in the past, so neither tool holds it back."""
    day = corpus_newest() + timedelta(days=1)
    return datetime.combine(day, clock(0), tzinfo=TIMEZONE) + timedelta(seconds=n)


def make_pair(root: Path, articles: int, hugo: str, feed_entries: int = FEED_ENTRIES) -> Pair:
    """Write the same *articles* Markdown files into feeder's drop folder and Hugo's
    content folder (Hugo's feed holding the newest *feed_entries*)."""
    pair = Pair(root, articles, hugo)
    write_config(pair.feeder_root, server={"port": 0})
    write_hugo_site(pair.site, feed_entries)
    pair.staging.mkdir(parents=True)
    for n in range(articles):
        name = f"a-{n:06d}.md"
        text = corpus.markdown_text(n, archive_day(n)).encode("utf-8")
        (pair.drop / name).write_bytes(text)
        (pair.content / name).write_bytes(text)
    return pair


def stage(pair: Pair, tag: str, numbers: Sequence[int]) -> list[tuple[str, Path, Path]]:
    """New articles written twice into the staging folder (same file system) for a rename
    into each tool's folder: (title token, feeder file, Hugo file) for each."""
    staged = []
    for n in numbers:
        text = corpus.markdown_text(n, new_time(n), tag=tag).encode("utf-8")
        pair_files = []
        for tool in ("feeder", "hugo"):
            path = pair.staging / f"{tool}-{tag}-{n:06d}.md"
            path.write_bytes(text)
            pair_files.append(path)
        staged.append((f"{tag} {n}", pair_files[0], pair_files[1]))
    return staged


# Running the tools ---------------------------------------------------------------------


def run_child(cmd: list[str], log: Path, timeout: float = BUILD_TIMEOUT) -> float:
    """Seconds *cmd* took to run to completion; its output goes to *log*.

    The child gets its own process group, so feeder's worker processes are stopped with it
    on a timeout."""
    # Neither tool should pay for write-back of what the other just wrote.
    os.sync()
    with log.open("ab") as out:
        started = time.perf_counter()
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            status = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise TimeoutError(f"{Path(cmd[0]).name} took over {timeout:g} s") from None
        elapsed = time.perf_counter() - started
    if status != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-1500:]
        raise RuntimeError(f"{' '.join(cmd[:3])} … exited with {status}:\n{tail}")
    return elapsed


def feed_items(feed: Path) -> int:
    return feed.read_bytes().count(b"<item>")


def check_built(pair: Pair, out: Path, public: Path) -> None:
    """Both tools made a feed of FEED_ENTRIES items and a page per article."""
    for feed in (out / "rss.xml", public / "index.xml"):
        if feed_items(feed) != min(FEED_ENTRIES, pair.articles):
            raise RuntimeError(f"{feed} holds {feed_items(feed)} items")
    pages = {"feeder": sum(1 for _ in (out / "articles").glob("*.html")),
             "Hugo": sum(1 for _ in public.glob("a-*/index.html"))}
    if set(pages.values()) != {pair.articles}:
        raise RuntimeError(f"pages made for {pair.articles} articles: {pages}")


class HugoServer:
    """``hugo server`` on a free port, live reload off, until stopped."""

    def __init__(self, pair: Pair, log: Path) -> None:
        self.pair, self.log_path = pair, log
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> HugoServer:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [self.pair.hugo, "server", "--source", str(self.pair.site),
                 "--bind", "127.0.0.1", "--port", str(self.port), "--disableLiveReload",
                 "--cacheDir", str(self.pair.root / "hugo-cache")],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        client = self.client()
        try:
            wait_until(lambda: self._serving(client), START_TIMEOUT, interval=0.1)
        except BaseException:
            self.stop()
            raise
        finally:
            client.close()
        return self

    def _serving(self, client: Client) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            log = self.log_path.read_text(encoding="utf-8", errors="replace")
            raise RuntimeError(f"hugo server exited early:\n{log[-2000:]}")
        try:
            status, _, body = client.get(HUGO_FEED)
        except OSError:
            client.close()
            return False
        return status == 200 and b"<item>" in body

    def client(self) -> Client:
        return Client("127.0.0.1", self.port)

    def stop(self, timeout: float = 30.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


class FeedWatch:
    """Polls one served feed (conditionally when the server gives an ETag) for titles."""

    def __init__(self, client: Client, path: str) -> None:
        self.client, self.path = client, path
        self.etag: str | None = None
        self.titles: set[str] = set()

    def poll(self) -> float:
        """Fetch the feed once; return when the response arrived."""
        status, headers, body = self.client.get(
            self.path, {"If-None-Match": self.etag} if self.etag else None)
        arrived = time.perf_counter()
        if status == 200:
            self.etag = headers.get("etag")
            self.titles = {t.decode() for t in TITLE_TOKEN.findall(body)}
        elif status != 304:
            raise RuntimeError(f"GET {self.path}: {status}")
        return arrived

    def until(self, tokens: set[str], started: float, timeout: float) -> float:
        """Poll until the feed holds every token; when the response that did arrived.

        Every POLL_INTERVAL at first, then every POLL_FRACTION of the time since *started*:
        the timing error stays a small share of either tool's figure, while a tool that
        takes seconds is not slowed down by hundreds of full-feed responses (Hugo's
        server sends no ETag, so each poll of it is a 200 with the whole feed)."""
        deadline = started + timeout
        while True:
            arrived = self.poll()
            if tokens <= self.titles:
                return arrived
            if arrived > deadline:
                missing = len(tokens - self.titles)
                raise TimeoutError(f"{missing} of {len(tokens)} titles not in {self.path} "
                                   f"after {timeout:g} s")
            time.sleep(max(POLL_INTERVAL, (arrived - started) * POLL_FRACTION))


def drop(files: Sequence[Path], folder: Path, watch: FeedWatch, tokens: set[str],
         timeout: float) -> float:
    """Rename *files* into *folder* at once; seconds from the first rename to a served feed
    holding *tokens*."""
    watch.poll()  # the current feed, so its titles and ETag are fresh
    started = time.perf_counter()
    for path in files:
        os.rename(path, folder / path.name)
    return watch.until(tokens, started, timeout) - started


# Measuring -----------------------------------------------------------------------------


@dataclass
class Times:
    """Seconds per run, for both tools."""

    feeder: list[float] = field(default_factory=list)
    hugo: list[float] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return median(self.feeder) / median(self.hugo)


def interleaved(runs: int, feeder: Callable[[int], float], hugo: Callable[[int], float]
                ) -> Times:
    """*runs* of each, alternating which tool goes first, so drift hits both alike."""
    times = Times()
    for run in range(runs):
        order = [(feeder, times.feeder), (hugo, times.hugo)]
        for measure, into in order if run % 2 == 0 else reversed(order):
            into.append(measure(run))
    return times


def cold(pair: Pair, runs: int) -> Times:
    """Cold builds into fresh folders; the last run's are kept for what follows."""
    logs = pair.root / "logs"

    def names(run: int) -> tuple[str, str, str]:
        last = run == runs - 1
        return (("out", "state", "public") if last
                else (f"out-{run}", f"state-{run}", f"public-{run}"))

    def feeder(run: int) -> float:
        out, state, _ = names(run)
        return run_child(pair.feeder_build(out, state), logs / "feeder-build.log")

    def hugo(run: int) -> float:
        return run_child(pair.hugo_build(names(run)[2]), logs / "hugo-build.log")

    times = interleaved(runs, feeder, hugo)
    check_built(pair, pair.feeder_root / "out", pair.site / "public")
    return times


def one_new(pair: Pair, runs: int) -> Times:
    """One new article dropped into each tool's folder, then a build of the whole site."""
    logs = pair.root / "logs"
    staged = stage(pair, "peer-n", range(runs))

    def feeder(run: int) -> float:
        path = staged[run][1]
        os.rename(path, pair.drop / path.name)
        return run_child(pair.feeder_build(), logs / "feeder-build.log")

    def hugo(run: int) -> float:
        path = staged[run][2]
        os.rename(path, pair.content / path.name)
        return run_child(pair.hugo_build(), logs / "hugo-build.log")

    times = interleaved(runs, feeder, hugo)
    for feed in (pair.feeder_root / "out" / "rss.xml", pair.site / "public" / "index.xml"):
        if staged[-1][0].encode() not in feed.read_bytes():
            raise RuntimeError(f"the new article is not in {feed}")
    return times


def start_up(pair: Pair, runs: int) -> Times:
    """Each service started on the stored articles with nothing made yet (feeder: a fresh
    store and output folder; ``hugo server`` renders from scratch at every start), until its
    feed serves the newest articles."""
    logs = pair.root / "logs"

    def served(client: Client, path: str) -> bool:
        try:
            status, _, body = client.get(path)
        except OSError:
            client.close()
            return False
        return status == 200 and body.count(b"<item>") == min(FEED_ENTRIES, pair.articles)

    def feeder(run: int) -> float:
        fresh = pair.feeder_root / f"start-{run}"
        # A log of its own: the service's address is read from the first line naming one.
        service = FeederService(pair.config, logs / f"feeder-start-{run}.log",
                                ["--output-dir", str(fresh / "out"),
                                 "--state-dir", str(fresh / "state")])
        started = time.perf_counter()
        service.start(timeout=START_TIMEOUT)
        client = service.client()
        try:
            wait_until(lambda: served(client, FEEDER_FEED), START_TIMEOUT, interval=0.1)
            return time.perf_counter() - started
        finally:
            client.close()
            service.stop()
            shutil.rmtree(fresh, ignore_errors=True)

    def hugo(run: int) -> float:
        server = HugoServer(pair, logs / "hugo-start.log")
        started = time.perf_counter()
        server.start()  # returns once its feed is served, which it is only when complete
        try:
            client = server.client()
            try:
                wait_until(lambda: served(client, HUGO_FEED), START_TIMEOUT, interval=0.1)
            finally:
                client.close()
            return time.perf_counter() - started
        finally:
            server.stop()

    return interleaved(runs, feeder, hugo)


@contextlib.contextmanager
def services(pair: Pair) -> Iterator[tuple[FeedWatch, FeedWatch]]:
    """``feeder run`` and ``hugo server`` on the stored site, both watching, each with a
    feed poller; both stopped after."""
    logs = pair.root / "logs"
    feeder = FeederService(pair.config, logs / "feeder-run.log")
    hugo = HugoServer(pair, logs / "hugo-server.log")
    try:
        feeder.start(timeout=START_TIMEOUT)
        feeder.ready(timeout=START_TIMEOUT)
        hugo.start()
        watches = (FeedWatch(feeder.client(), FEEDER_FEED), FeedWatch(hugo.client(), HUGO_FEED))
        try:
            yield watches
        finally:
            for watch in watches:
                watch.client.close()
    finally:
        hugo.stop()
        feeder.stop()


def watch_mode(pair: Pair, singles: int, bursts: int, burst_size: int
               ) -> tuple[Times, Times]:
    """Single drops, then bursts, into both running services, interleaved."""
    # Numbers above the one-new phase's, rising: every new article is newer than the last,
    # so each burst's newest FEED_ENTRIES are the feed's whole content.
    first = 1_000
    one = stage(pair, "peer-s", range(first, first + singles))
    many = [stage(pair, "peer-b", range(start, start + burst_size))
            for start in range(first + singles, first + singles + bursts * burst_size,
                               burst_size)]
    with services(pair) as (feeder_watch, hugo_watch):

        def single(tool: int) -> Callable[[int], float]:
            def measure(run: int) -> float:
                token, *files = one[run]
                watch, folder = ((feeder_watch, pair.drop) if tool == 0
                                 else (hugo_watch, pair.content))
                seconds = drop([files[tool]], folder, watch, {token}, DROP_TIMEOUT)
                time.sleep(QUIET)
                return seconds
            return measure

        def burst(tool: int) -> Callable[[int], float]:
            def measure(run: int) -> float:
                staged = many[run]
                watch, folder = ((feeder_watch, pair.drop) if tool == 0
                                 else (hugo_watch, pair.content))
                newest = {token for token, *_ in staged[-FEED_ENTRIES:]}  # all when fewer
                seconds = drop([files[tool] for _, *files in staged], folder, watch, newest,
                               BURST_TIMEOUT)
                time.sleep(QUIET * 3)
                return seconds
            return measure

        return (interleaved(singles, single(0), single(1)),
                interleaved(bursts, burst(0), burst(1)))


# The section ---------------------------------------------------------------------------


def seconds(value: float) -> str:
    return f"{value:.3g} s"


def add(section: Section, work: str, times: Times, target: float | None = None,
        strict: bool = False) -> None:
    """A row: the ratio feeder/Hugo of the medians, then both medians."""
    ratio = times.ratio
    value = (f"{ratio:.2f} ({seconds(median(times.feeder))} / "
             f"{seconds(median(times.hugo))})")
    if target is None:
        section.add(f"{work}: feeder/Hugo", value)
    else:
        ok = ratio < target if strict else ratio <= target
        section.add(f"{work}: feeder/Hugo", value,
                    f"{'<' if strict else '<='} {target:.2f}", ok)


def run(scale: Scale, root: Path) -> Section:
    """Install Hugo if need be, build and serve the same articles with both tools."""
    section = Section("7. Peers: feeder and Hugo, same Markdown articles")
    hugo, how = find_hugo(install=not scale.quick)
    if hugo is None:
        section.add("Hugo", "not available: section skipped")
        section.notes.append(how)
        return section
    sizes: list[int] = scale.pick([1_000, 10_000], [100, 300])
    cold_runs: list[int] = scale.pick([5, 3], [1, 1])
    new_runs, singles, bursts = scale.pick((3, 9, 2), (1, 2, 1))
    start_runs: int = scale.pick(3, 1)
    # Hugo's watcher takes more than 50 changes at once for a mass edit and waits for quiet
    # before one full rebuild: the full burst is well above that, the quick one below.
    burst_size: int = scale.pick(300, 20)
    section.add("Hugo version", hugo_version(hugo))
    pairs = []
    for size, runs in zip(sizes, cold_runs, strict=True):
        pair = make_pair(root / str(size), size, hugo)
        (pair.root / "logs").mkdir()
        pairs.append(pair)
        add(section, f"cold build, {count(size)} articles", cold(pair, runs),
            COLD_RATIO_TARGET if size == sizes[-1] else None)
    big = pairs[-1]
    stored = count(big.articles)
    add(section, f"service start with {stored} to publish, until its feed is served",
        start_up(big, start_runs), SERVICE_RATIO_TARGET)
    add(section, f"one new article with {stored} stored (whole process)",
        one_new(big, new_runs))
    single, burst = watch_mode(big, singles, bursts, burst_size)
    add(section, f"watch mode: single drop to served feed, p50 ({stored} stored)", single,
        SERVICE_RATIO_TARGET, strict=True)
    add(section, f"watch mode: burst of {burst_size} to newest "
        f"{min(burst_size, FEED_ENTRIES)} served ({stored} stored)", burst,
        SERVICE_RATIO_TARGET, strict=True)
    section.notes.append(
        "Each value is the ratio feeder/Hugo of the two tools' medians (lower is better for "
        "feeder), then feeder's and Hugo's median times. Absolute times swing on a shared "
        "machine; the ratios of one run are the comparison.")
    section.notes.append(
        f"Runs interleaved, alternating which tool goes first: cold builds "
        f"{' and '.join(str(r) for r in cold_runs)} each, service start {start_runs}, one new "
        f"article {new_runs}, single "
        f"drops {singles}, bursts {bursts}. Builds are child processes timed to exit "
        f"(`feeder build` with a fresh store and output folder; `hugo --quiet` with a fresh "
        f"destination), after an `os.sync()`. The same generated Markdown files (front "
        f"matter title, date, author, tags) go to feeder's drop folder and Hugo's content "
        f"folder. Hugo's site is written by the benchmark: a page per article, a home page "
        f"and an RSS feed of the newest {FEED_ENTRIES} with full text "
        f"(`services.rss.limit`), no taxonomy, section or sitemap pages. feeder runs with "
        f"its default configuration, which also writes Atom, JSON Feed, per-source and "
        f"archive feeds and its store.")
    section.notes.append(
        f"Watch mode: `feeder run` (default settle time) and `hugo server "
        f"--disableLiveReload` (its defaults otherwise: rendering to memory, fast render) "
        f"both run on the stored {stored}; files are renamed in from a staging folder on the "
        f"same file system, and a poll of the served feed ({FEEDER_FEED}, {HUGO_FEED}) every "
        f"{POLL_INTERVAL * 1000:g} ms, or {POLL_FRACTION:.0%} of the time elapsed when "
        f"longer, conditional when the server sends an ETag (feeder's does, Hugo's does "
        f"not), marks when the title is served. A burst counts from its first rename until "
        f"the feed holds the burst's newest {min(burst_size, FEED_ENTRIES)}. {QUIET:g} s of "
        f"quiet after each single drop, {QUIET * 3:g} s after each burst. Service start: "
        f"from starting the process until its feed, polled every 0.1 s, holds the newest "
        f"{FEED_ENTRIES}; feeder with a fresh store and output folder (a first start), "
        f"Hugo's server as it always starts.")
    if how:
        section.notes.append(how)
    return section
