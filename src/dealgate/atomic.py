"""Files written whole or not at all: readers of a report never see half of it."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """The path to fill in the block, so that path ends up holding what was written.

    Usually a temporary file next to the file path names, renamed onto it when the block
    ends and removed when it fails: a reader sees the old file or the new one, never half.
    A symbolic link is followed: its target is replaced, the link kept. An existing file keeps
    its permission bits; a new one gets the mode open() would give it. A FIFO or a device
    (`/dev/stdout`, a named pipe) is not replaced: the block writes to it directly. A hard
    link to the file is not kept: the rename gives the path a new inode.
    """
    target = writes_to(path)
    try:
        status: os.stat_result | None = target.stat()
    except FileNotFoundError:
        status = None
    if status is not None and not stat.S_ISREG(status.st_mode) and not stat.S_ISDIR(status.st_mode):
        yield target  # a FIFO, a character device: streamed, nothing to rename onto it
        return
    mode = stat.S_IMODE(status.st_mode) if status is not None else new_file_mode()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
    )
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, mode)  # mkstemp makes files private to the owner
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)


def writes_to(path: Path) -> Path:
    """The file writing to path changes: the target of a symbolic link (followed to the end,
    even when it does not exist yet), else path itself. A loop of links is an OSError."""
    if not path.is_symlink():
        return path
    try:
        return path.resolve()
    except RuntimeError:  # Python 3.11 and 3.12 say a loop so; 3.13 raises OSError
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from None


def new_file_mode() -> int:
    """The mode a new file gets under the user's umask, as if created by open()."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def same_file(one: Path, other: Path) -> bool:
    """Whether two paths name the same file: the same path once links are resolved, or the
    same (device, inode), as a hard link does."""
    try:
        if one.resolve() == other.resolve():
            return True
        first, second = one.stat(), other.stat()
    except (OSError, RuntimeError):  # a missing file, a loop of links
        return False
    return (first.st_dev, first.st_ino) == (second.st_dev, second.st_ino)
