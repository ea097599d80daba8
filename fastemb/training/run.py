"""A training command from start to saved output, for every objective: checkpoints, interrupts, resume.

Every model family (families.py) prepares, finishes and saves its run through one interface; this
module drives them the same way for all.
"""
from __future__ import annotations

import dataclasses
import os
import stat

from ..text.corpus import DiskCorpus
from ..base.errors import FastembError
from ..base.fileio import STDIN, input_name, input_paths
from ..base.progress import Progress
from ..base.signals import stop_requests
from .families import family_of
from .trainer import Interrupted, Trainer


def outputs_of(run_info: dict) -> str:
    return " and ".join(path for path in (run_info["output"], run_info.get("vectors"), run_info.get("model")) if path)


def run_to_file(trainer: Trainer, report: dict, run_info: dict, checkpoint: str | None = None,
                checkpoint_every: float = 600.0, save_on_interrupt: bool = False,
                progress: Progress | None = None):
    """Train to the end with optional periodic checkpoints, then write the outputs ``run_info`` names.

    On Ctrl-C, SIGTERM or SIGHUP the threads stop at their next chunk boundary; the outputs
    are written with ``save_on_interrupt``, then the checkpoint (if any); then
    :class:`Interrupted` says where things are and how to go on, one sentence a line. At the
    end the outputs are written before the checkpoint; ``report["checkpoint_error"]`` says if
    the checkpoint failed.
    """
    with stop_requests():  # one scope for training and saving: a burst of signals is one request
        return _run_to_file(trainer, report, run_info, checkpoint, checkpoint_every, save_on_interrupt, progress)


def _run_to_file(trainer, report, run_info, checkpoint, checkpoint_every, save_on_interrupt, progress):
    from .checkpoint import corpus_checksum, save_checkpoint
    from .finishing import finish_run, save_report, stop_run

    family = family_of(trainer.job.objective)
    run_info = dict(run_info)
    if checkpoint:
        # The segment layout is part of the position: a resume must cut the data the same way.
        data = trainer.data
        on_disk = isinstance(data, DiskCorpus)
        run_info.update(checkpoint=os.path.abspath(checkpoint), checkpoint_every=checkpoint_every,
                        corpus_on_disk=on_disk, segment_tokens=getattr(data, "segment_tokens", None) if on_disk else None,
                        save_on_interrupt=save_on_interrupt)
        run_info.setdefault("corpus_checksum", corpus_checksum(data))

    def save_state():
        save_checkpoint(checkpoint, trainer, run_info)

    def save_state_or_warn():
        try:
            save_state()
        except FastembError as exc:  # a failed periodic checkpoint must not end a long run
            if progress is not None:
                progress.say(f"\nWarning: checkpoint not written ({exc}); training goes on")

    try:
        trainer.run(progress, pause_every=checkpoint_every if checkpoint else None,
                    on_pause=save_state_or_warn if checkpoint else None)
    except Interrupted as stopped:  # what was trained so far (if asked), then the checkpoint: see training/finishing.py
        def save_so_far():
            family.save_outputs(family.finish(trainer, report), run_info)
        raise Interrupted(stop_run(str(stopped), outputs_of(run_info), save_so_far if save_on_interrupt else None,
                                   save_state if checkpoint else None, checkpoint,
                                   resumable=STDIN not in input_paths(run_info["input"])), stopped.signal) from None
    model = family.finish(trainer, report)
    report["output"] = run_info["output"]

    def save_report_saying(checkpoint_failed):
        if checkpoint:
            report["checkpoint_error"] = checkpoint_failed
        save_report(run_info.get("report"), report)

    def save_fallback(folder):  # every output of the run, under its own name, in ``folder``
        moved = {key: os.path.join(folder, f"{key}-{os.path.basename(run_info[key])}")
                 for key in ("output", "vectors", "model", "report") if run_info.get(key)}
        family.save_outputs(model, {**run_info, **moved})
        save_report(moved.get("report"), report)

    # The outputs, the checkpoint, the report; the outputs are put in place together, a failed checkpoint
    # is reported and the outputs kept, failed outputs leave the finished run in the checkpoint or a fallback.
    finish_run(lambda: family.save_outputs(model, run_info), save_state if checkpoint else None, checkpoint,
               save_report_saying, save_fallback, near=run_info["output"])
    return model


