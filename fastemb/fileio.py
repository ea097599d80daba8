"""Opening inputs (compressed or not) and writing outputs atomically."""
from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import tempfile

from .errors import FastembError

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}


def check_readable(path: str) -> None:
    """Raise FastembError unless ``path`` is an existing, readable regular file."""
    if not os.path.exists(path):
        raise FastembError(f"{path}: no such file")
    if os.path.isdir(path):
        raise FastembError(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise FastembError(f"{path}: not readable (permission denied)")


def open_binary(path: str) -> io.BufferedIOBase:
    """Open ``path`` for reading bytes, decompressing .gz, .bz2 and .xz by extension."""
    check_readable(path)
    opener = _OPENERS.get(os.path.splitext(path)[1].lower())
    try:
        return opener(path, "rb") if opener else open(path, "rb", buffering=1 << 20)
    except OSError as exc:
        raise FastembError(f"{path}: cannot open ({exc.strerror or exc})") from None


def check_writable(path: str) -> None:
    """Fail early, before any training, if ``path`` cannot be created."""
    directory = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise FastembError(f"{path}: is a directory; give a file name for the output")
    if not os.path.isdir(directory):
        raise FastembError(f"{path}: output directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise FastembError(f"{path}: output directory {directory} is not writable")


@contextlib.contextmanager
def atomic_output(path: str, mode: str = "wb"):
    """Write to a temporary file beside ``path`` and rename it into place on success.

    A crash, Ctrl-C or full disk leaves any existing ``path`` untouched and no
    partial file behind: the rename only happens after a complete, flushed write.
    """
    check_writable(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would make every output private
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        remove_quietly(tmp)
        raise FastembError(f"{path}: write failed ({exc.strerror or exc}); any existing file was left as it was") from None
    except BaseException:
        remove_quietly(tmp)
        raise


def remove_quietly(path: str) -> None:
    """Delete ``path`` if it is there; a scratch file that is already gone is fine."""
    with contextlib.suppress(OSError):
        os.unlink(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
