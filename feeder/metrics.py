"""Prometheus metrics for `/metrics`, in a registry of feeder's own."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry()
FILES_SEEN = Counter("feeder_files_seen", "Article files read and parsed.", registry=REGISTRY)
FILES_REJECTED = Counter("feeder_files_rejected", "Files moved to the rejected folder.",
                         registry=REGISTRY)
ENTRIES_CHANGED = Counter("feeder_entries_changed", "Entries added, updated or retracted.",
                          ["change"], registry=REGISTRY)
REBUILD_SECONDS = Histogram("feeder_rebuild_seconds", "Duration of rebuilds that wrote files.",
                            buckets=(.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5),
                            registry=REGISTRY)
BUILD_FAILURES = Counter("feeder_build_failures", "Rebuilds that failed (each is retried).",
                         registry=REGISTRY)
QUARANTINED = Counter("feeder_quarantined_entries", "Stored entries that could not be decoded, "
                      "taken out of the feeds and read again from their files.",
                      registry=REGISTRY)
SCANS = Counter("feeder_scans", "Full scans of the drop folder completed (the safety net).",
                registry=REGISTRY)
UNREADABLE = Gauge("feeder_unreadable_files", "Names in the drop folder that cannot be read "
                   "(listed by `feeder status` with the reason).", registry=REGISTRY)
DEGRADED = Gauge("feeder_degraded", "1 while something holds publishing back (/healthz says "
                 "what).", ["problem"], registry=REGISTRY)
LAST_BUILD = Gauge("feeder_last_build_timestamp_seconds", "When the last rebuild succeeded.",
                   registry=REGISTRY)


def exposition() -> tuple[int, str, bytes]:
    """The `/metrics` response: status, content type, body."""
    return 200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
