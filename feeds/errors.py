"""The one exception family. Messages say what is wrong and how to fix it;
only the CLI turns these into exit codes."""

from __future__ import annotations


class FeedsError(Exception):
    """Base of every error feeds reports to a user."""


class ConfigError(FeedsError):
    """The configuration is invalid; `problems` lists every problem found, one per line."""

    def __init__(self, problems: list[str] | tuple[str, ...]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


class ArticleError(FeedsError):
    """One article file cannot be published; names the file, the line when known, the fix."""

    def __init__(self, path: str, reason: str, line: int | None = None) -> None:
        self.path = path
        self.reason = reason
        self.line = line
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {reason}")


class PublishError(FeedsError):
    """The output tree could not be written; the previously published files are untouched."""
