"""Opening inputs (compressed or not), writing outputs atomically, and keeping outputs off the inputs."""
from __future__ import annotations

import atexit
import bz2
import contextlib
import gzip
import io
import lzma
import os
import re
import socket
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


def compressed(path: str) -> bool:
    """Is ``path`` read through a decompressor (.gz, .bz2, .xz), not as it is stored?"""
    return os.path.splitext(path)[1].lower() in _OPENERS


def open_binary(path: str) -> io.BufferedIOBase:
    """Open ``path`` for reading bytes, decompressing .gz, .bz2 and .xz by extension."""
    check_readable(path)
    opener = _OPENERS.get(os.path.splitext(path)[1].lower())
    try:
        return opener(path, "rb") if opener else open(path, "rb", buffering=1 << 20)
    except OSError as exc:
        raise FastembError(f"{path}: cannot open ({exc.strerror or exc})") from None


def check_writable(path: str) -> None:
    """Fail before any work unless ``path`` can be written exactly as :func:`atomic_output` will write it.

    That is: its real target (links followed, a dangling link's target too) in an existing
    directory, a name the file system takes, an existing file that is not write-protected, and a
    scratch file that can really be made beside the target (a read-only or full file system, or a
    folder only root may write, shows here and not after the training).
    """
    if os.path.isdir(path):
        raise FastembError(f"{path}: is a directory; give a file name for the output")
    if _is_special(path):
        if not os.access(path, os.W_OK):
            raise FastembError(f"{path}: not writable (permission denied)")
        return
    target = os.path.realpath(path)
    shown = path if target == os.path.abspath(path) else f"{path} (a link to {target})"
    directory, name = os.path.split(target)
    if not os.path.isdir(directory):
        raise FastembError(f"{shown}: output directory {directory} does not exist")
    limit = _name_max(directory)
    if len(os.fsencode(name)) > limit:
        raise FastembError(f"{shown}: the file name is {len(os.fsencode(name))} bytes, more than the {limit} "
                           "its file system takes")
    if os.path.exists(target) and _write_protected(target):
        raise FastembError(f"{shown}: the existing file is write-protected "
                           f"(mode {stat.S_IMODE(os.stat(target).st_mode):04o}); make it writable or choose "
                           "another name")
    remove_quietly(_new_scratch(directory, "probe", ".tmp", path))