def resume(checkpoint: str, progress: Progress | None = None, output: str | None = None,
           report_path: str | None = None, vectors: str | None = None, model: str | None = None, announce=None,
           cluster=None, distributed=None):
    """Continue the run saved in ``checkpoint`` and write the outputs of the command that started it, or
    ``output`` (and ``report_path``).

    A recorded output or report outside the checkpoint's directory is refused unless given
    here (see fileio.resume_paths); ``announce(output, report)`` is called with the paths
    before training. A distributed run goes on on ``cluster`` (an address, ``local:N`` or a Dask
    Client), by default the local workers it recorded, through ``distributed(record, cluster, checkpoint)``, the cluster
    engine's prepare for the checkpoint's record (cluster.driver.resume_prepare; the layers above this one
    hand it in). Returns the model and the run description (output, report, ...).
    """
    from .checkpoint import corpus_checksum, load_checkpoint
    from ..base.fileio import resume_paths
    from ..text.vocab import Vocab

    saved = load_checkpoint(checkpoint, resuming=True)
    meta = saved["meta"]
    if STDIN in input_paths(meta["run"]["input"]):
        raise FastembError(f"{checkpoint}: the run read its input from standard input, which cannot be read "
                           f"again; to go on, train on the data as a file with --init {checkpoint}")
    _check_recorded_inputs(checkpoint, meta)
    family = family_of(meta["objective"])
    prepare = family.prepare
    if cluster is not None and "distributed" not in meta:
        raise FastembError(f"{checkpoint}: --cluster continues a distributed run; this checkpoint is of a run on "
                           "one machine (resume it without --cluster)")
    if "distributed" in meta:
        if distributed is None:
            raise FastembError(f"{checkpoint}: a distributed run's checkpoint; it goes on on a cluster "
                               "(fastemb resume)")
        prepare = distributed(meta["distributed"], cluster, checkpoint)
    run_info = {**meta["run"], **resume_paths(checkpoint, meta["run"], output, report_path, vectors, model)}
    if announce is not None:
        announce(outputs_of(run_info), run_info.get("report"))
    config = family.config_from(meta["config"])
    # read the data with the layout it had: in memory or on disk
    config = dataclasses.replace(config, on_disk=True) if run_info.get("corpus_on_disk") else \
        dataclasses.replace(config, on_disk=False, max_memory=float("inf"))
    vocab = Vocab(saved["words"], saved["counts"])
    labels = Vocab(saved["labels"], saved["label_counts"]) if "labels" in saved else None
    trainer, report = prepare(run_info["input"], config, progress, vocab=vocab, labels=labels,
                              frozen=saved.get("frozen"), workdir=os.path.dirname(run_info["output"]),
                              segment_tokens=run_info.get("segment_tokens"))
    if corpus_checksum(trainer.data) != run_info["corpus_checksum"]:
        raise FastembError(f"{checkpoint}: the input {input_name(run_info['input'])} has changed since the "
                           "checkpoint was written (checksum differs); resuming would train on different data")
    trainer.restore(saved)
    if progress is not None:
        progress.say(f"Resuming at {trainer.describe_position()}")
    report["resumed_from"] = os.path.abspath(checkpoint)
    model = run_to_file(trainer, report, run_info, checkpoint=checkpoint,
                        checkpoint_every=run_info.get("checkpoint_every", 600.0),
                        save_on_interrupt=run_info.get("save_on_interrupt", False), progress=progress)
    return model, run_info


def _check_recorded_inputs(checkpoint: str, meta: dict) -> None:
    """The inputs a checkpoint records are read again: regular files only (a device such as /dev/zero never
    ends, a FIFO or a URL is the file's maker's choice), and a distributed run's shards pieces of them only."""
    paths = input_paths(meta["run"]["input"])
    for path in paths:
        try:
            regular = stat.S_ISREG(os.stat(path).st_mode)
        except OSError as exc:
            raise FastembError(f"{checkpoint}: the checkpoint records the input {path}, which cannot be read "
                               f"({exc.strerror or exc})") from None
        if not regular:
            raise FastembError(f"{checkpoint}: the checkpoint records the input {path}, which is not a regular file; "
                               "resume reads regular files only")
    inputs = {os.path.abspath(path) for path in paths}
    for k, shard in enumerate(meta.get("distributed", {}).get("shards", [])):
        for piece in shard:
            if os.path.abspath(piece["path"]) not in inputs:
                raise FastembError(f"{checkpoint}: field meta: distributed: shard {k} reads {piece['path'][:200]}, "
                                   "which is not one of the run's inputs")
