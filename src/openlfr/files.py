"""Private files: the data folder and everything written into it (or written by the CLI as an evaluation or
report output) is readable by its owner only.

Folders are 0700 and files 0600 whatever the process umask: a database holds templates and password
hashes, the media store holds faces, an evaluation output names the people it matched. An existing folder
or file that is more open is tightened (its owner is this process's user; nothing is loosened).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import IO, Any

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) as 0700; tighten ``path`` itself to 0700 if it exists."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty as 0600 if it does not exist, else tighten it to 0600 (contents untouched)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    try:
        _tighten_fd(fd, FILE_MODE)
    finally:
        os.close(fd)
    return path


def open_private(path: Path, mode: str = "w", *, encoding: str | None = None, newline: str | None = None) -> IO[Any]:
    """``open(path, mode)`` for writing ("w", "a", "wb", "ab", "x"…), the file created or tightened to 0600."""
    flags = os.O_CREAT | (os.O_WRONLY if "+" not in mode else os.O_RDWR)
    if "a" in mode:
        flags |= os.O_APPEND
    elif "x" in mode:
        flags |= os.O_EXCL
    elif "w" in mode:
        flags |= os.O_TRUNC
    else:
        raise ValueError(f"open_private writes files; mode {mode!r} does not")
    fd = os.open(path, flags, FILE_MODE)
    try:
        _tighten_fd(fd, FILE_MODE)
        return os.fdopen(fd, mode, encoding=encoding if "b" not in mode else None, newline=newline)
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write ``data`` to ``path`` (replacing it) as a 0600 file."""
    payload = data.encode(encoding) if isinstance(data, str) else data
    with open_private(path, "wb") as handle:
        handle.write(payload)
    return path


def _tighten(path: Path, mode: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode:
        with contextlib.suppress(PermissionError):  # not ours (e.g. a shared parent): leave it
            path.chmod(current & mode)


def _tighten_fd(fd: int, mode: int) -> None:
    current = stat.S_IMODE(os.fstat(fd).st_mode)
    if current & ~mode:
        with contextlib.suppress(PermissionError):
            os.fchmod(fd, current & mode)
