"""Checkpoints: the whole training state in one .npz file (data only, never pickle).

A checkpoint is taken at chunk boundaries, so together with the counter-based
random streams it lets a stopped run continue exactly where it was: a resumed
``--threads 1`` run ends with the same vectors, bit for bit, as an uninterrupted one.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict

import numpy as np

from .. import __version__
from ..formats.archive import Archive, Field, as_counts, as_float32_rows, config_from_dict, require
from ..base.config import OBJECTIVES, SupervisedConfig, check_targets
from ..base.errors import FastembError
from ..base.fileio import atomic_output
from ..models.tables import supervised_table_rows, table_rows
from ..text.offsets import offset_pieces

MAGIC = "fastemb-checkpoint"
FORMAT_VERSION = 3  # 3: any objective (its name and, for the classifier, labels and frozen rows)
READABLE_VERSIONS = (2, 3)  # 2: skip-gram with negative sampling only


def corpus_checksum(corpus) -> str:
    """Identifies the encoded corpus, so a checkpoint is never resumed on different data."""
    digest = hashlib.blake2b(digest_size=16)
    for block in corpus.blocks():
        digest.update(np.ascontiguousarray(block).data)
    for piece in offset_pieces(corpus.offsets):  # the int64 offsets, however they are kept
        digest.update(np.ascontiguousarray(piece).data)
    return digest.hexdigest()


def _blob(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def save_checkpoint(path: str, trainer, run: dict) -> None:
    """Write ``trainer``'s state plus ``run`` (input, output and options of the command) atomically."""
    job = trainer.job
    meta = {"format": MAGIC, "format_version": FORMAT_VERSION, "fastemb_version": __version__,
            "objective": job.objective, "config": asdict(trainer.config), "epoch": trainer.epoch,
            "segment": trainer.segment, "loss_sum": float(trainer.loss_sum), "scored": float(trainer.scored),
            "train_seconds": trainer.train_seconds, "epoch_losses": getattr(trainer, "epoch_losses", []), "run": run}
    if hasattr(trainer, "checkpoint_fields"):  # a distributed run: its round and shards (cluster/driver.py)
        meta["distributed"] = trainer.checkpoint_fields()
    progress, losses, _, next_chunk = trainer.state
    dictionary = {"words": _blob("\n".join(job.vocab.words)), "counts": job.vocab.counts}
    if job.labels is not None:
        dictionary.update(labels=_blob("\n".join(job.labels.words)), label_counts=job.labels.counts,
                          frozen=trainer.frozen)
    with atomic_output(path, "wb", alone=True) as handle:  # put in place now, whatever else is being written
        np.savez(handle, meta=_blob(json.dumps(meta)), **dictionary, input_rows=trainer.input_rows,
                 output_rows=trainer.output_rows, progress=progress, losses=losses, next_chunk=next_chunk)


# What each member of a checkpoint must hold (see save_checkpoint).
_TEXT = Field("u", 1, itemsizes=(1,))                 # UTF-8 bytes
_SPEC = {
    "meta": Field("u", 1, itemsizes=(1,), max_bytes=1 << 20),
    "words": _TEXT,
    "counts": Field("iu", 1),
    "input_rows": Field("f", 2),
    "output_rows": Field("f", 2),
    "labels": _TEXT,
    "label_counts": Field("iu", 1),
    "frozen": Field("iu", 1),
    "progress": Field("iu", 1),
    "losses": Field("f", 1),
    "next_chunk": Field("iu", 1),
}
# The run description a resume relies on: key -> (type, required).
_RUN_KEYS = {"input": ("str | list", True), "output": ("str", True), "corpus_checksum": ("str", True),
             "vectors": ("str | None", False), "model": ("str | None", False),
             "binary": ("bool", False), "report": ("str | None", False), "save_on_interrupt": ("bool", False),
             "checkpoint": ("str", False), "checkpoint_every": ("float", False), "corpus_on_disk": ("bool", False),
             "segment_tokens": ("int | None", False)}
# A distributed run's record (cluster/driver.ClusterTrainer.checkpoint_fields): key -> type.
_DISTRIBUTED_KEYS = {"round": "int", "rounds": "int", "words_done": "float", "round_words": "int",
                     "combiner": "str", "cluster": "str"}


