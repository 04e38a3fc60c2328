"""One error type for everything a user can get wrong: what, where, and what to do."""

from __future__ import annotations


class ClimbError(Exception):
    """An error meant for a person: says what went wrong, where, and what to do about it.

    The CLI prints these without a traceback and exits with ``exit_code``.
    Never put a secret in any of the fields.
    """

    exit_code = 2

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        parts = [self.what]
        if self.where:
            parts.append(f"  where: {self.where}")
        if self.fix:
            parts.append(f"  what to do: {self.fix}")
        return "\n".join(parts)


class UnknownDatasetError(ClimbError, KeyError):
    """A dataset key that is not in the registry."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return self.render()


class CardError(ClimbError, ValueError):
    """A dataset card that violates the card schema."""


class NotBuiltError(ClimbError):
    """A stage of the pipeline that is planned but not implemented yet."""

    exit_code = 3
