"""The end of a run, finished or stopped: the trained work is written first, and no write is cut short.

Both functions take the writes as callables, so that any trainer can use them:
``save_output`` writes the vectors or model, ``save_checkpoint`` the training state.
"""
from __future__ import annotations

from typing import Callable

from ..base.errors import FastembError
from ..base.signals import held

EXIT_CHECKPOINT_NOT_WRITTEN = 3  # the run finished and its output was written, its final checkpoint was not


def _attempt(write: Callable[[], None]) -> str | None:
    """None if ``write`` succeeded, else why it failed (a FastembError's message)."""
    try:
        write()
    except FastembError as exc:
        return str(exc)
    return None


def finish_run(save_output: Callable[[], None], save_checkpoint: Callable[[], None] | None = None,
               checkpoint: str | None = None) -> str | None:
    """At the end of training: the output first, then the checkpoint; signals wait until both are done.

    Returns None, or why the checkpoint could not be written (the output was: the run is not
    lost). If the output cannot be written the checkpoint still is, and the error says how
    to write the output from it.
    """
    with held():
        try:
            save_output()
        except FastembError as exc:
            if save_checkpoint is None:
                raise
            failed = _attempt(save_checkpoint)
            if failed:
                raise FastembError(f"{exc}; the checkpoint was not written either ({failed})") from None
            raise FastembError(f"{exc}; the finished run is saved in {checkpoint}: `fastemb resume {checkpoint}` "
                               "writes the output again") from None
        return _attempt(save_checkpoint) if save_checkpoint is not None else None


def stop_run(position: str, output: str, save_output: Callable[[], None] | None = None,
             save_checkpoint: Callable[[], None] | None = None, checkpoint: str | None = None,
             resumable: bool = True) -> str:
    """After Ctrl-C, SIGTERM or SIGHUP stopped training at ``position``: the output so far (when
    ``save_output``), then the checkpoint. Further signals are ignored meanwhile: the run is
    stopping already, and a second Ctrl-C must not lose the checkpoint. Returns what was done,
    one sentence a line. ``resumable``: False when the input cannot be read again (standard input)."""
    notes = [f"Interrupted during {position}."]
    with held(deliver=False):
        if save_output is None:
            notes.append(f"{output} not written (an existing file is unchanged).")
        else:
            failed = _attempt(save_output)
            notes.append(f"Trained so far, saved to {output}." if failed is None
                         else f"What was trained so far was NOT saved ({failed}).")
        if save_checkpoint is not None:
            failed = _attempt(save_checkpoint)
            if failed is not None:
                notes.append(f"The checkpoint was NOT saved ({failed}).")
            elif resumable:
                notes.append(f"Checkpoint saved to {checkpoint}; continue with: fastemb resume {checkpoint}")
            else:
                notes.append(f"Checkpoint saved to {checkpoint}; the input came from standard input, which cannot "
                             f"be read again, so `fastemb resume` cannot continue this run (`--init {checkpoint}` "
                             "starts a new run from its vectors).")
    return "\n".join(notes)
