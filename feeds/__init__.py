"""feeds: republish a directory of articles as clean per-category feeds."""

__version__ = "0.2.0"
