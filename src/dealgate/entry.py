"""The process around the command line: what an interrupt, a SIGTERM or a crash exits with.

Exit codes 0, 1 and 2 are the commands' own (fine, the audit or check found failures, a usage
error or an unusable input), and 4 (`audit --notify-required`: a notification not delivered).
This module adds the others, so that nothing but a finding ever exits 1:

- 3: an internal error, a bug in dealgate: one line on stderr, the traceback with -v (or
  DEALGATE_DEBUG=1);
- 130 (128 + SIGINT): Ctrl-C, at any moment, start-up included, without a traceback;
- 143 (128 + SIGTERM): terminated; like Ctrl-C, an output being written is left as it was;
- 141 (128 + SIGPIPE): the reader of standard output went away (`dealgate audit x.csv | head`):
  nothing more is written and nothing is said, as a Unix tool does when its pipe closes.

It imports nothing heavy, so that it is in place before the command line's imports run.
"""

from __future__ import annotations

import gc
import os
import signal
import sys

from dealgate import interrupts
from dealgate.interrupts import Terminated

EXIT_INTERNAL_ERROR = 3
EXIT_INTERRUPTED = 128 + signal.SIGINT
EXIT_TERMINATED = 128 + signal.SIGTERM
EXIT_PIPE_CLOSED = 128 + signal.SIGPIPE

# The cyclic garbage collector's young generation, in new container objects. Python's default
# (700) runs it thousands of times in an audit that builds many small objects per deal and
# leaves few cycles to free: 11% of a 10k-deal durable audit's CPU, for the same reports and
# the same peak memory (docs/performance.md, 2026-12-02).
GC_YOUNG_THRESHOLD = 100_000

# A test hook, not a feature: DEALGATE_TEST_CRASH=1 makes every command raise RuntimeError
# before it starts, so the tests see how dealgate reports its own bugs (docs/reliability.md).
TEST_CRASH = "DEALGATE_TEST_CRASH"


class OutputClosed(BaseException):
    """Standard output is a pipe whose reader went away. Raised in place of BrokenPipeError
    (dealgate/cli/__init__.py), which click would turn into exit 1, the code of an audit that found
    failures. Not an Exception, so that no fallback (the columnar route's) takes it for a
    failure to retry, and `finally` blocks still run."""


def main(argv: list[str] | None = None) -> None:
    """Run the command line and exit with its code, or with one of those above."""
    arguments = sys.argv[1:] if argv is None else argv
    gc.set_threshold(GC_YOUNG_THRESHOLD, 50, 100)
    try:
        interrupts.install()
        from dealgate.cli import app

        try:
            app(args=arguments, prog_name="dealgate")
        except SystemExit:
            _flush_standard_output()  # what is still buffered, before Python does it at exit
            raise
    except OutputClosed:
        _silence_standard_output()
        _exit_quietly(EXIT_PIPE_CLOSED)
    except KeyboardInterrupt:
        _exit_quietly(EXIT_INTERRUPTED)
    except Terminated:
        _exit_quietly(EXIT_TERMINATED)
    except Exception as error:  # a bug: never exit 1, which means the audit found failures
        signum = interrupts.received()
        if signum is not None:  # not a bug: what the signal stopped (a DuckDB query) failed
            _exit_quietly(128 + signum)
        _report_crash(error, arguments)
        _exit_quietly(EXIT_INTERNAL_ERROR)


def _exit_quietly(code: int) -> None:
    """Exit, whatever arrives meanwhile: a second Ctrl-C or SIGTERM while exiting changes
    nothing."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(code)


def _flush_standard_output() -> None:
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise OutputClosed from None


def _silence_standard_output() -> None:
    """Standard output to the null device, so that Python's own flush at exit finds a reader
    (else it prints 'Exception ignored ... BrokenPipeError' and exits 120)."""
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file: nothing will flush to a pipe
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, descriptor)
    finally:
        os.close(null)


def _report_crash(error: Exception, arguments: list[str]) -> None:
    import shlex
    import traceback

    if _verbose(arguments):
        traceback.print_exception(error, file=sys.stderr)
    text = " ".join(str(error).split())  # one line
    what = f"{type(error).__name__}: {text}" if text else type(error).__name__
    if len(what) > 200:
        what = what[:197] + "..."
    hint = "" if _verbose(arguments) else "; -v shows the traceback"
    print(
        f"dealgate: internal error ({what}) while running {shlex.join(arguments)!r}; "
        f"please report it with the command and input{hint}",
        file=sys.stderr,
    )


def _verbose(arguments: list[str]) -> bool:
    """-v or --verbose on the command line (before a `--`), or DEALGATE_DEBUG=1."""
    if os.environ.get("DEALGATE_DEBUG", "") not in ("", "0"):
        return True
    for argument in arguments:
        if argument == "--":
            return False
        if argument in ("-v", "--verbose"):
            return True
    return False
