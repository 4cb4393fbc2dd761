"""Writing outputs so that no reader ever sees half of them.

A folder of outputs (`pingyi score --out`, `pingyi report --out`) is built in a hidden staging folder
beside it and swapped into place only when every file, manifest included, is written and flushed. A
lock beside the folder stops a second run from writing into it at the same time. Killed at any moment
(`kill -9`, power loss after the flush, a full disk), `--out` holds either the previous complete set,
nothing (when there was none), or the new complete set: never a mix.

A single output file is written to a hidden temporary file in its folder and renamed over the old one.

Why a swap and not a copy: rename is atomic within one file system; Linux's `renameat2(RENAME_EXCHANGE)`
even swaps two folders in one step, so a previous set is never absent. Elsewhere the swap takes two
renames, and the staging and old folders left by a kill between them are restored on the next run.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import hashlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from pingyi.errors import PingyiError


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB chunks (hashlib releases the GIL while it hashes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


STAGE = ".tmp-"
OLD = ".old-"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2). False where the call is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if rc == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _fsync_tree(root: Path) -> None:
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        _fsync_dir(Path(dirpath))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory file descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _siblings(out: Path, marker: str) -> list[Path]:
    prefix = f".{out.name}{marker}"
    return sorted(p for p in out.parent.iterdir() if p.name.startswith(prefix))


def _recover(out: Path) -> None:
    """Under the lock: a run killed between the two renames of the fallback swap left the previous set
    in an `.old-` folder and no `out`; put it back. Staging folders of killed runs are removed."""
    olds = _siblings(out, OLD)
    if olds and not out.exists():
        olds[-1].rename(out)
        olds = olds[:-1]
    for leftover in [*olds, *_siblings(out, STAGE)]:
        shutil.rmtree(leftover, ignore_errors=True)


def _check_target(out: Path, owned: Iterable[str], command: str) -> None:
    if out.exists() and not out.is_dir():
        raise PingyiError(
            f"--out {out}: is a file; expected a folder (new, empty, or the --out of an earlier `{command}`)"
        )
    if out.is_dir():
        owned = set(owned)
        foreign = sorted(p.name for p in out.iterdir() if p.name not in owned)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise PingyiError(
                f"--out {out}: holds files `{command}` did not write ({shown}); the folder is replaced as a whole, "
                f"so expected a new or empty folder or the --out of an earlier `{command}` (choose another --out)"
            )


@contextlib.contextmanager
def output_folder(out: Path, *, owned: Iterable[str], command: str) -> Iterator[Path]:
    """Lock `out`, yield a fresh staging folder beside it, and on success swap the staging folder into
    place as `out`. `owned` names the entries an earlier run of `command` leaves in `out`; a folder with
    anything else in it is refused, since it is replaced as a whole."""
    from filelock import FileLock, Timeout

    out = Path(out)
    if out.exists() and not out.is_dir():
        _check_target(out, owned, command)
    out.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out.parent / f".{out.name}.lock"
    lock = FileLock(str(lock_path), timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise PingyiError(
            f"--out {out}: another pingyi run is writing to it (lock {lock_path} is held); wait for it to finish "
            "or choose another --out"
        ) from None
    try:
        _recover(out)
        _check_target(out, owned, command)
        stage = out.parent / f".{out.name}{STAGE}{os.getpid()}"
        stage.mkdir()
        try:
            yield stage
            _fsync_tree(stage)
            _publish(stage, out)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    finally:
        lock.release()


def _publish(stage: Path, out: Path) -> None:
    if out.exists():
        if _exchange(stage, out):
            _fsync_dir(out.parent)
            return  # `stage` now holds the previous set; the caller removes it
        old = out.parent / f".{out.name}{OLD}{os.getpid()}"
        out.rename(old)
        stage.rename(out)
        _fsync_dir(out.parent)
        shutil.rmtree(old, ignore_errors=True)
        return
    stage.rename(out)
    _fsync_dir(out.parent)


def write_atomic(path: Path, data: bytes | str) -> Path:
    """Write one file so that a reader sees the old content or the new, never a part."""
    path = Path(path)
    if path.is_dir():
        raise PingyiError(f"{path}: is a folder; expected a file name to write")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}{STAGE}{os.getpid()}"
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        with open(tmp, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _fsync_dir(path.parent)
    return path


def member(folder: Path, name: object, manifest: Path) -> Path:
    """The file a manifest entry names, refused unless it is a plain relative path inside `folder`: a
    manifest written by pingyi never names `..`, an absolute path or a link out of its folder."""
    text = name if isinstance(name, str) else None
    parts = [] if text is None else text.split("/")
    if (
        text is None
        or not text
        or "\\" in text
        or "\x00" in text
        or text.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise PingyiError(
            f"{manifest}: output name {name!r} is not a plain path inside {folder}; expected names such as "
            "'scores.csv' or 'cards/H33010600001.pdf' (the manifest was edited or is not pingyi's)"
        )
    path = Path(folder, *parts)
    try:
        path.resolve().relative_to(Path(folder).resolve())
    except ValueError:
        raise PingyiError(
            f"{manifest}: output {text!r} resolves outside {folder} (a link); expected files inside the folder"
        ) from None
    return path


def copy_atomic(src: Path, dst: Path) -> Path:
    """Copy a file so that a reader of `dst` sees the old content or the whole new one."""
    dst = Path(dst)
    tmp = dst.parent / f".{dst.name}{STAGE}{os.getpid()}"
    try:
        shutil.copyfile(src, tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return dst


# errno values of faults the user can fix, with what to do; anything else stays a bug (exit 1)
USER_FAULTS = {
    errno.EACCES: "permission denied; make it writable (or readable) for this user or choose another path",
    errno.EPERM: "operation not permitted; check its permissions or choose another path",
    errno.EROFS: "the file system is read-only; choose a path on a writable disk",
    errno.ENOSPC: "no space left on the disk; free some space or write elsewhere (nothing was replaced)",
    errno.EDQUOT: "disk quota exceeded; free some space or write elsewhere (nothing was replaced)",
    errno.ENOTDIR: "a part of the path is a file, not a folder; expected a folder",
    errno.EISDIR: "is a folder; expected a file",
    errno.EEXIST: "already exists and cannot be replaced; choose another path",
    errno.ENAMETOOLONG: "the path is too long; choose a shorter one",
    errno.EIO: "an input/output error from the disk; check the disk and try again",
}


def user_fault(exc: OSError) -> str | None:
    """The one-line message for an I/O fault the user can fix, or None when it is not one."""
    advice = USER_FAULTS.get(exc.errno) if exc.errno is not None else None
    if advice is None:
        return None
    where = str(exc.filename) if exc.filename is not None else "a file"
    if exc.filename2 is not None:  # a copy or rename: the second path is where it was going
        where = f"{where} -> {exc.filename2}"
    return f"{where}: {advice}"
