"""Memory-mapped files that change under a reader: one error line, never a bus error.

A memory-mapped file that shrinks under a reader (truncated, rewritten in place) makes every touch of
its lost pages a SIGBUS; :func:`guard_mapped_file` turns that into one ``Error:`` line naming the file
and exit code 1.
"""
from __future__ import annotations

import os
import signal

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
