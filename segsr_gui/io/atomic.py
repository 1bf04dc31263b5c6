"""The one way the app writes files: through temporary files in the target folder,
renamed into place, so a crash or a full disk leaves either the old file or the new
one and never replaces an existing file unless asked."""

from __future__ import annotations

import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Optional, Sequence

from segsr_gui.errors import ImageSaveError

def _exists_message(path: Path) -> str:
    return f"{path} already exists; it was left untouched (use --overwrite to replace it)."


def _save_error(path: Path, exc: OSError) -> ImageSaveError:
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        reason = "the disk is full (no space left on device)"
    err = ImageSaveError(f"Cannot write {path}: {reason}; nothing was written for it.")
    err.errno = exc.errno
    return err


def _write_bytes(f, data: bytes) -> None:
    """Write in 1 MiB pieces (a seam tests use to simulate a disk filling up mid-write)."""
    view = memoryview(data)
    for start in range(0, len(view), 1 << 20):
        f.write(view[start:start + (1 << 20)])


def _unlink_quietly(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once: os.umask can only be read by setting it, which races threads


def _new_file_mode(path: Path) -> int:
    """An older file's permission bits, or what ``open()`` would give a new file."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~_UMASK


def _write_temp(path: Path, data: bytes) -> str:
    """``data`` in a fsynced hidden temporary file beside ``path``; removed again on failure."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        err = ImageSaveError(f"Cannot write to the folder {path.parent}: {exc.strerror or exc}.")
        err.errno = exc.errno
        raise err from None
    try:
        os.chmod(tmp, _new_file_mode(path))  # mkstemp makes 0600 files: give the usual mode
        with os.fdopen(fd, "wb") as f:
            _write_bytes(f, data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException as exc:
        _unlink_quietly(tmp)
        if isinstance(exc, OSError):
            raise _save_error(path, exc) from None
        raise
    return tmp


# os.link fails with these where the file system has no hard links (FAT, exFAT, some shares)
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EMLINK, errno.EXDEV}


def _place_new(tmp: str, path: Path) -> None:
    """Move ``tmp`` to ``path`` without ever replacing a file there. A hard link fails
    atomically if the name exists; without hard links: check, then rename."""
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if os.path.lexists(path):
            raise FileExistsError(errno.EEXIST, "File exists", tmp, None, str(path)) from None
        os.rename(tmp, path)
        return
    _unlink_quietly(tmp)


def _backup(path: Path, backup: str) -> Optional[str]:
    """A second name for the older version (restored if the set fails); None where the
    file system has no hard links (the older file is then replaced atomically, unrestorable)."""
    try:
        os.link(path, backup)
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        return None
    return backup


def write_files_atomic(items: Sequence[tuple[str | os.PathLike, bytes]], overwrite: bool = False) -> list[Path]:
    """Write several files as one unit: all of them appear, or none does.

    Phase 1 writes every file to a temporary file in its target folder. Phase 2
    moves them into place; an existing file is replaced (``overwrite``) by an atomic
    rename, so it is either the old or the new version, never a damaged one. Any
    failure or interruption (also ``KeyboardInterrupt``) removes the temporary files
    and undoes the files already moved, restoring older versions.

    Without ``overwrite`` an existing target raises ``FileExistsError`` and nothing
    is written. OS failures raise ``ImageSaveError`` (``.errno`` set).
    """
    items = [(Path(p), data) for p, data in items]
    if not overwrite:
        for path, _ in items:
            if path.exists():
                raise FileExistsError(_exists_message(path))
    temps: list[tuple[str, Path]] = []
    try:
        for path, data in items:
            temps.append((_write_temp(path, data), path))
    except BaseException:
        for tmp, _ in temps:
            _unlink_quietly(tmp)
        raise
    committed: list[tuple[Path, Optional[str]]] = []  # (target, backup of the older version)
    try:
        for tmp, path in temps:
            backup = None
            if overwrite:
                if path.exists():
                    backup = _backup(path, tmp + ".old")
                os.replace(tmp, path)
            else:
                _place_new(tmp, path)
            committed.append((path, backup))
    except BaseException as exc:
        for path, backup in reversed(committed):
            if backup:
                os.replace(backup, path)
            else:
                _unlink_quietly(path)
        for tmp, _ in temps:
            _unlink_quietly(tmp)
            _unlink_quietly(tmp + ".old")
        if isinstance(exc, FileExistsError):
            raise FileExistsError(_exists_message(Path(exc.filename2 or exc.filename or "output"))) from None
        if isinstance(exc, OSError):
            raise _save_error(Path(exc.filename2 or exc.filename or temps[0][1]), exc) from None
        raise
    for _, backup in committed:
        if backup:
            _unlink_quietly(backup)
    return [path for _, path in temps]


def check_writable_folder(folder: str | os.PathLike) -> Optional[str]:
    """None when ``folder`` exists or can be created and a file can be written in it;
    otherwise one sentence saying why not. (Probes with a real file: permission bits
    say nothing when running as root or on network shares.)"""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        return f"The output folder {folder} is a file, not a folder."
    except OSError as exc:
        return f"Cannot create the output folder {folder}: {exc.strerror or exc}."
    if not folder.is_dir():
        return f"The output folder {folder} is a file, not a folder."
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".segsr-probe-", suffix=".part")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"Cannot write to the output folder {folder}: {exc.strerror or exc}."
    return None


def write_atomic(path: str | os.PathLike, data: bytes, overwrite: bool = False) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder.

    Without ``overwrite`` an existing file is left untouched and ``FileExistsError``
    is raised; on any failure no partial file remains and an older file is intact.
    """
    return write_files_atomic([(path, data)], overwrite)[0]


def write_json_atomic(path: str | os.PathLike, data, indent: int = 2) -> Path:
    """Write ``data`` as JSON (a trailing newline), replacing an older file atomically."""
    return write_atomic(path, (json.dumps(data, indent=indent) + "\n").encode("utf-8"), overwrite=True)
