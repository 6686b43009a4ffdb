"""Atomic file writes: write beside the target, then rename over it.

This is the one piece of file-system code in the domain package (standard library only), so that the audio, rights
and GUI layers share a single implementation of "a reader never sees a half-written file".
"""

import contextlib
import os
import re
import secrets
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_PREFIX = ".fanremix-partial-"  # then the writer's process id and "-": a cleaner can tell a dead writer's files
# Temp folders in the system temp dir that hold a process's work (an opened pack, an export being signed):
# `<prefix><pid>-<random>`, made with `owned_temp_prefix()`. A process killed mid-way leaves them behind.
TEMP_DIR_PREFIXES = ("fanremix-pack-", "fanremix-export-")
_OWNED = re.compile(r"^(?:\.fanremix-partial-|fanremix-pack-|fanremix-export-)(\d+)-")


def owned_temp_prefix(prefix: str) -> str:
    """`prefix` with this process's id, for a temp file or folder the next start may clean if this process dies."""
    return f"{prefix}{os.getpid()}-"


def _journal_folder() -> Path | None:
    """This user's private record of partial files being written, so a later start can find those of a killed run
    (they sit beside their destinations, anywhere). None if the folder cannot be made safely."""
    folder = Path(tempfile.gettempdir()) / f"fanremix-partials-{os.getuid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        info = os.lstat(folder)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        return None  # someone else's, or a link: do not write there, and do not trust what is in it
    return folder


@contextlib.contextmanager
def partial_file(folder: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """A new empty temp file in `folder`, named so it is recognisably ours; removed when the block ends. If the
    process is killed first, `clean_up_after_killed_runs()` at the next start removes it."""
    fd, name = tempfile.mkstemp(prefix=owned_temp_prefix(TEMP_PREFIX), suffix=suffix, dir=folder)
    os.close(fd)
    temp = Path(name).absolute()
    journal = _journal_folder()
    entry = None if journal is None else journal / f"{os.getpid()}-{secrets.token_hex(8)}"
    if entry is not None:
        with contextlib.suppress(OSError):
            entry.write_text(str(temp), "utf-8")
    try:
        yield temp
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        if entry is not None:
            with contextlib.suppress(OSError):
                entry.unlink()


@contextlib.contextmanager
def atomic_path(destination: str | os.PathLike[str], suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in the destination's folder; on success rename it onto the destination.

    If the body raises, the temporary file is removed and the destination is left as it was.
    """
    destination = Path(destination)
    folder = destination.parent if str(destination.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    with partial_file(folder, suffix or destination.suffix) as temp:
        yield temp
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, destination)


def atomic_write_bytes(destination: str | os.PathLike[str], data: bytes, mode: int | None = None) -> None:
    with atomic_path(destination) as temp:
        temp.write_bytes(data)
        if mode is not None:
            os.chmod(temp, mode)


def _owner_is_gone(name: str) -> bool:
    match = _OWNED.match(name)
    if match is None:
        return False
    pid = int(match.group(1))
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, but someone else's
        return False
    return False


def remove_stale_partials(folder: str | os.PathLike[str]) -> list[Path]:
    """Delete the temp files that processes no longer running left behind in `folder`; return what was removed."""
    removed = []
    for path in Path(folder).glob(TEMP_PREFIX + "*"):
        if _owner_is_gone(path.name):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def clean_up_after_killed_runs() -> list[Path]:
    """At start: remove what killed runs of the app left behind: partial files beside their destinations (found
    through the journal) and work folders in the system temp dir. Files of runs still going are left alone."""
    removed: list[Path] = []
    journal = _journal_folder()
    for entry in journal.iterdir() if journal is not None else ():
        if not _owner_is_gone(TEMP_PREFIX + entry.name):
            continue
        with contextlib.suppress(OSError, UnicodeDecodeError):
            partial = Path(entry.read_text("utf-8"))
            if partial.name.startswith(TEMP_PREFIX) and _owner_is_gone(partial.name) and partial.is_file():
                partial.unlink()
                removed.append(partial)
        with contextlib.suppress(OSError):
            entry.unlink()
    temp_root = Path(tempfile.gettempdir())
    for prefix in TEMP_DIR_PREFIXES:
        for folder in temp_root.glob(prefix + "*"):
            if _owner_is_gone(folder.name) and folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
    return removed
