"""fastText's ``train_supervised``, ``train_unsupervised`` and ``load_model``: its keyword names, their order
and defaults, mapped onto fastemb's settings; training is fastemb's own (api.train_*)."""
from __future__ import annotations

import os
import tempfile

from ..base.checks import check_path
from ..base.errors import FastembError
from ..base.fileio import remove_quietly, scratch_file
from ..text.vocab import EOS
from .model import FastTextModel

# fastText's own defaults (its FastText.py), before the keywords a call sets.
UNSUPERVISED_DEFAULTS = {
    "model": "skipgram", "lr": 0.05, "dim": 100, "ws": 5, "epoch": 5, "minCount": 5, "minCountLabel": 0,
    "minn": 3, "maxn": 6, "neg": 5, "wordNgrams": 1, "loss": "ns", "bucket": 2_000_000,
    "thread": max(1, (os.cpu_count() or 2) - 1), "lrUpdateRate": 100, "t": 1e-4, "label": "__label__",
    "verbose": 2, "pretrainedVectors": "", "seed": 0,
    "autotuneValidationFile": "", "autotuneMetric": "f1", "autotunePredictions": 1, "autotuneDuration": 300,
    "autotuneModelSize": "",
}
SUPERVISED_DEFAULTS = {**UNSUPERVISED_DEFAULTS, "lr": 0.1, "minCount": 1, "minn": 0, "maxn": 0, "loss": "softmax",
                       "model": "supervised"}
# The order positional arguments take.
_COMMON = ("lr", "dim", "ws", "epoch", "minCount", "minCountLabel", "minn", "maxn", "neg", "wordNgrams", "loss",
           "bucket", "thread", "lrUpdateRate", "t", "label", "verbose", "pretrainedVectors", "seed")
SUPERVISED_ARGUMENTS = ("input",) + _COMMON + ("autotuneValidationFile", "autotuneMetric", "autotunePredictions",
                                              "autotuneDuration", "autotuneModelSize")
UNSUPERVISED_ARGUMENTS = ("input", "model") + _COMMON
# The snake-case spellings fastText accepts too.
_ALIASES = {"min_count": "minCount", "word_ngrams": "wordNgrams", "lr_update_rate": "lrUpdateRate",
            "label_prefix": "label", "pretrained_vectors": "pretrainedVectors"}


def _arguments(positional: tuple, keywords: dict, names: tuple, defaults: dict) -> dict:
    """fastText's reading of a call: TypeError for an unknown or repeated argument, as fastText raises."""
    given = {}
    for name, value in [*zip(names, positional), *keywords.items()]:
        name = _ALIASES.get(name, name)
        if name not in names:
            raise TypeError(f"unexpected keyword argument '{name}'")
        if name in given:
            raise TypeError(f"multiple values for argument '{name}'")
        given[name] = value
    if len(positional) > len(names):
        raise TypeError(f"at most {len(names)} positional arguments, got {len(positional)}")
    if "input" not in given:
        raise TypeError("missing argument 'input' (the training file)")
    return {**defaults, **given}


def _common_settings(a: dict) -> dict:
    """fastemb's settings for what both objectives share; fastText's 0 counts mean 1."""
    return dict(dim=a["dim"], lr=a["lr"], epochs=a["epoch"], min_count=max(1, a["minCount"]), minn=a["minn"],
                maxn=a["maxn"], buckets=a["bucket"], threads=a["thread"], seed=a["seed"])


def train_supervised(*args, **kwargs) -> FastTextModel:
    """fastText's classifier training: ``input`` a file of ``__label__x words ...`` lines."""
    from .. import api
    a = _arguments(args, kwargs, SUPERVISED_ARGUMENTS, SUPERVISED_DEFAULTS)
    if a["autotuneValidationFile"]:
        raise FastembError("autotune (autotuneValidationFile) is not supported by fastemb.fasttext")
    model = api.train_supervised(
        check_path(a["input"], "input"), quiet=a["verbose"] < 2, **_common_settings(a), neg=a["neg"],
        min_count_label=max(1, a["minCountLabel"]), word_ngrams=a["wordNgrams"], loss=a["loss"],
        label_prefix=a["label"], pretrained=a["pretrainedVectors"] or None)
    return FastTextModel.from_trained(model, training=a)


def train_unsupervised(*args, **kwargs) -> FastTextModel:
    """fastText's word vectors: skip-gram or CBOW, with character n-grams (minn..maxn) unless maxn is 0."""
    from .. import api
    a = _arguments(args, kwargs, UNSUPERVISED_ARGUMENTS, UNSUPERVISED_DEFAULTS)
    if a["model"] not in ("skipgram", "cbow"):
        raise FastembError(f"model must be 'skipgram' or 'cbow', got {a['model']!r}")
    scratch = _with_end_tokens(check_path(a["input"], "input"))
    try:
        model = api.train_unsupervised(
            scratch, a["model"], quiet=a["verbose"] < 2, **_common_settings(a), min_lr=0.0, window=a["ws"],
            negative=a["neg"], loss=a["loss"], sample=a["t"], init=a["pretrainedVectors"] or None)
    finally:
        remove_quietly(scratch)
    return FastTextModel.from_trained(model, a["label"], a)


def _with_end_tokens(path: str) -> str:
    """A scratch copy of ``path`` with ``</s>`` before every newline: fastText reads a line's end as that word
    (counted, trained in its contexts, in the vocabulary), a line of its own for the word2vec reader."""
    scratch = scratch_file(tempfile.gettempdir(), "fasttext-input", ".txt")
    marked = b" " + EOS.encode() + b"\n"
    try:
        with open(scratch, "wb") as out, open(path, "rb") as source:
            while block := source.read(1 << 22):
                out.write(block.replace(b"\n", marked))
    except OSError as exc:
        remove_quietly(scratch)
        raise FastembError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except BaseException:
        remove_quietly(scratch)
        raise
    return scratch


def load_model(path: str) -> FastTextModel:
    """A fastText ``.bin`` or ``.ftz``, or a model fastemb saved (``.npz``)."""
    from .. import api
    from ..formats.fasttext import is_fasttext_file, read_fasttext
    path = check_path(path)
    if is_fasttext_file(path):
        return FastTextModel.from_file(read_fasttext(path))
    return FastTextModel.from_trained(api.load_model(path))
