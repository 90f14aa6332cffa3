"""Drop folder → store: watch the folder, read settled files, parse them (on every core
when there are many), store their articles, reject what cannot be read."""

from feeder.ingest.ingestor import Ingestor, categorise, copy_tree, is_ignored

__all__ = ["Ingestor", "categorise", "copy_tree", "is_ignored"]
