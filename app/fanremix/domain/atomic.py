"""Atomic file writes: write beside the target, then rename over it.

This is the one piece of file-system code in the domain package (standard library only), so that the audio, rights
and GUI layers share a single implementation of "a reader never sees a half-written file".
"""

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_PREFIX = ".fanremix-partial-"


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the destination's folder; on success rename it onto the destination.

    If the body raises, the temporary file is removed and the destination is left as it was.
    """
    destination = Path(destination)
    folder = destination.parent if str(destination.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=suffix or destination.suffix, dir=folder)
    os.close(fd)
    temp = Path(name)
    try:
        yield temp
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, destination)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def atomic_write_bytes(destination: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    with atomic_path(destination) as temp:
        temp.write_bytes(data)
        if mode is not None:
            os.chmod(temp, mode)


def remove_stale_partials(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete temp files a killed process left behind in `folder`; return what was removed."""
    removed = []
    for path in Path(folder).glob(TEMP_PREFIX + "*"):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed
