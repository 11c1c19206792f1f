"""Typed errors with the location of the problem; only the CLI turns them into exit codes."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Location:
    """A place in a file: 1-based line and column (0 when unknown)."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.file
        if self.column <= 0:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Problem:
    """One error found in a rule pack or another input that cannot be used as it is."""

    location: Location
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.location}: error: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


class DealgateError(Exception):
    """Base of every error dealgate raises on purpose."""


class UsageError(DealgateError):
    """The command was asked for something it cannot do (exit code 2)."""


class OutputError(DealgateError):
    """The report cannot be written where it was asked for: a folder that cannot be written,
    a full disk (exit code 2). Never a reason to run the audit again another way."""

    def __init__(self, path: object, reason: object) -> None:
        super().__init__(f"cannot write {path}: {reason}")


class InputError(DealgateError):
    """One or more problems make an input unusable as a whole (exit code 2)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: p.location)
        super().__init__("\n".join(str(p) for p in self.problems))


class PackError(InputError):
    """A rule pack that cannot be used: syntax, schema, expression or resolution errors."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A hint naming the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean '{close[0]}'?" if close else ""