def _name_max(directory: str) -> int:
    try:
        return os.pathconf(directory, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _write_protected(path: str) -> bool:
    """No write permission: for root (whom the kernel lets write anyway), no write bit at all."""
    mode = os.stat(path).st_mode
    return not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


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


_batch: list | None = None  # (scratch, target, name) staged inside outputs_together(), put in place at its end


@contextlib.contextmanager
def outputs_together():
    """The outputs written inside the block are put in place together when it ends, or none is.

    Each is written and flushed to its scratch file first; only when all are complete are they
    renamed over their targets, with stop requests held. A failure anywhere in the block removes
    the scratch files and leaves every existing file as it was. Blocks nest: the outermost commits.
    """
    global _batch
    if _batch is not None:
        yield
        return
    _batch = []
    try:
        try:
            yield
        except FastembError as exc:
            raise FastembError(f"{exc}; no existing output was changed") from None
        from .signals import held
        with held():
            done = []
            for scratch, target, name in _batch:
                try:
                    os.replace(scratch, target)
                except OSError as exc:  # after complete writes on one file system: hardly ever
                    raise FastembError(f"{name}: cannot put the output in place ({exc.strerror or exc})"
                                       + (f"; {', '.join(done)} replaced already" if done else "")) from None
                _scratch.discard(scratch)
                written.append(name)
                done.append(name)
            for directory in {os.path.dirname(target) for _, target, _ in _batch}:
                _sync_directory(directory)
    finally:
        staged, _batch = _batch, None
        for scratch, _, _ in staged:
            remove_quietly(scratch)


@contextlib.contextmanager
def atomic_output(path: str, mode: str = "wb", alone: bool = False):
    """Write to a scratch file beside ``path`` and rename it into place on success.

    A crash, Ctrl-C or full disk leaves any existing ``path`` untouched and no
    partial file behind: the rename only happens after a complete, flushed write.
    Ctrl-C, SIGTERM and SIGHUP arriving meanwhile are held until the file is in place.
    Inside :func:`outputs_together` the rename waits for the block's end (``alone``: a
    checkpoint, put in place at once). A symbolic link stays a link (its target is
    replaced) and an existing file keeps its permissions. A device or FIFO (``-o /dev/null``)
    is written in place, with no signal held: a reader that never comes must not make the
    command deaf to Ctrl-C.
    """
    from .signals import held, interruptible
    if not path:
        raise FastembError("the output file name is empty")
    if _is_special(path):  # /dev/null, /dev/stdout, a FIFO: written in place, never replaced by a regular file
        check_writable(path)
        with interruptible():
            try:
                with open(path, mode) as handle:
                    yield handle
            except OSError as exc:
                raise FastembError(f"{path}: write failed ({exc.strerror or exc})") from None
        written.append(path)
        return
    check_writable(path)
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    with held():
        tmp = _new_scratch(directory, "output", ".tmp", path)
        try:
            with open(tmp, mode) as handle:
                _keep_permissions(handle.fileno(), target)
                yield handle
                handle.flush()
                os.fsync(handle.fileno())
            if _batch is not None and not alone:
                _batch.append((tmp, target, path))
                return
            os.replace(tmp, target)
            _scratch.discard(tmp)
            _sync_directory(directory)
        except OSError as exc:
            remove_quietly(tmp)
            raise FastembError(f"{path}: write failed ({exc.strerror or exc})"
                               + ("" if _batch is not None else "; any existing file was left as it was")) from None
        except BaseException:
            remove_quietly(tmp)
            raise
        written.append(path)


def _sync_directory(directory: str) -> None:
    """Make a rename durable: a crash right after it must not bring the old file back."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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


# Scratch files are named .fastemb-HOST-PID-KIND-XXXXXXXX.SUFFIX, whatever the output's name (a
# 255-byte output name still leaves room): a later run in the same folder on the same host removes
# those whose process is gone (killed by SIGKILL, or the machine lost power).
_SCRATCH = re.compile(r"\.fastemb-(?P<host>[A-Za-z0-9]{0,16})-(?P<pid>[0-9]+)-")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16]


def _new_scratch(directory: str, kind: str, suffix: str, shown: str) -> str:
    """Create an empty scratch file in ``directory``; registered for removal at exit."""
    from .signals import held
    remove_stale_scratch(directory)
    with held():  # a signal between creating and registering it would leave the file behind
        try:
            fd, path = tempfile.mkstemp(prefix=f".fastemb-{_host()}-{os.getpid()}-{kind}-", suffix=suffix,
                                        dir=directory)
        except OSError as exc:
            raise FastembError(f"{shown}: cannot create a file in {directory} ({exc.strerror or exc})") from None
        os.close(fd)
        return scratch_name(path)


def remove_stale_scratch(directory: str) -> list[str]:
    """Remove the scratch files in ``directory`` left by fastemb processes of this host that are gone."""
    removed = []
    host, alive = _host(), {}
    with contextlib.suppress(OSError):
        for entry in os.scandir(directory):
            found = _SCRATCH.match(entry.name)
            if not found or found["host"] != host:
                continue
            pid = int(found["pid"])
            if pid not in alive:
                alive[pid] = _running(pid)
            if not alive[pid] and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(entry.name)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True


def scratch_file(directory: str, kind: str, suffix: str) -> str:
    """A new, empty scratch file in ``directory`` with a name no existing file has (never overwrites).

    It is removed at interpreter exit if its owner has not removed it (Ctrl-C, SIGTERM
    and SIGHUP end the CLI through exceptions, so exit handlers run), and by a later run
    if this process is killed.
    """
    return _new_scratch(directory, kind, suffix, directory)


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
