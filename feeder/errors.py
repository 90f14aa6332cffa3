"""Exceptions named for what went wrong; the CLI turns them into messages and exit codes."""

from __future__ import annotations


class FeederError(Exception):
    """Base class for every error feeder raises on purpose."""


class ConfigError(FeederError):
    """A configuration value is missing, of the wrong type or out of range."""

    def __init__(self, key: str, problem: str, path: str | None = None) -> None:
        self.key = key
        self.problem = problem
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{key}: {problem}")


class ParseError(FeederError):
    """A file cannot become any article; it is rejected with this reason."""

    def __init__(self, path: str, line: int | None, reason: str) -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line else path
        super().__init__(f"{where}: {reason}")


class BuildError(FeederError):
    """Writing the outputs failed; the previous outputs are still in place."""


class StoreUnavailable(FeederError):
    """The store cannot be used for now (busy, locked, disk full, I/O error); it is left as
    it is and the work is tried again later."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"store {path} is unavailable: {reason}")


class DropFolderUnavailable(FeederError):
    """The drop folder is missing, unreadable or not the one its files were seen in: an
    error state, never an empty folder, so nothing is retracted while it lasts."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)
