"""Drop folder → store: watch the folder, read settled files, parse them (on every core
when there are many), store their articles, reject what cannot be read."""

from feeder.ingest.context import categorise, finish, parse_context
from feeder.ingest.importer import copy_tree
from feeder.ingest.ingestor import Ingestor
from feeder.ingest.names import is_ignored
from feeder.ingest.preview import Preview, preview

__all__ = ["Ingestor", "Preview", "categorise", "copy_tree", "finish", "is_ignored",
           "parse_context", "preview"]
