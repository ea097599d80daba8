"""Opening inputs (compressed or not), writing outputs atomically, and keeping outputs off the inputs."""
from __future__ import annotations

import atexit
import bz2
import contextlib
import gzip
import io
import lzma
import os
import stat
import sys
import tempfile
from typing import Sequence, Union

from .errors import FastembError

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
STDIN = "-"  # as an input path: standard input, read once as a stream
Inputs = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]]]

written: list[str] = []  # outputs this process has put in place, in order (the CLI says which on Ctrl-C)
_scratch: set[str] = set()  # scratch files not removed yet: whatever stops the process, they go at exit


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
    if _is_special(path):
        if not os.access(path, os.W_OK):
            raise FastembError(f"{path}: not writable (permission denied)")
        return
    if not os.path.isdir(directory):
        raise FastembError(f"{path}: output directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise FastembError(f"{path}: output directory {directory} is not writable")


def _same_file(a: str, b: str) -> bool:
    """Do paths ``a`` and ``b`` name one file (links resolved; hard links too when both exist)?"""
    with contextlib.suppress(OSError):
        if os.path.exists(a) and os.path.exists(b):
            return os.path.samefile(a, b)
    return os.path.realpath(a) == os.path.realpath(b)


def check_paths(inputs: dict[str, str | None], outputs: dict[str, str | None]) -> None:
    """Refuse, before any work, outputs that would destroy an input or each other.

    ``inputs`` and ``outputs`` map a name the user knows (``INPUT``, ``-o/--output``,
    ``--checkpoint`` ...) to a path, or None when not given ('-', stdin, is no file).
    Every output must be a non-empty file name in a writable directory, and no two
    of all these paths may be one file. (Scratch files need no check: they go beside
    the output under fresh names that no existing file has, see scratch_file.)
    """
    given_outputs = {name: path for name, path in outputs.items() if path is not None}
    for name, path in given_outputs.items():
        if not path:
            raise FastembError(f"{name} is empty; give a file name")
        check_writable(path)
    # stdin ('-') and devices (/dev/null) hold no data to lose
    named_inputs = [(name, path) for name, path in inputs.items() if path and path != "-" and not _is_special(path)]
    seen: list[tuple[str, str]] = []
    for name, path in given_outputs.items():
        if _is_special(path):
            continue
        for input_name, input_path in named_inputs:
            if _same_file(path, input_path):
                raise FastembError(f"{name} {path} is the same file as {input_name} {input_path}: "
                                   "writing it would destroy the input; choose another output name")
        for other_name, other_path in seen:
            if _same_file(path, other_path):
                raise FastembError(f"{name} {path} is the same file as {other_name} {other_path}: "
                                   "one output would overwrite the other; give them different names")
        seen.append((name, path))


def resume_paths(checkpoint: str, run: dict, output: str | None = None, report: str | None = None,
                 vectors: str | None = None, model: str | None = None) -> dict:
    """Where ``fastemb resume`` may write: {"output", "report", "vectors", "model": path}, absolute paths.

    A checkpoint is a file that may come from someone else: the outputs it records are
    used only inside the checkpoint's own directory, with every link followed (a link kept
    there may point anywhere, and writing follows it). Elsewhere the user must name them
    (``output``, ``report``, ``vectors``, ``model``); the paths given win anyway. Outputs are then
    checked against the inputs, the checkpoint and each other (check_paths).
    """
    home = os.path.realpath(os.path.dirname(os.path.abspath(checkpoint)))
    chosen, names = {}, {}
    for key, given, flag in (("output", output, "-o/--output"), ("report", report, "--report"),
                             ("vectors", vectors, "--vectors"), ("model", model, "--save-model")):
        recorded = run.get(key)
        option = flag.split("/")[0]
        names[key] = flag if given is not None else f"the {key} the checkpoint records,"
        if given is not None:
            chosen[key] = os.path.abspath(given) if given else given
        elif recorded is None and key != "output":
            chosen[key] = None
        elif not isinstance(recorded, str) or not recorded:
            raise FastembError(f"{checkpoint}: the checkpoint records no valid {key} file; pass {option} FILE")
        elif os.path.dirname(os.path.realpath(recorded)) != home:
            where = os.path.realpath(recorded)
            raise FastembError(f"{checkpoint}: the checkpoint records the {key} {recorded}"
                               + (f" (a link to {where})" if where != os.path.abspath(recorded) else "")
                               + f", outside the checkpoint's directory {home}; resume writes there only if you "
                               f"say so: pass {option} FILE")
        else:
            chosen[key] = recorded
    corpus = run.get("input")
    inputs = {"the checkpoint's input": corpus} if isinstance(corpus, str) else {
        f"the checkpoint's input {i + 1}": path for i, path in enumerate(corpus or []) if isinstance(path, str)}
    check_paths({**inputs, "CHECKPOINT": checkpoint}, {names[key]: chosen[key] for key in chosen})
    return chosen


@contextlib.contextmanager
def atomic_output(path: str, mode: str = "wb"):
    """Write to a temporary file beside ``path`` and rename it into place on success.

    A crash, Ctrl-C or full disk leaves any existing ``path`` untouched and no
    partial file behind: the rename only happens after a complete, flushed write.
    Ctrl-C, SIGTERM and SIGHUP arriving meanwhile are held until the file is in place.
    A symbolic link stays a link (its target is replaced) and an existing file keeps
    its permissions. A device or FIFO (``-o /dev/null``) is written in place.
    """
    from .signals import held
    if not path:
        raise FastembError("the output file name is empty")
    if _is_special(path):  # /dev/null, /dev/stdout, a FIFO: written in place, never replaced by a regular file
        check_writable(path)
        with held():
            try:
                with open(path, mode) as handle:
                    yield handle
            except OSError as exc:
                raise FastembError(f"{path}: write failed ({exc.strerror or exc})") from None
        return
    target = os.path.realpath(path) if os.path.islink(path) else path
    check_writable(target)
    directory = os.path.dirname(os.path.abspath(target))
    with held():
        try:
            fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=directory)
        except OSError as exc:
            raise FastembError(f"{path}: cannot create a file in {directory} ({exc.strerror or exc})") from None
        try:
            _keep_permissions(fd, target)
            with os.fdopen(fd, mode) as handle:
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, target)
        except OSError as exc:
            remove_quietly(tmp)
            raise FastembError(f"{path}: write failed ({exc.strerror or exc}); "
                               "any existing file was left as it was") from None
        except BaseException:
            remove_quietly(tmp)
            raise
        written.append(path)


