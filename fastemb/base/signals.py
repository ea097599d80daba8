"""Stop requests: Ctrl-C, SIGTERM and SIGHUP all stop a command cleanly, and none cuts a write in half.

SIGTERM and SIGHUP (a closed terminal, a dropped SSH connection) are raised as
:class:`Terminated`, a KeyboardInterrupt, so the same code path that handles Ctrl-C
stops training at a chunk boundary, writes the checkpoint and removes scratch files.
Each signal keeps its own exit code: 128 + the signal number (130, 143, 129).
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
