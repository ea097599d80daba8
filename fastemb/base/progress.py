"""Progress on stderr while training, about once a second, and the final summary."""
from __future__ import annotations

import sys
import time


def _clock(seconds: float) -> str:
    seconds = int(max(seconds, 0))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Prints ``percent, words/sec/thread, lr, loss, ETA`` to stderr; silent when quiet."""

    def __init__(self, total_words: float, threads: int, quiet: bool = False, stream=None, every: float = 1.0):
        self.total_words = max(float(total_words), 1.0)
        self.threads = threads
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.every = every
        self.started = time.perf_counter()
        self.last_shown = 0.0
        self.shown = False
        self.words_at_start = 0.0

    def begin(self, words_done: float = 0.0) -> None:
        """Training starts (or resumes with ``words_done`` already done) now: rates count from here."""
        self.started = time.perf_counter()
        self.words_at_start = float(words_done)

    def update(self, words_done: float, lr: float, loss: float, force: bool = False) -> None:
        now = time.perf_counter()
        if self.quiet or (not force and now - self.last_shown < self.every):
            return
        self.last_shown = now
        fraction, rate, eta = self._position(words_done, now)
        self._show(f"Progress: {100 * fraction:5.1f}%  words/sec/thread: {rate / self.threads:9.0f}  "
                   f"lr: {lr:.6f}  loss: {loss:.4f}  ETA: {_clock(eta)}")

    def update_round(self, words_done: float, lr: float, loss: float, round_index: int, rounds: int,
                     worker_rates: list[float]) -> None:
        """A distributed run's line, after each round: words/sec of the whole cluster and of each worker."""
        if self.quiet:
            return
        fraction, rate, eta = self._position(words_done, time.perf_counter())
        workers = " ".join(f"{r / 1000:,.0f}k" for r in worker_rates)
        self._show(f"Round {round_index}/{rounds}  Progress: {100 * fraction:5.1f}%  words/sec: {rate:,.0f} "
                   f"(per worker: {workers})  lr: {lr:.6f}  loss: {loss:.4f}  ETA: {_clock(eta)}")

    def _position(self, words_done: float, now: float) -> tuple[float, float, float]:
        """(fraction done, words/sec since begin(), seconds left at that rate)."""
        rate = (words_done - self.words_at_start) / max(now - self.started, 1e-9)
        eta = (self.total_words - words_done) / rate if rate > 0 else 0.0
        return min(words_done / self.total_words, 1.0), rate, eta

    def _show(self, line: str) -> None:
        self._write("\r" + line)
        self.shown = True

    def close(self) -> None:
        if self.shown and not self.quiet:
            self._write("\n")

    def say(self, message: str) -> None:
        """A one-off status line (reading, vocabulary, compile), unless quiet."""
        if not self.quiet:
            self._write(message + "\n")

    def _write(self, text: str) -> None:
        """Progress is best effort: a terminal that went away (SIGHUP: EIO) or a closed pipe must
        not stop the run, nor the checkpoint written on the way out."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError:
            pass


def plural(n: int, noun: str) -> str:
    """'1 epoch', '5 epochs'."""
    return f"{n} {noun}" + ("" if n == 1 else "s")
