"""Exceptions that carry their CLI exit code and HTTP status (yente style).

Every error transship raises on purpose is a `TransshipError` (also `transship.Error`), so
`except transship.Error` catches them all; the CLI prints one line and exits with
`exit_code`, the HTTP API answers `http_status`.
"""

from __future__ import annotations

from collections.abc import Callable


class TransshipError(Exception):
    """Base of every error transship raises on purpose."""

    http_status = 500
    exit_code = 1

    def render(self, name: Callable[[str], str] | None = None) -> str:
        """The message with its parameters spelt by `name` (the CLI: flags); see UsageError."""
        return str(self)


class InputError(TransshipError):
    """Bad input: names the file, line and column so the user can fix it."""

    http_status = 422
    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
        params: tuple[str, ...] = (),
    ) -> None:
        self.reason = message
        self.file = file
        self.line = line
        self.column = column
        self.value = value
        self.params = params  # `{name}` tokens in the message, as in UsageError
        super().__init__(self._format())

    def render(self, name: Callable[[str], str] | None = None) -> str:
        return self._format(name)

    def _format(self, name: Callable[[str], str] | None = None) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        parts = [where] if where else []
        if self.column is not None:
            parts.append(f"column {self.column!r}")
        text = ", ".join(parts)
        reason = self.reason
        for p in self.params:  # only the listed tokens: braces in a value stay as they are
            reason = reason.replace("{" + p + "}", name(p) if name else p)
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{text}: {reason}{value}" if text else f"{reason}{value}"


class UsageError(TransshipError):
    """An option or expression the user gave cannot be understood.

    The library names its own parameters, never a CLI flag: a message may mark a parameter
    as `{name}` and list it in `params`. `str(e)` shows the bare name (`compare`), as the
    Python API and the HTTP fields spell it; the CLI renders the same error with its flags
    (`--compare`) through `render()`.
    """

    http_status = 400
    exit_code = 2

    def __init__(self, message: str, *, params: tuple[str, ...] = ()) -> None:
        self.template = message
        self.params = params
        super().__init__(self.render())

    def render(self, name: Callable[[str], str] | None = None) -> str:
        text = self.template
        for p in self.params:  # only the listed tokens: braces in a value stay as they are
            text = text.replace("{" + p + "}", name(p) if name else p)
        return text


class SelectionError(UsageError):
    """A caller chose a policy or sanctions lists the server does not offer (or none)."""

    http_status = 422


class WarehouseError(TransshipError):
    """The warehouse file is missing, locked, or not a transship warehouse."""

    http_status = 503
    exit_code = 3


class ParameterError(UsageError):
    """A parameter's value is refused. The message names the library parameter (``out``,
    ``reject_file``); the CLI shows the flag instead (``--out``) via `message`."""

    def __init__(self, parameter: str, reason: str) -> None:
        self.parameter = parameter
        self.reason = reason
        super().__init__("{" + parameter + "}: " + reason, params=(parameter,))

    def message(self, name: str) -> str:
        return self.render(lambda _: name)


class ReferenceDataError(TransshipError, ValueError):
    """Invalid reference data, or a lookup/expression that names nothing known.

    Also a ValueError, as it was before it joined the hierarchy (callers catching ValueError
    keep working). Mostly a name the user gave that names nothing known: a bad request."""

    http_status = 400
    exit_code = 2


class ComtradeError(TransshipError):
    """The Comtrade API refused or failed a request; the message says what to do next."""

    exit_code = 4
    http_status = 502
