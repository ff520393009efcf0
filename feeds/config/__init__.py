"""The configuration stage: YAML -> a frozen, typed Config, every problem reported at once.

`loading` reads the file, `settings` declares every key once, `values` holds the checks
that turn a YAML value into a setting's value, `sections` the dataclasses they fill.
The names below are the stage's interface; the rest of the program imports them from here.
"""

from feeds.config.loading import (
    BASE_URL_ENV,
    key_location,
    load_config,
    parse_config,
    with_environment,
)
from feeds.config.sections import (
    CleanConfig,
    Config,
    FeedSpec,
    ImagesConfig,
    OutputConfig,
    ScheduleConfig,
    SiteConfig,
    SourceConfig,
    StateConfig,
    WebSubConfig,
)
from feeds.config.settings import FEED_SETTINGS, FEEDS_HELP, SETTINGS, Setting, settings_markdown

__all__ = [
    "BASE_URL_ENV",
    "FEED_SETTINGS",
    "FEEDS_HELP",
    "SETTINGS",
    "CleanConfig",
    "Config",
    "FeedSpec",
    "ImagesConfig",
    "OutputConfig",
    "ScheduleConfig",
    "Setting",
    "SiteConfig",
    "SourceConfig",
    "StateConfig",
    "WebSubConfig",
    "key_location",
    "load_config",
    "parse_config",
    "settings_markdown",
    "with_environment",
]
