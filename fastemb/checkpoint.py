"""Checkpoints: the whole training state in one .npz file (data only, never pickle).

A checkpoint is taken at chunk boundaries, so together with the counter-based
random streams it lets a stopped run continue exactly where it was: a resumed
``--threads 1`` run ends with the same vectors, bit for bit, as an uninterrupted one.
"""
from __future__ import annotations

import hashlib
import json
import zipfile

import numpy as np

from . import __version__
from .errors import FastembError
from .fileio import atomic_output, check_readable

MAGIC = "fastemb-checkpoint"
FORMAT_VERSION = 3  # 3: any objective (its name and, for the classifier, labels and frozen rows)
READABLE_VERSIONS = (2, 3)  # 2: skip-gram with negative sampling only


def corpus_checksum(corpus) -> str:
    """Identifies the encoded corpus, so a checkpoint is never resumed on different data."""
    digest = hashlib.blake2b(digest_size=16)
    for block in corpus.blocks():
        digest.update(np.ascontiguousarray(block).data)
    digest.update(np.ascontiguousarray(corpus.offsets).data)
    return digest.hexdigest()


def _blob(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def save_checkpoint(path: str, trainer, run: dict) -> None:
    """Write ``trainer``'s state plus ``run`` (input, output and options of the command) atomically."""
    from dataclasses import asdict
    job = trainer.job
    meta = {"format": MAGIC, "format_version": FORMAT_VERSION, "fastemb_version": __version__,
            "objective": job.objective, "config": asdict(trainer.config), "epoch": trainer.epoch,
            "segment": trainer.segment, "loss_sum": float(trainer.loss_sum), "scored": float(trainer.scored),
            "train_seconds": trainer.train_seconds, "run": run}
    progress, losses, _, next_chunk = trainer.state
    dictionary = {"words": _blob("\n".join(job.vocab.words)), "counts": job.vocab.counts}
    if job.labels is not None:
        dictionary.update(labels=_blob("\n".join(job.labels.words)), label_counts=job.labels.counts,
                          frozen=trainer.frozen)
    with atomic_output(path, "wb") as handle:
        np.savez(handle, meta=_blob(json.dumps(meta)), **dictionary, input_rows=trainer.input_rows,
                 output_rows=trainer.output_rows, progress=progress, losses=losses, next_chunk=next_chunk)


def load_checkpoint(path: str) -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`; a clear error for anything else."""
    check_readable(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        raise FastembError(f"{path}: not a fastemb checkpoint ({exc})") from None
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        if meta.get("format") != MAGIC:
            raise ValueError
    except (KeyError, ValueError, UnicodeDecodeError, AttributeError):
        raise FastembError(f"{path}: not a fastemb checkpoint") from None
    if meta.get("format_version") not in READABLE_VERSIONS:
        raise FastembError(f"{path}: checkpoint format version {meta.get('format_version')} is not supported "
                           f"by fastemb {__version__} (it reads versions {', '.join(map(str, READABLE_VERSIONS))})")
    meta.setdefault("objective", "skipgram")
    for name in ("words", "labels"):
        if name in arrays:
            arrays[name] = arrays[name].tobytes().decode("utf-8").split("\n")
    arrays["meta"] = meta
    return arrays
