"""The Python API, with the names a fastText or gensim user reaches for.

    model = fastemb.train_unsupervised("corpus.txt", model="cbow", dim=100, epochs=5)
    model = fastemb.train_unsupervised([["a", "tokenised", "sentence"], ...])   # sentences, as gensim
    classifier = fastemb.train_supervised("train.txt", epochs=25, word_ngrams=2)
    model.save("model.npz"); fastemb.load_model("model.npz")

Keywords are the CLI's option names (``dim``, ``window``, ``epochs``, ``min_count``, ...);
fastText's and gensim's spellings are refused with the name to use instead.
"""
from __future__ import annotations

import dataclasses
import os
import re
import tempfile
from typing import Iterable

from .base.checks import check_path, check_texts, check_type, shown
from .base.errors import FastembError

# fastText's and gensim's keywords, and fastemb's name for each.
PEER_NAMES = {
    "input": "the first argument", "sentences": "the first argument", "corpus_file": "the first argument",
    "ws": "window", "epoch": "epochs", "iter": "epochs", "minCount": "min_count", "minCountLabel": "min_count_label",
    "neg": "negative (neg for train_supervised)", "wordNgrams": "word_ngrams", "bucket": "buckets",
    "thread": "threads", "workers": "threads", "t": "sample", "label": "label_prefix",
    "pretrainedVectors": "pretrained", "vector_size": "dim", "size": "dim", "alpha": "lr", "min_alpha": "min_lr",
    "max_vocab_size": "max_words", "sg": "model ('skipgram' or 'cbow')", "hs": "loss ('hs' or 'ns')",
    "negative": "negative", "cbow_mean": "cbow_sum (its opposite)", "verbose": "quiet", "lrUpdateRate": None,
}


def _config(config_class, settings: dict, **fixed):
    """A config from keyword settings, refusing unknown names (naming ours for a peer's) and naming keywords,
    not CLI flags, in its errors."""
    known = {field.name for field in dataclasses.fields(config_class)}
    for name in settings:
        if name in known:
            continue
        ours = PEER_NAMES.get(name)
        if ours == name:  # a name that is ours for the other objective only
            raise FastembError(f"{name!r} is not a setting of {config_class.__name__}; use 'neg' for the classifier")
        hint = f"; fastemb calls it {ours}" if ours else "; fastemb has no such setting"
        if name not in PEER_NAMES:
            hint = f"; the settings are: {', '.join(sorted(known))}"
        raise FastembError(f"unknown keyword {name!r}{hint}")
    try:
        config = config_class(**fixed, **settings)  # checked as it is made
    except FastembError as exc:
        raise FastembError(re.sub(r"--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", "_"), str(exc))) from None
    return config


