"""SQLite: the entries, the files that carry them, and what the next build must do."""

from feeder.store.store import Changes, FileRecord, Store

__all__ = ["Changes", "FileRecord", "Store"]
