"""Where the commands' output goes: the terminal, stderr and report files; a usage error or an
unusable input becomes a message on stderr and exit code 2."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from rich.console import Console, RenderableType

from dealgate.errors import DealgateError, InputError
from dealgate.report.formats import FORMATS

T = TypeVar("T")


class _Console(Console):
    """A rich console that leaves a closed pipe to dealgate/entry.py (exit 141), where rich
    would exit 1, the code of an audit that found failures."""

    def on_broken_pipe(self) -> None:
        from dealgate.entry import OutputClosed

        self.quiet = True
        raise OutputClosed


out = _Console(highlight=False)
# Lines that name a file and a position are never wrapped, so editors and CI can parse them.
line_out = _Console(highlight=False, soft_wrap=True)
err = _Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, hint: str = "") -> NoReturn:
    """A usage error: the message (and a hint) on stderr, exit code 2."""
    err.print(f"error: {message}" + (f" ({hint})" if hint else ""), markup=False, style="red")
    raise typer.Exit(2)


def guarded(action: Callable[[], T]) -> T:
    """Run a command body; a problem with the input becomes a message and exit code 2."""
    try:
        return action()
    except InputError as error:
        print_problems(error)
        raise typer.Exit(2) from None
    except DealgateError as error:
        fail(str(error))


def print_problems(error: InputError) -> None:
    for problem in error.problems:
        err.print(str(problem), markup=False, style="red")


def shown_path(path: Path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def plain_text(renderable: RenderableType) -> str:
    """A table as a file holds it: 140 columns wide, without colour."""
    text = io.StringIO()
    Console(file=text, width=140, no_color=True, highlight=False).print(renderable)
    return text.getvalue()


def needs_file(output_format: str, output: Path | None) -> None:
    """Stop (exit 2) when a format of bytes would go to the terminal."""
    what = FORMATS[output_format].binary
    if what is not None and output is None:
        fail(f"--format {output_format} writes {what}", f"give --output FILE.{output_format}")


def refuse_to_replace_inputs(output: Path | None, inputs: dict[str, Path | None]) -> None:
    """Stop (exit 2) before any work when --output names one of the inputs: through a
    symbolic link or a hard link too, the report would replace the file it is made from."""
    from dealgate.atomic import same_file

    if output is None:
        return
    for option, path in inputs.items():
        if path is not None and same_file(output, path):
            fail(
                f"--output {output} is {option} ({path}): the report would replace it",
                "write the report to another file",
            )


def deliver(report: Iterable[str] | bytes, output: Path | None) -> None:
    """A report to its file (atomically), or to standard output (also for `--output -`)."""
    if output is not None and str(output) != "-":
        try:
            _write_atomically(output, report)
        except OSError as error:
            fail(f"cannot write {output}: {error.strerror or error}")
        err.print(f"wrote {output}", markup=False)
    elif isinstance(report, bytes):
        sys.stdout.buffer.write(report)
    else:
        for chunk in report:
            sys.stdout.write(chunk)


def _write_atomically(path: Path, chunks: Iterable[str] | bytes) -> None:
    """Write next to the target and rename, so readers never see half a report."""
    from dealgate.atomic import atomic_file

    with atomic_file(path) as temporary:
        if isinstance(chunks, bytes):
            temporary.write_bytes(chunks)
            return
        with temporary.open("w", encoding="utf-8", newline="") as written:
            written.writelines(chunks)
