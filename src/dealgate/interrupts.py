"""Ctrl-C and SIGTERM: which arrived, and stopping a DuckDB query for them at once.

Python runs a signal handler only between bytecodes, so a signal that arrives while DuckDB runs
a long query (the columnar audit of a large export) waits for the query. DuckDB's Python client
checks for signals in some phases of a query only, and then raises `RuntimeError('Query
interrupted')` in place of the handler's exception: measured on a 500k-deal export, SIGTERM
was acted on 0.3 to 10 s late, and exited 3 as an internal error. `interruptible` makes a
watcher thread call `connection.interrupt()` the moment a signal arrives (the C handler
writes the signal's number to the wake-up file descriptor, whatever the main thread is
doing), and turns what the query raises into the signal's own exception.

It imports nothing heavy: dealgate/entry.py installs the handlers before the command line's
imports run.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

_received: list[int] = []  # SIGINT and SIGTERM, as they arrived


class Terminated(BaseException):
    """SIGTERM, raised where the program is, so that `finally` blocks (a temporary output
    file removed) run as they do for Ctrl-C. Not an Exception: nothing handles it by mistake."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise Terminated


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


def install() -> None:
    """Handle SIGTERM, and SIGINT unless it is ignored (a background job), noting which
    arrived: Ctrl-C raises KeyboardInterrupt as Python's own handler does, SIGTERM
    Terminated."""
    signal.signal(signal.SIGTERM, _terminate)
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _interrupt)


def received() -> int | None:
    """The first SIGINT or SIGTERM received, if any: what fails after it fails because of it
    (a query it interrupted), and exits with its code."""
    return _received[0] if _received else None


def _stop(signum: int) -> BaseException:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated()


@contextmanager
def interruptible(connection: Any) -> Iterator[None]:
    """Queries on this DuckDB connection stop as soon as SIGINT or SIGTERM arrives, and the
    block raises KeyboardInterrupt or Terminated, not DuckDB's error (which a caller could
    take for an input DuckDB cannot read, and run the audit again another way).

    Off the main thread, where no wake-up descriptor can be set, queries stop as Python's
    handlers let them."""
    reading, writing = os.pipe()
    os.set_blocking(writing, False)
    try:
        previous = signal.set_wakeup_fd(writing, warn_on_full_buffer=False)
    except ValueError:  # not the main thread
        os.close(reading)
        os.close(writing)
        yield
        return
    watcher = threading.Thread(target=_watch, args=(reading, connection), daemon=True)
    watcher.start()
    try:
        yield
    except Exception as error:
        signum = received()
        if signum is None:
            raise
        raise _stop(signum) from error
    finally:
        signal.set_wakeup_fd(previous)
        os.close(writing)  # the watcher reads the end of the pipe and returns
        watcher.join()
        os.close(reading)


def _watch(reading: int, connection: Any) -> None:
    while numbers := os.read(reading, 64):
        stopping = [signum for signum in numbers if signum in (signal.SIGINT, signal.SIGTERM)]
        if stopping:
            # Noted before the query stops: the main thread may see DuckDB's error before
            # Python runs the handler, and must know which signal it comes from.
            _received.append(stopping[0])
            connection.interrupt()
