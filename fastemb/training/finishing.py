"""The end of a run, finished or stopped: the trained work is written first, and no write is cut short.

The functions take the writes as callables, so that any trainer can use them: ``save_outputs``
writes the vectors or model (and the family's other files), ``save_report`` the run's figures,
``save_checkpoint`` the training state, ``save_fallback`` the outputs again in a folder of their own.
The outputs of a run are put in place together or not at all (fileio.outputs_together); a finished
result is never thrown away: if its outputs cannot be written, the checkpoint or a fallback folder
holds it, and the error says where.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
from typing import Callable

from ..base.errors import FastembError
from ..base.fileio import atomic_output, outputs_together
from ..base.signals import held

EXIT_CHECKPOINT_NOT_WRITTEN = 3  # the run finished and its output was written, its final checkpoint was not


def _attempt(write: Callable[[], None]) -> str | None:
    """None if ``write`` succeeded, else why it failed (a FastembError's message)."""
    try:
        write()
    except FastembError as exc:
        return str(exc)
    return None


def save_report(path: str | None, report: dict) -> None:
    """The run's figures as JSON (nothing when ``path`` is None)."""
    if not path:
        return
    with atomic_output(path, "w") as handle:
        json.dump(report, handle, indent=2, default=float)
        handle.write("\n")


def finish_run(save_outputs: Callable[[], None], save_checkpoint: Callable[[], None] | None = None,
               checkpoint: str | None = None, save_report: Callable[[str | None], None] = lambda failed: None,
               save_fallback: Callable[[str], None] | None = None, near: str = ".") -> str | None:
    """At the end of training: the outputs, then the checkpoint, then the report (which says whether the
    checkpoint was written), the outputs put in place together; signals wait until all are done.

    Returns None, or why the checkpoint could not be written (the outputs were: the run is not lost).
    If any output cannot be written, none replaces an existing file, and the finished run goes to the
    checkpoint, or else to ``save_fallback(folder)`` in a new folder beside the output ``near`` (or in
    the temporary, home or current folder); the error says where.
    """
    from .trainer import Interrupted
    checkpoint_failed: str | None = None
    tried_checkpoint, stopped = False, None
    with held():
        try:
            with outputs_together():
                save_outputs()
                if save_checkpoint is not None:
                    tried_checkpoint, checkpoint_failed = True, _attempt(save_checkpoint)
                save_report(checkpoint_failed)
            return checkpoint_failed
        except FastembError as exc:
            reason = str(exc)
        except KeyboardInterrupt as request:  # asked to stop while an output waited on a device or FIFO
            reason, stopped = "Interrupted while writing the outputs; no existing output was changed", request
        if save_checkpoint is not None and not tried_checkpoint:
            checkpoint_failed = _attempt(save_checkpoint)
        if save_checkpoint is not None and checkpoint_failed is None:
            where = f"the finished run is saved in {checkpoint}: `fastemb resume {checkpoint}` writes the output again"
        elif save_fallback is None:
            where = None
        else:
            folder, failed = _save_to_fallback(save_fallback, near)
            where = (f"the finished run is saved in {folder}{os.sep}" if folder is not None
                     else f"the finished run could not be saved elsewhere either ({failed})")
        message = f"{reason}; {where}" if where else reason
        if stopped is not None:
            raise Interrupted(message, stopped) from None
        raise FastembError(message) from None


def _save_to_fallback(save_fallback: Callable[[str], None], near: str) -> tuple[str | None, str | None]:
    """(the new folder the run was saved in, None), or (None, why no place took it): beside the output
    ``near`` first, then the temporary, home and current folders."""
    places = [os.path.dirname(os.path.abspath(near)), tempfile.gettempdir(), os.path.expanduser("~"), os.getcwd()]
    failed = None
    for place in dict.fromkeys(places):
        try:
            folder = tempfile.mkdtemp(prefix="fastemb-unsaved-", dir=place)
        except OSError as exc:
            failed = f"{place}: {exc.strerror or exc}"
            continue
        failed = _attempt(lambda: save_fallback(folder))
        if failed is None:
            return folder, None
        shutil.rmtree(folder, ignore_errors=True)
    return None, failed


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
            def save_together():
                with outputs_together():
                    save_output()
            failed = _attempt(save_together)
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