def load_checkpoint(path: str, resuming: bool = False) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`; a clear error for anything else.

    Every field is checked before it is used (types, shapes, lengths, ranges), so what
    the trainer and its kernels receive is consistent: counts and rows one per word,
    per-thread state for the recorded thread count, a position that is not negative.
    ``resuming`` also requires the run's description (input and output paths), which
    only ``resume`` uses.
    """
    with Archive(path, "a fastemb checkpoint") as archive:
        meta = _read_meta(archive, resuming)
        config = meta["config"]
        supervised = isinstance(config, SupervisedConfig)
        words = archive.read_lines("words", _SPEC["words"], _max_word_chars())
        if not words:
            archive.fail("words", "no words")
        n, dim = len(words), config.dim
        arrays = {"words": words, "meta": meta}
        arrays["counts"] = as_counts(archive.read("counts", _SPEC["counts"], (n,)),
                                     lambda problem: archive.fail("counts", problem))
        if supervised:
            labels = archive.read_lines("labels", _SPEC["labels"], _max_word_chars())
            if not labels:
                archive.fail("labels", "no labels")
            check_targets(config, len(labels), f"{path}: field labels")
            arrays["labels"] = labels
            arrays["label_counts"] = as_counts(archive.read("label_counts", _SPEC["label_counts"], (len(labels),)),
                                               lambda problem: archive.fail("label_counts", problem))
            n_inputs, n_outputs = supervised_table_rows(n, len(labels), config)
            frozen = archive.read("frozen", _SPEC["frozen"], (n_inputs,))
            if len(frozen) and int(frozen.max()) > 1:
                archive.fail("frozen", "a value is not 0 or 1")
            arrays["frozen"] = frozen.astype(np.uint8)
        else:
            check_targets(config, n, f"{path}: field words")
            n_inputs, n_outputs = table_rows(n, config)
        for name, rows in (("input_rows", n_inputs), ("output_rows", n_outputs)):
            arrays[name] = as_float32_rows(archive.read(name, _SPEC[name], (rows, dim)),
                                           lambda problem, name=name: archive.fail(name, problem))
        arrays.update(_read_state(archive, config.threads))
    meta["config"] = asdict(config)
    return arrays


def _max_word_chars() -> int:
    from ..base.limits import MAX_TOKEN_BYTES
    return MAX_TOKEN_BYTES  # the corpus reader cuts longer tokens: a longer word was never read by it


def _read_meta(archive: Archive, resuming: bool) -> dict:
    """The JSON description: marker, version, objective, settings (validated), position and the run's paths."""
    try:
        meta = archive.read_json("meta", _SPEC["meta"])
    except FastembError:
        if "meta" not in archive:
            raise FastembError(f"{archive.path}: not a fastemb checkpoint (no fastemb marker)") from None
        raise
    if not isinstance(meta, dict) or meta.get("format") != MAGIC:
        raise FastembError(f"{archive.path}: not a fastemb checkpoint (wrong marker)")
    if meta.get("format_version") not in READABLE_VERSIONS:
        raise FastembError(f"{archive.path}: checkpoint format version {str(meta.get('format_version'))[:20]} is "
                           f"not supported by fastemb {__version__} (it reads versions "
                           f"{', '.join(map(str, READABLE_VERSIONS))})")
    where = f"{archive.path}: field meta"
    objective = meta.setdefault("objective", "skipgram")  # format 2: skip-gram only
    if objective not in OBJECTIVES:
        raise FastembError(f"{where}: objective is {str(objective)[:40]!r}, expected skipgram, cbow or supervised")
    # A resumed run records max_memory as infinite (the corpus layout is fixed by then).
    config = config_from_dict(OBJECTIVES[objective], meta.get("config"), f"{where}: config", unbounded=("max_memory",))
    if config.objective != objective:
        raise FastembError(f"{where}: config: model is {config.model!r} but the objective is {objective!r}")
    meta["config"] = config
    epoch = require(meta, "epoch", "int", where)
    if not 0 <= epoch <= config.epochs:
        raise FastembError(f"{where}: epoch is {epoch}, outside 0..{config.epochs} (the run's epochs)")
    if require(meta, "segment", "int", where, 0) < 0:
        raise FastembError(f"{where}: segment is {meta['segment']}, expected a non-negative integer")
    for key in ("loss_sum", "scored", "train_seconds"):
        if require(meta, key, "float", where) < 0:
            raise FastembError(f"{where}: {key} is {meta[key]}, expected a non-negative number")
    epoch_losses = meta.get("epoch_losses", [])
    if not (isinstance(epoch_losses, list) and len(epoch_losses) <= config.epochs and all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(value, (int, float)) and not
                                                                isinstance(value, bool) and math.isfinite(value)
                                                                and value >= 0 for value in pair)
            for pair in epoch_losses)):
        raise FastembError(f"{where}: epoch_losses must be at most {config.epochs} pairs [loss sum, pairs scored] "
                           "of non-negative numbers")
    run = require(meta, "run", "dict", where, {})
    if not isinstance(run, dict):
        raise FastembError(f"{where}: run is a JSON {type(run).__name__}, expected an object")
    for key, (annotation, required) in _RUN_KEYS.items():
        require(run, key, annotation, f"{where}: run", ... if required and resuming else None)
    if run.get("segment_tokens") is not None and run["segment_tokens"] <= 0:
        raise FastembError(f"{where}: run: segment_tokens is {run['segment_tokens']}, expected a positive integer")
    if run.get("checkpoint_every") is not None and not run["checkpoint_every"] > 0:
        raise FastembError(f"{where}: run: checkpoint_every is {run['checkpoint_every']}, expected a positive number")
    if "distributed" in meta:
        _check_distributed(meta["distributed"], f"{where}: distributed")
    return meta


def _check_distributed(record, where: str) -> None:
    """The round, the round plan's figures and the shards (lists of pieces of the input files)."""
    from ..base.config import COMBINERS
    if not isinstance(record, dict):
        raise FastembError(f"{where} is a JSON {type(record).__name__}, expected an object")
    for key, annotation in _DISTRIBUTED_KEYS.items():
        require(record, key, annotation, where)
    if not 0 <= record["round"] <= record["rounds"] or record["round_words"] <= 0:
        raise FastembError(f"{where}: round {record['round']} of {record['rounds']} (round_words "
                           f"{record['round_words']}) is not a position in a plan")
    if record["combiner"] not in COMBINERS:
        raise FastembError(f"{where}: combiner is {record['combiner'][:40]!r}, expected one of {', '.join(COMBINERS)}")
    shards = require(record, "shards", "", where)
    if not isinstance(shards, list) or not shards or not all(isinstance(shard, list) for shard in shards):
        raise FastembError(f"{where}: shards is not a list of shards")
    for k, shard in enumerate(shards):
        for piece in shard:
            if not isinstance(piece, dict) or set(piece) != {"path", "start", "end"}:
                raise FastembError(f"{where}: shard {k}: a piece is not {{path, start, end}}")
            require(piece, "path", "str", f"{where}: shard {k}")
            require(piece, "end", "int | None", f"{where}: shard {k}")
            if require(piece, "start", "int", f"{where}: shard {k}") < 0 or (piece["end"] is not None
                                                                             and piece["end"] < 0):
                raise FastembError(f"{where}: shard {k}: a piece has a negative byte offset")


def _read_state(archive: Archive, threads: int) -> dict:
    """Per-thread progress and losses (one STRIDE slot per thread), and the next chunk to train."""
    from ..kernels.rows import STRIDE
    arrays = {}
    for name in ("progress", "losses", "next_chunk"):
        wanted = STRIDE if name == "next_chunk" else threads * STRIDE
        array = archive.read(name, _SPEC[name], (wanted,))
        if name == "losses":
            array = array.astype(np.float64)
            bad = ~np.isfinite(array) | (array < 0)
        else:
            if array.dtype.kind == "u" and int(array.max()) >= 2**63:
                archive.fail(name, "a value is out of range")
            array = array.astype(np.int64)
            bad = array < 0
        if bad.any():
            archive.fail(name, f"entry {int(np.argmax(bad))} is {array[int(np.argmax(bad))]}, "
                               "expected a non-negative number")
        arrays[name] = array
    return arrays
