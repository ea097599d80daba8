"""How every kernel is compiled: one decorator, and the one rule for Numba's on-disk cache.

Numba refuses to decorate a function with ``cache=True`` when none of its cache locations is writable
(a service user whose HOME and package folder are read-only): it raises while the module imports. So the
cache is asked for only when one of those locations passes Numba's own check; otherwise the kernels are
compiled in memory for this run, with one warning line on stderr.
"""
from __future__ import annotations

import hashlib
import os
import sys
import tempfile

from numba import config, njit
from numba.misc.appdirs import AppDirs

KERNELS_DIR = os.path.dirname(os.path.abspath(__file__))


def _writable(directory: str) -> bool:
    """Numba's test of a cache location: the folder can be made and a file written in it."""
    try:
        os.makedirs(directory, exist_ok=True)
        tempfile.TemporaryFile(dir=directory).close()
    except OSError:
        return False
    return True


def cache_locations(source_dir: str = KERNELS_DIR) -> list[str]:
    """The folders Numba would cache the kernels of ``source_dir`` in, in the order it tries them:
    $NUMBA_CACHE_DIR, the source's own __pycache__, the user-wide cache (~/.cache/numba on Linux)."""
    # Numba files a source folder's kernels under the folder's name and the SHA-1 of its path.
    subpath = f"{os.path.basename(source_dir)}_{hashlib.sha1(source_dir.encode()).hexdigest()}"
    user_wide = os.path.join(AppDirs(appname="numba", appauthor=False).user_cache_dir, subpath)
    found = [os.path.join(config.CACHE_DIR, subpath)] if config.CACHE_DIR else []
    return found + [os.path.join(source_dir, "__pycache__"), user_wide]


def _decide_caching() -> bool:
    if any(_writable(location) for location in cache_locations()):
        return True
    tried = ", ".join(cache_locations())
    try:  # best effort: a closed stderr must not stop the import
        print(f"Warning: no writable Numba cache ({tried}); kernels are compiled for this run only "
              "(set NUMBA_CACHE_DIR to a writable folder to keep them)", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass
    return False


CACHED = _decide_caching()


def kernel(function=None, **options):
    """``numba.njit`` with the settings every kernel shares (nogil, the disk cache when there is one).

    ``@kernel`` alone, or ``@kernel(fastmath=True, parallel=True)`` with more of njit's options.
    """
    compile_kernel = njit(cache=CACHED, nogil=True, **options)
    return compile_kernel if function is None else compile_kernel(function)