def _spooled(sentences: Iterable) -> str:
    """Tokenised sentences (lists of str, as gensim takes them) written one per line to a scratch file."""
    fd, path = tempfile.mkstemp(prefix="fastemb-sentences-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for number, sentence in enumerate(sentences):
                if isinstance(sentence, str):
                    raise FastembError("sentences must be lists of tokens (a str was given: pass a path instead, "
                                       "or split it)")
                handle.write(" ".join(check_texts(sentence, f"sentences[{number}]")) + "\n")
    except BaseException:
        os.unlink(path)
        raise
    return path


def _inputs(source) -> tuple[object, str | None]:
    """(what the readers take, a scratch file to remove): a path, a list of paths, or an iterable of sentences."""
    if isinstance(source, (str, os.PathLike)):
        return check_path(source, "input"), None
    if isinstance(source, (list, tuple)) and source and all(isinstance(p, (str, os.PathLike)) for p in source):
        return [check_path(p, f"input[{i}]") for i, p in enumerate(source)], None
    if not isinstance(source, Iterable):
        raise FastembError(f"input is {shown(source)}, expected a path, a list of paths or an iterable of sentences")
    path = _spooled(source)
    return path, path


def _progress(quiet: bool, threads: int):
    from .base.progress import Progress
    return Progress(1, threads, quiet=quiet)


def _train(family, config_settings: dict, input, quiet: bool, cluster, round_words, combiner, sentences: bool,
           on_epoch=None):
    """Check the settings, read, train and finish one run of ``family`` (training.families)."""
    check_type(quiet, "bool", "quiet")
    if on_epoch is not None and not callable(on_epoch):
        raise FastembError(f"on_epoch is {shown(on_epoch)}, expected a function of (epoch, loss)")
    if on_epoch is not None and cluster is not None:
        raise FastembError("on_epoch is called by one process's training; a cluster run reports its rounds instead")
    prepare = _cluster_prepare(family.prepare, config_settings, cluster, round_words, combiner)
    config = _config(family.config_class, config_settings)
    family.check_memory(config)  # before a read-once iterator of sentences is spooled (prepare checks again)
    path, scratch = _inputs(input)
    try:
        if scratch and not sentences:
            raise FastembError("train_supervised reads labelled lines from a path or a list of paths")
        progress = _progress(quiet, config.threads)
        trainer, report = prepare(path, config, progress)
        trainer.on_epoch = on_epoch
        trainer.run(progress)
        return family.finish(trainer, report)
    finally:
        if scratch:
            os.unlink(scratch)


def _cluster_prepare(prepare, settings: dict, cluster, round_words: int | None, combiner: str):
    """``prepare`` itself, or with ``cluster`` the distributed run's (its workers' threads 1 by default)."""
    if cluster is None:
        return prepare
    from .cluster.driver import prepare_on, require_dask
    require_dask()
    settings.setdefault("threads", 1)
    return prepare_on(cluster, round_words, combiner)


def train_unsupervised(input, model: str = "skipgram", *, quiet: bool = False, cluster=None,
                       round_words: int | None = None, combiner: str = "average", on_epoch=None, **settings):
    """Train word vectors with word2vec's skip-gram or CBOW and return a :class:`models.word2vec.Word2VecModel`.

    ``input``: a path (plain, .gz, .bz2, .xz; '-' is standard input), a list of paths read in
    order as one corpus, or an iterable of tokenised sentences (lists of str, read once).
    ``model``: "skipgram" or "cbow". ``settings``: the CLI's options as keywords, e.g.
    ``dim=100, window=5, loss="ns", negative=5, sample=1e-3, min_count=5, epochs=5, lr=0.025,
    threads=4, seed=1`` (see ``fastemb skipgram --help``). Progress goes to stderr unless ``quiet``.
    ``cluster``: train on a Dask cluster (``"local:4"``, ``"tcp://host:8786"`` or a
    ``distributed.Client``; ``threads`` are then each worker's, 1 by default), with ``round_words``
    and ``combiner`` as ``--round-words`` and ``--combiner`` (see docs/distributed.md).
    ``on_epoch(epoch, loss)``: called as each epoch ends, with the epochs done and that epoch's mean loss
    (``model.report["epoch_losses"]`` keeps them all).
    """
    from .training.families import WORD2VEC
    return _train(WORD2VEC, {**settings, "model": model}, input, quiet, cluster, round_words, combiner, True,
                  on_epoch)


def train_supervised(input, *, quiet: bool = False, cluster=None, round_words: int | None = None,
                     combiner: str = "average", on_epoch=None, **settings):
    """Train a fastText-style classifier and return a :class:`models.supervised.SupervisedModel`.

    ``input``: a path (fastText's format: ``__label__x words ...`` per line) or a list of paths.
    ``settings``: the CLI's options as keywords, e.g. ``dim=100, lr=0.1, epochs=5, word_ngrams=2,
    buckets=2_000_000, loss="softmax", min_count=1, threads=4`` (see ``fastemb supervised --help``).
    Progress goes to stderr unless ``quiet``. ``cluster``, ``round_words`` and ``combiner``: as for
    :func:`train_unsupervised`, and ``on_epoch``.
    """
    from .training.families import SUPERVISED
    return _train(SUPERVISED, settings, input, quiet, cluster, round_words, combiner, False, on_epoch)


def load_model(path: str):
    """A model saved by ``.save(path)``: a skip-gram/CBOW model or a classifier (never unpickled)."""
    from .training.families import SUPERVISED, family_of_magic
    path = check_path(path)
    magic = model_magic(path)
    family = family_of_magic(magic) or (SUPERVISED if magic is None else None)  # its errors say what the file is not
    if family is None:
        raise FastembError(f"{path}: not a fastemb model (marker {magic!r})")
    return family.load(path)


def model_magic(path: str) -> str | None:
    """The marker of a fastemb model file (an .npz), or None for any other file; reads nothing else."""
    import zipfile

    import numpy as np
    try:
        with zipfile.ZipFile(path) as archive:
            if "magic.npy" not in archive.namelist() or archive.getinfo("magic.npy").file_size > 4096:
                return None
            with archive.open("magic.npy") as member:
                return str(np.lib.format.read_array(member, allow_pickle=False))
    except (OSError, zipfile.BadZipFile, ValueError):
        return None
