"""Files written whole or not at all: readers of a report never see half of it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_file(path: Path) -> Iterator[Path]:
    """A temporary file next to path, to be filled in the block; renamed onto path, with the
    mode open() would give it, when the block ends, and removed when it fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, new_file_mode())  # mkstemp makes files private to the owner
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def new_file_mode() -> int:
    """The mode a new file gets under the user's umask, as if created by open()."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask
