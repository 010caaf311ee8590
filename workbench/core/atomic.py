"""Writes that cannot lose work: each file is written under a temporary name in its own folder,
flushed to disk and renamed over the target, so a failed or interrupted write leaves the file
that was there before byte for byte, and no temporary file behind.

    with atomic_path("figure.pdf") as tmp:     # for writers that want a path
        writer.save(tmp)
    with atomic_open("arrays.npz") as fh:      # for writers that want a file object
        np.savez_compressed(fh, **arrays)
    write_text_atomic("params.json", text)
"""
from __future__ import annotations

import os
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

TEMP_MARK = ".tmp"


def check_writable(path: str | os.PathLike) -> Path:
    """``path`` as a Path, or a clear OSError when it cannot be written (no such folder, a folder)."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"cannot write {path}: the folder {folder} does not exist")
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder")
    return path


def temp_name(path: Path) -> Path:
    """A hidden sibling of ``path`` that keeps its suffix, for writers that choose a format by it."""
    return path.with_name(f".{path.stem}.{secrets.token_hex(6)}{TEMP_MARK}{path.suffix}")


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an exception, flush it to
    disk and rename it onto ``path``; otherwise remove it. A symlink is followed: its target is
    replaced. An OSError about the temporary file (a full disk, no permission) names ``path``."""
    target = check_writable(os.path.realpath(path) if os.path.islink(path) else path)
    tmp = temp_name(target)
    try:
        with open(tmp, "xb"):   # claimed now, with the umask's mode; the writer may reopen it
            pass
        if target.is_file():
            shutil.copymode(target, tmp)
        yield tmp
        if not tmp.is_file():
            raise OSError(f"cannot write {target}: nothing was written")
        _fsync_file(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if exc.errno is not None and exc.filename in (None, str(tmp)):
            raise OSError(exc.errno, exc.strerror, str(target)) from exc
        raise
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


@contextmanager
def atomic_open(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary file opened for writing that replaces ``path`` only once it is complete."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        yield fh


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_open(path) as fh:
        fh.write(data)
    return Path(path)


def write_text_atomic(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    return write_bytes_atomic(path, text.encode(encoding))


def _fsync_file(path: Path) -> None:
    with open(path, "ab") as fh:   # a writable handle: Windows refuses to flush a read-only one
        os.fsync(fh.fileno())


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); where folders cannot be opened, the OS decides."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
