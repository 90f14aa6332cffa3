"""feeder: publishes a folder of article files as RSS 2.0, Atom 1.0 and JSON Feed."""

from feeder.article import Article
from feeder.config import Config, load_config
from feeder.errors import BuildError, ConfigError, FeederError, ParseError

__version__ = "0.1.0"
__all__ = ["Article", "BuildError", "Config", "ConfigError", "FeederError", "ParseError",
           "__version__", "load_config"]
