"""Stop requests: Ctrl-C, SIGTERM and SIGHUP all stop a command cleanly, and none cuts a write in half.

SIGTERM and SIGHUP (a closed terminal, a dropped SSH connection) are raised as
:class:`Terminated`, a KeyboardInterrupt, so the same code path that handles Ctrl-C
stops training at a chunk boundary, writes the checkpoint and removes scratch files.
Each signal keeps its own exit code: 128 + the signal number (130, 143, 129).

A memory-mapped file that shrinks under a reader (truncated, rewritten in place) makes
every touch of its lost pages a SIGBUS; :func:`guard_mapped_file` turns that into one
``Error:`` line naming the file and exit code 1.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, delivered like Ctrl-C so that the command stops cleanly."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(request: BaseException | None) -> int:
    """The shell's code for a command ended by ``request``: 128 + the signal number (Ctrl-C: 130)."""
    return 128 + (request.signum if isinstance(request, Terminated) else signal.SIGINT)


def _raise_terminated(signum, frame):
    raise Terminated(signum)


@contextlib.contextmanager
def stop_on_termination():
    """SIGTERM and SIGHUP raise :class:`Terminated` inside the block (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _raise_terminated)
                for signum in _settable(s for s in STOP_SIGNALS if s != signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextlib.contextmanager
def held(deliver: bool = True):
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block is done; yields the list of signals received.

    When the block finishes normally the first signal held is then delivered as it would
    have been (``deliver=False`` drops them: the caller is stopping anyway). When the block
    raises, its error goes on and the held signals are dropped: the command is ending.
    Only the main thread can change signal handlers; elsewhere this holds nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    received: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: received.append(signum))
                for signum in _settable(STOP_SIGNALS)}
    finished = False
    try:
        yield received
        finished = True
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if received and deliver and finished:
            _deliver(received[0], previous[received[0]])


def _settable(signums):
    """The signals whose handler Python can put back (None: one installed outside Python)."""
    return [signum for signum in signums if signal.getsignal(signum) is not None]


def _deliver(signum: int, handler) -> None:
    if callable(handler):
        handler(signum, None)
    elif handler == signal.SIG_DFL:
        os.kill(os.getpid(), signum)


_mapped: dict[str, int] = {}  # files mapped into memory: path -> its size in bytes when it was mapped
_bus_handler = None  # the C-callable SIGBUS handler; kept here because libc holds only its address


def guard_mapped_file(path: str, size: int) -> None:
    """From now on a SIGBUS ends the process with one error line naming ``path`` (or whichever mapped file
    changed) and exit code 1, instead of killing it (exit 135).

    The fault comes from whatever touches the lost pages (numpy, a kernel), and returning from the
    handler would only fault again, so it writes the line and exits at once. Python's own handlers
    run only between bytecodes, too late: the handler is installed through libc.
    """
    global _bus_handler
    _mapped[path] = size
    if _bus_handler is not None or not hasattr(signal, "SIGBUS"):
        return
    import ctypes
    handler_type = ctypes.CFUNCTYPE(None, ctypes.c_int)
    handler = handler_type(_exit_on_bus_error)
    try:
        install = ctypes.CDLL(None).signal
    except (OSError, AttributeError):  # no C library to ask: a changed file still crashes the process
        return
    install.restype, install.argtypes = ctypes.c_void_p, (ctypes.c_int, handler_type)
    install(signal.SIGBUS, handler)
    _bus_handler = handler


def _exit_on_bus_error(signum: int) -> None:
    changed = [path for path, size in _mapped.items() if _size_now(path) != size] or list(_mapped)
    os.write(2, (f"Error: {', '.join(changed)}: the file changed (truncated or rewritten) while fastemb was "
                 "reading it; run the command again on a file that stays as it is\n").encode("utf-8", "replace"))
    os._exit(1)


def _size_now(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return -1
