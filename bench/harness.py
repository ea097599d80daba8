"""Running one benchmarked command: wall time, peak RSS, CPU time and time-stamped output.

Every tool runs as its own child process. The harness reads the child's stdout
and stderr as the bytes arrive and notes when each chunk came, so that the
phases of tools which only print progress (word2vec C, fastText) can be timed
from outside: "the line saying the vocabulary is read arrived 2.31 s after the
start". It can also watch for files to appear (word2vec C opens its output file
the moment training ends). Peak RSS and CPU time come from ``os.wait4``, which
returns the rusage of exactly that child.
"""
from __future__ import annotations

import os
import re
import signal
import statistics
import subprocess
import threading
import time
from dataclasses import dataclass, field


@dataclass
class Stream:
    """The bytes a child wrote to one stream, with the arrival time of each chunk."""

    chunks: list[tuple[float, bytes]] = field(default_factory=list)

    @property
    def data(self) -> bytes:
        return b"".join(chunk for _, chunk in self.chunks)

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    def time_of(self, pattern: str, last: bool = False) -> float | None:
        """Seconds after the start at which the first (or last) match of ``pattern`` had fully arrived."""
        matches = list(re.finditer(pattern.encode(), self.data))
        if not matches:
            return None
        return self.time_at(matches[-1 if last else 0].end() - 1)

    def time_at(self, offset: int) -> float | None:
        """Arrival time of the byte at ``offset`` of :attr:`data`."""
        position = 0
        for seconds, chunk in self.chunks:
            position += len(chunk)
            if position > offset:
                return seconds
        return None


@dataclass
class ChildRun:
    argv: list[str]
    returncode: int
    wall_seconds: float
    max_rss_mb: float
    user_seconds: float
    system_seconds: float
    stdout: Stream
    stderr: Stream
    appeared: dict[str, float]  # watched path -> seconds after the start when it first existed
    timed_out: bool = False

    @property
    def cpu_seconds(self) -> float:
        return self.user_seconds + self.system_seconds

    def tail(self, lines: int = 15) -> str:
        """The last non-blank lines of stdout and stderr (progress lines split at carriage returns)."""
        text = (self.stdout.text + "\n" + self.stderr.text).replace("\r", "\n")
        return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


def run_child(argv: list[str], *, env: dict | None = None, cwd: str | None = None,
              watch: tuple[str, ...] = (), timeout: float | None = None) -> ChildRun:
    """Run ``argv`` to completion and measure it (see the module docstring)."""
    streams = {"stdout": Stream(), "stderr": Stream()}
    appeared: dict[str, float] = {}
    done = threading.Event()
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=env, cwd=cwd, start_new_session=True)

    def read(pipe, stream: Stream):
        fd = pipe.fileno()
        while True:
            data = os.read(fd, 1 << 16)
            if not data:
                break
            stream.chunks.append((time.perf_counter() - started, data))
        pipe.close()

    def look():
        pending = list(watch)
        while pending and not done.is_set():
            now = time.perf_counter() - started
            for path in list(pending):
                if os.path.exists(path):
                    appeared[path] = now
                    pending.remove(path)
            done.wait(0.005)

    threads = [threading.Thread(target=read, args=(proc.stdout, streams["stdout"]), daemon=True),
               threading.Thread(target=read, args=(proc.stderr, streams["stderr"]), daemon=True),
               threading.Thread(target=look, daemon=True)]
    for thread in threads:
        thread.start()
    timed_out = []

    def kill():
        timed_out.append(True)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(timeout, kill) if timeout else None
    if timer:
        timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    except KeyboardInterrupt:
        kill()
        os.wait4(proc.pid, 0)
        raise
    finally:
        if timer:
            timer.cancel()
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    for thread in threads:
        thread.join(5)
    return ChildRun(argv=[str(a) for a in argv], returncode=proc.returncode, wall_seconds=wall,
                    max_rss_mb=usage.ru_maxrss / 1024.0, user_seconds=usage.ru_utime,
                    system_seconds=usage.ru_stime, stdout=streams["stdout"], stderr=streams["stderr"],
                    appeared=appeared, timed_out=bool(timed_out))


def summarise(values) -> dict | None:
    """Median, min and max (and n) of the numbers among ``values``; None when there are none."""
    numbers = [float(v) for v in values if isinstance(v, (int, float)) and v == v]
    if not numbers:
        return None
    return {"median": statistics.median(numbers), "min": min(numbers), "max": max(numbers), "n": len(numbers)}


def record_child(record: dict, child) -> bool:
    """Copy a finished child's wall time, peak RSS, CPU use and exit status into ``record``.

    Returns False (with ``record["error"]`` set) when the child failed or timed out.
    """
    record.update({"wall": child.wall_seconds, "max_rss_mb": child.max_rss_mb, "cpu_seconds": child.cpu_seconds,
                   "cpu_util": child.cpu_seconds / child.wall_seconds if child.wall_seconds else None,
                   "returncode": child.returncode})
    if child.returncode != 0 or child.timed_out:
        record["error"] = ("timed out; " if child.timed_out else f"exit status {child.returncode}; ") + child.tail(8)
        return False
    return True
