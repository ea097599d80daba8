"""Opening inputs (compressed or not) and writing outputs atomically."""
from __future__ import annotations

import bz2
import contextlib
import gzip
import io
import lzma
import os
import sys
import tempfile
from typing import Sequence, Union

from .errors import FastembError

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
STDIN = "-"  # as an input path: standard input, read once as a stream
Inputs = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]


def check_readable(path: str) -> None:
    """Raise FastembError unless ``path`` is an existing, readable regular file."""
    if not os.path.exists(path):
        raise FastembError(f"{path}: no such file")
    if os.path.isdir(path):
        raise FastembError(f"{path}: is a directory, not a file")
    if not os.access(path, os.R_OK):
        raise FastembError(f"{path}: not readable (permission denied)")


def input_paths(inputs: Inputs) -> list[str]:
    """One path or several, as a list of str; the files are read in this order as one corpus."""
    if isinstance(inputs, (str, os.PathLike)):
        return [os.fspath(inputs)]
    paths = [os.fspath(path) for path in inputs]
    if not paths:
        raise FastembError("no input file given")
    if paths.count(STDIN) > 1:
        raise FastembError("'-' (standard input) can be given only once")
    return paths


def input_name(inputs: Inputs) -> str:
    """How messages name the input: the path, 'standard input', or the paths joined by commas."""
    return ", ".join("standard input" if path == STDIN else path for path in input_paths(inputs))


def open_input(path: str):
    """A context manager giving the bytes of ``path``: standard input for '-' (left open), else the file."""
    if path == STDIN:
        return contextlib.nullcontext(sys.stdin.buffer)
    return open_binary(path)


def expand_inputs(args) -> list[str]:
    """The input paths named on a command line, in order, each checked readable.

    '-' is standard input (once at most). An argument that names no file but is a
    glob pattern (quoted, so the shell did not expand it) becomes the files it
    matches, sorted.
    """
    import glob
    paths: list[str] = []
    for arg in args:
        if arg == STDIN or os.path.exists(arg) or not any(char in arg for char in "*?["):
            paths.append(arg)
            continue
        matches = sorted(path for path in glob.glob(arg) if not os.path.isdir(path))
        if not matches:
            raise FastembError(f"{arg}: no such file, and no file matches it as a pattern")
        paths.extend(matches)
    for path in input_paths(paths):
        if path != STDIN:
            check_readable(path)
    return paths


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
