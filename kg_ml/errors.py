"""Error types that render as one line naming the file, line and field at fault."""

from __future__ import annotations

from pathlib import Path


class KgMlError(Exception):
    """Base class: an expected failure whose message is shown to the user as is."""


class ConfigError(KgMlError):
    """Invalid params.yaml value or override."""


class InputError(KgMlError):
    """Bad input data: ``file:line: field 'x': message``."""

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.path = str(path)
        self.line = line
        self.field = field
        self.message = message
        where = self.path if line is None else f"{self.path}:{line}"
        what = f"field '{field}': " if field else ""
        super().__init__(f"{where}: {what}{message}")


class DownloadError(KgMlError):
    """A fetch failed: names the URL (and HTTP status where there is one)."""

    def __init__(self, url: str, message: str, *, status: int | None = None) -> None:
        self.url = url
        self.status = status
        code = f"HTTP {status}: " if status is not None else ""
        super().__init__(f"{url}: {code}{message}")


class ManualDownloadRequired(KgMlError):
    """A licensed source the user must place by hand; says which file goes where."""