def _is_special(path: str) -> bool:
    """An existing file that is not a regular one (a device, a FIFO, a socket), links followed."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _keep_permissions(fd: int, target: str) -> None:
    """An existing file's mode (and, where allowed, owner); else the usual 0666 less the umask."""
    try:
        existing = os.stat(target)
    except OSError:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 would make every output private
        return
    os.fchmod(fd, stat.S_IMODE(existing.st_mode))
    with contextlib.suppress(OSError):  # only root may give a file away; others keep their own
        os.fchown(fd, existing.st_uid, existing.st_gid)


def scratch_file(directory: str, prefix: str, suffix: str) -> str:
    """A new, empty scratch file in ``directory`` with a name no existing file has (never overwrites).

    It is removed at interpreter exit if its owner has not removed it (Ctrl-C, SIGTERM
    and SIGHUP end the CLI through exceptions, so exit handlers run).
    """
    try:
        fd, path = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    except OSError as exc:
        raise FastembError(f"{directory}: cannot create a scratch file ({exc.strerror or exc})") from None
    os.close(fd)
    return scratch_name(path)


def scratch_name(path: str) -> str:
    """Register ``path`` (e.g. a scratch file's name plus a suffix) for removal at exit; returns it."""
    _scratch.add(path)
    return path


@atexit.register
def _remove_scratch_files() -> None:
    for path in list(_scratch):
        remove_quietly(path)


def remove_quietly(path: str) -> None:
    """Delete ``path`` if it is there; a scratch file that is already gone is fine."""
    _scratch.discard(path)
    with contextlib.suppress(OSError):
        os.unlink(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
