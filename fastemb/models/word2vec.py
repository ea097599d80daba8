"""A trained word2vec or fastText word model: the word vectors users query, and its own ``.npz`` file."""
from __future__ import annotations

import time
from dataclasses import asdict

import numpy as np

from .. import __version__
from ..base.checks import check_path, check_text
from ..base.config import Word2VecConfig, check_targets
from ..base.errors import FastembError
from ..text.vocab import Vocab
from .tables import table_rows

WORD2VEC_MAGIC = "fastemb-word2vec-model"
WORD2VEC_FORMAT_VERSION = 1


class Word2VecModel:
    """The trained tables: input rows are the word vectors, output rows the context side (or Huffman nodes)."""

    def __init__(self, vocab: Vocab, input_rows: np.ndarray, output_rows: np.ndarray,
                 config: Word2VecConfig, report: dict):
        self.vocab = vocab
        self.input_rows = input_rows
        self.output_rows = output_rows
        self.config = config
        self.report = report
        self._index = None

    @property
    def words(self) -> list[str]:
        return list(self.vocab.words)

    def word_vectors(self) -> np.ndarray:
        """A vector per vocabulary word: its input row, or with subwords the mean of its own and its
        character n-grams' rows (fastText's getWordVector)."""
        if not self.config.subwords:
            return self.input_rows[:len(self.vocab)]
        from ..kernels.subwords import mean_rows
        from ..text.subwords import vocabulary_subword_rows
        rows, offsets = vocabulary_subword_rows(self.vocab.words, self.config.subword_settings)
        out = np.empty((len(self.vocab), self.config.dim), np.float32)
        mean_rows(self.input_rows, rows, offsets, out)
        return out

    @property
    def vectors(self):
        """The word vectors as :class:`vectors.Vectors`: most_similar, similarity, ..."""
        from .vectors import Vectors
        return Vectors(list(self.vocab.words), self.word_vectors())

    def get_word_vector(self, word: str) -> np.ndarray:
        """The vector of any word with subwords (an unseen word: the mean of its n-gram rows, zeros if it has
        none, as fastText); without, of a vocabulary word (KeyError for any other)."""
        check_text(word, "word")
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.vocab.words)}
        known = self._index.get(word, -1)
        if not self.config.subwords:
            if known < 0:
                raise KeyError(f"{word!r} is not in the vocabulary ({len(self.vocab):,} words)")
            return self.input_rows[known]
        from ..text.subwords import word_subword_rows
        rows = word_subword_rows(word, self.config.subword_settings, len(self.vocab), known)
        return self.input_rows[rows].mean(axis=0) if len(rows) else np.zeros(self.config.dim, np.float32)

    def save_vectors(self, path: str, binary: bool = False) -> float:
        """Write the word vectors in word2vec's text (or binary) format; returns seconds spent."""
        from .vectors import save_vectors
        started = time.perf_counter()
        save_vectors(path, self.vocab.words, self.word_vectors(), binary=binary)
        self.report["save_seconds"] = time.perf_counter() - started
        return self.report["save_seconds"]

    def save(self, path: str) -> None:
        """Write the whole model (both tables, the vocabulary with its counts, the settings) to exactly
        ``path``, an .npz archive of arrays only, atomically: ``fastemb.load_model`` reads it back."""
        import json
        path = check_path(path)

        from ..base.fileio import atomic_output
        arrays = {"magic": np.array(WORD2VEC_MAGIC), "format_version": np.array(WORD2VEC_FORMAT_VERSION),
                  "fastemb_version": np.array(__version__), "config": np.array(json.dumps(asdict(self.config))),
                  "words": np.array("\n".join(self.vocab.words)), "counts": np.asarray(self.vocab.counts, np.int64),
                  "input_rows": self.input_rows, "output_rows": self.output_rows}
        with atomic_output(path, "wb") as handle:
            np.savez(handle, **arrays)


def load_word2vec_model(path: str) -> Word2VecModel:
    """A model written by :meth:`Word2VecModel.save`, every field checked before it is used (never unpickled)."""
    from ..formats.archive import Archive, Field, as_counts, as_float32_rows, config_from_dict
    fields = {"magic": Field("U", 0, max_bytes=1024), "format_version": Field("iu", 0),
              "config": Field("U", 0, max_bytes=1 << 20), "words": Field("U", 0), "counts": Field("iu", 1),
              "input_rows": Field("f", 2), "output_rows": Field("f", 2)}
    with Archive(path, "a fastemb word2vec model") as archive:
        if "magic" not in archive or archive.read_text("magic", fields["magic"]) != WORD2VEC_MAGIC:
            raise FastembError(f"{path}: not a fastemb word2vec model (no fastemb marker)")
        version = archive.read_scalar_int("format_version", fields["format_version"])
        if version != WORD2VEC_FORMAT_VERSION:
            raise FastembError(f"{path}: model format version {version} is not supported by fastemb "
                               f"{__version__} (it reads version {WORD2VEC_FORMAT_VERSION})")
        archive.check(fields)  # every member's header before any data is read
        config = config_from_dict(Word2VecConfig, archive.read_json("config", fields["config"]),
                                  f"{path}: field config", ignore_unknown=True, unbounded=("max_memory",))
        words = archive.read_lines("words", fields["words"])
        if not words:
            archive.fail("words", "no words")
        check_targets(config, len(words), f"{path}: field words")
        counts = as_counts(archive.read("counts", fields["counts"], (len(words),)),
                           lambda problem: archive.fail("counts", problem))
        shapes = dict(zip(("input_rows", "output_rows"), table_rows(len(words), config)))
        inputs, outputs = (as_float32_rows(archive.read(name, fields[name], (rows, config.dim)),
                                           lambda problem, name=name: archive.fail(name, problem))
                           for name, rows in shapes.items())
    return Word2VecModel(Vocab(words, counts), inputs, outputs, config, {})
