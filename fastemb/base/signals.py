"""Stop requests: Ctrl-C, SIGTERM and SIGHUP all stop a command cleanly, and none cuts a write in half.

One small state machine, the handler below, serves every request in the process:

- running: the first request is raised (KeyboardInterrupt; SIGTERM and SIGHUP as :class:`Terminated`,
  a KeyboardInterrupt too), so the one code path that handles Ctrl-C stops training at a chunk
  boundary, writes the checkpoint and removes scratch files;
- inside :func:`held`: a request is noted and raised when the outermost held block ends;
- stopping (a request was raised): later requests, however many and however fast, are ignored.
  The stop under way (the output so far, the checkpoint) is never cut short by a second Ctrl-C.

The handler only notes or raises: it never blocks, and it never swaps handlers while a signal may
arrive, so no burst can catch the process between two states. Each signal keeps its own exit
code: 128 + the signal number (130, 143, 129).
"""
from __future__ import annotations

import contextlib
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


class _State:
    """Where the process stands; changed only by the main thread (handlers run there too)."""

    def __init__(self):
        self.scopes = 0          # nested stop_requests() blocks: our handler is installed while > 0
        self.holding = 0         # nested held() blocks: a request waits until the outermost ends
        self.pending = None      # the first request that arrived while held
        self.stopping = None     # the request raised; later ones are ignored
        self.previous = {}       # the handlers to put back when the outermost scope ends


_state = _State()


def _request(signum: int) -> KeyboardInterrupt:
    return KeyboardInterrupt() if signum == signal.SIGINT else Terminated(signum)


def _handle(signum, frame):
    if _state.stopping is not None:
        return
    if _state.holding:
        if _state.pending is None:
            _state.pending = signum
    else:
        _state.stopping = signum
        raise _request(signum)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def stop_requests():
    """Ctrl-C, SIGTERM and SIGHUP go through the state machine inside the block (main thread only).

    Blocks nest; the outermost installs the handler, and at its end puts the previous handlers
    back and forgets the requests: a program that goes on after a stopped run can be stopped again.
    """
    if not _main_thread():
        yield
        return
    if _state.scopes == 0:
        _state.previous = {signum: signal.signal(signum, _handle) for signum in _settable(STOP_SIGNALS)}
    _state.scopes += 1
    try:
        yield
    finally:
        _state.scopes -= 1
        if _state.scopes == 0:
            for signum, handler in _state.previous.items():
                signal.signal(signum, handler)
            _state.previous, _state.pending, _state.stopping = {}, None, None


@contextlib.contextmanager
def held(deliver: bool = True):
    """Hold Ctrl-C, SIGTERM and SIGHUP until the block is done.

    When the outermost held block finishes normally, a request that arrived meanwhile is raised
    then (``deliver=False`` drops it: the caller is stopping anyway). When the block raises, its
    error goes on and the request stays pending: :func:`check` or the next held block's end
    raises it, so an error that is caught (a periodic checkpoint that failed) loses no Ctrl-C.
    Only the main thread can handle signals; elsewhere this holds nothing.
    """
    if not _main_thread():
        yield
        return
    with stop_requests():
        _state.holding += 1
        try:
            yield
        finally:
            _state.holding -= 1
        if not deliver:
            _state.pending = None
        check()


@contextlib.contextmanager
def interruptible():
    """A block that may wait in a system call for ever (opening a FIFO that no one reads) is never held:
    inside it, a request is raised at once, even within held(). Nothing it writes can be cut in half."""
    if not _main_thread():
        yield
        return
    saved, _state.holding = _state.holding, 0
    try:
        check()
        yield
    finally:
        _state.holding = saved


def check() -> None:
    """Raise the request that arrived while held, if any and if nothing is held now."""
    if _state.pending is not None and not _state.holding and _state.stopping is None and _main_thread():
        signum, _state.pending = _state.pending, None
        _state.stopping = signum
        raise _request(signum)


def _settable(signums):
    """The signals whose handler Python can put back (None: one installed outside Python)."""
    return [signum for signum in signums if signal.getsignal(signum) is not None]
