"""`feeder run`: the watcher, ingest and build on a schedule, the server in front."""

from feeder.service.scheduler import RELEASE, Service, serve_forever

__all__ = ["RELEASE", "Service", "serve_forever"]
