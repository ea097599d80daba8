"""fastText's Python module on fastemb's kernels: ``import fastemb.fasttext as fasttext`` and code written for
fastText's ``fasttext`` package runs unchanged.

    model = fasttext.train_supervised(input="train.txt", epoch=25, wordNgrams=2)
    model.predict("which baking dish is best", k=3)
    model.save_model("model.bin")        # a file fastText loads

Keywords, their defaults, return types and errors are fastText's (its Python module, 0.9); fastemb's own
API (fastemb.train_supervised, ...) keeps fastemb's names and defaults.
"""
from __future__ import annotations

from ..text.labelled import read_words
from ..text.vocab import EOS
from . import util
from .model import FastTextModel
from .training import load_model, train_supervised, train_unsupervised

BOW = "<"   # how fastText wraps a word before cutting its character n-grams
EOW = ">"


def tokenize(text: str) -> list[str]:
    """fastText's tokens of ``text``: split at whitespace, ``</s>`` at each newline."""
    from ..base.checks import check_text
    return read_words(check_text(text, "text"))


__all__ = ["BOW", "EOS", "EOW", "FastTextModel", "load_model", "tokenize", "train_supervised",
           "train_unsupervised", "util"]
