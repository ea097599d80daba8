"""A trained fastText-style classifier: predict, test, its word vectors, and its own ``.npz`` file."""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Iterable, Iterator

import numpy as np

from .. import __version__
from ..base.checks import check_path, check_text, check_texts, check_type
from ..base.config import SupervisedConfig, check_targets
from ..base.errors import FastembError
from ..base.fileio import atomic_output
from ..base.limits import check_fits_in_memory
from ..formats.archive import Archive, Field, as_counts, as_float32_rows, config_from_dict
from ..text.labelled import Examples, TokenStream, _encode, _TokenTable, lines_stream, read_line_batches
from .metrics import TestResult, score_predictions
from .tables import rows_after, supervised_table_rows

MODEL_MAGIC = "fastemb-supervised-model"
FORMAT_VERSION = 2         # 2: only the n-gram bucket rows that training touched are stored (see SupervisedModel.save)
SUPPORTED_FORMATS = (1, 2)


def label_paths(label_counts: np.ndarray, loss: str) -> tuple:
    """The Huffman paths over the label counts (fastText's tree) for hs; empty for the other losses."""
    if loss == "hs" and len(label_counts) >= 2:
        from ..kernels.huffman import huffman_paths
        return tuple(huffman_paths(np.asarray(label_counts, dtype=np.int64)))
    return np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros(1, np.int64)


class SupervisedModel:
    """Input rows (words, then n-gram buckets), output rows (labels), the vocabularies and the config."""

    def __init__(self, words: list[str], labels: list[str], input_rows: np.ndarray, output_rows: np.ndarray,
                 config: SupervisedConfig, word_counts: np.ndarray | None = None,
                 label_counts: np.ndarray | None = None, report: dict | None = None):
        self.words = list(words)
        self.labels = list(labels)
        self.input_rows = input_rows
        self.output_rows = output_rows
        self.config = config
        self.word_counts = np.zeros(len(words), np.int64) if word_counts is None else word_counts
        self.label_counts = np.zeros(len(labels), np.int64) if label_counts is None else label_counts
        self.report = report if report is not None else {}
        # Bucket ids some training example used (None: unknown, found at save by comparing with the initial rows).
        self.trained_buckets: np.ndarray | None = None
        self.word_index = {w: i for i, w in enumerate(self.words)}
        self.label_index = {label: i for i, label in enumerate(self.labels)}
        self.paths = label_paths(self.label_counts, config.loss)

    @property
    def dim(self) -> int:
        return self.output_rows.shape[1]

    @property
    def vectors(self):
        """The learned word vectors (word rows only, n-gram buckets left out)."""
        from .vectors import Vectors
        return Vectors(self.words, self.input_rows[:len(self.words)])

    def get_word_vector(self, word: str) -> np.ndarray:
        """The row of a vocabulary word (KeyError for any other); with character n-grams the mean of its
        subword rows, of any word (fastText's getWordVector)."""
        check_text(word, "word")
        if self.config.maxn > 0:
            from ..text.subwords import word_subword_rows
            rows = word_subword_rows(word, self.config.subword_settings, len(self.words),
                                     self.word_index.get(word, -1))
            return self.input_rows[rows].mean(axis=0) if len(rows) else np.zeros(self.dim, np.float32)
        if word not in self.word_index:
            raise KeyError(f"{word!r} is not in the vocabulary ({len(self.words):,} words)")
        return self.input_rows[self.word_index[word]]

    def save_vectors(self, path: str, binary: bool = False) -> None:
        from .vectors import save_vectors
        save_vectors(path, self.words, self.input_rows[:len(self.words)], binary=binary)

    # -- encoding and scoring ------------------------------------------------------------------

    def encode(self, stream: TokenStream) -> Examples:
        """Every line of ``stream`` (blank ones too) encoded with this model's vocabularies."""
        from ..kernels.labelled import NOT_A_WORD
        types = stream.types
        is_label = stream.label_types(self.config.label_prefix)
        token_word = np.array([NOT_A_WORD if label else self.word_index.get(t, -1)
                               for t, label in zip(types, is_label)], dtype=np.int32)
        token_label = np.array([self.label_index.get(t, -1) for t in types], dtype=np.int32)
        return _encode(stream, token_word, token_label, self.config, len(self.words))

    def probabilities(self, examples: Examples) -> np.ndarray:
        """(examples, labels) float32: the forward pass of the model's loss (losses.label_probabilities)."""
        from ..kernels.losses import LOSSES
        from ..kernels.update import predict
        probabilities = np.empty((len(examples), len(self.labels)), dtype=np.float32)
        predict(LOSSES[self.config.loss], self.input_rows, examples.rows, examples.row_offsets, self.output_rows,
                self.paths, probabilities)
        return probabilities

    def top_labels(self, examples: Examples, k: int = 1, threshold: float = 0.0) -> list[tuple[np.ndarray, np.ndarray]]:
        """(label ids, probabilities) per example, best first: at most k (-1: all) with p >= threshold.

        An example with no input row gets nothing, as fastText: with the end token ``</s>``
        (a word of the model) every line has one, so a line of unknown words, or a blank
        line, is predicted from ``</s>`` (and its n-grams) alone, as the fastText CLI does.
        """
        if k == 0 or k < -1:
            raise FastembError(f"-k must be a positive number of labels (or -1 for all), got {k}")
        if len(examples) == 0:
            return []
        k = len(self.labels) if k == -1 else min(k, len(self.labels))
        probs = self.probabilities(examples)
        order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
        best = np.take_along_axis(probs, order, axis=1)
        empty = examples.n_rows == 0
        out = []
        for e in range(len(examples)):
            if empty[e]:
                out.append((order[e, :0], best[e, :0]))
                continue
            keep = best[e] >= threshold
            out.append((order[e][keep], best[e][keep]))
        return out

    # -- the public API ------------------------------------------------------------------------

    def predict(self, texts: str | Iterable[str], k: int = 1, threshold: float = 0.0):
        """Top-k labels of each text: a (labels, probs) pair for one str, a list of pairs for several."""
        _check_k_threshold(k, threshold)
        single = isinstance(texts, str)
        stream = lines_stream([check_text(texts, "texts")] if single else check_texts(texts, "texts"), self.config.eos)
        found = [(tuple(self.labels[i] for i in ids), probs)
                 for ids, probs in self.top_labels(self.encode(stream), k, threshold)]
        return found[0] if single else found

    def predict_file(self, path: str, k: int = 1, threshold: float = 0.0) -> Iterator[tuple[tuple, np.ndarray]]:
        """(labels, probs) for every line of ``path`` ('-' = stdin), blank lines included."""
        path = check_path(path)
        _check_k_threshold(k, threshold)
        return self._predict_lines(path, k, threshold)

    def _predict_lines(self, path: str, k: int, threshold: float) -> Iterator[tuple[tuple, np.ndarray]]:
        for batch in read_line_batches(path):
            table = _TokenTable()
            table.add_bytes(b"".join(batch))
            for ids, probs in self.top_labels(self.encode(table.stream(self.config.eos)), k, threshold):
                yield tuple(self.labels[i] for i in ids), probs

    def evaluate(self, path: str, k: int = 1, threshold: float = 0.0) -> TestResult:
        """fastText's ``test``: lines with a known label and an input row (a known word or </s>) are scored."""
        path = check_path(path)
        _check_k_threshold(k, threshold)
        result = score_predictions([], [], self.labels, k)
        for batch in read_line_batches(path):
            table = _TokenTable()
            table.add_bytes(b"".join(batch))
            stream = table.stream(self.config.eos)
            examples = self.encode(stream)
            non_blank = stream.non_blank
            result.unknown_label_lines += int((examples.unknown_labels > 0).sum())
            scored = (examples.n_labels > 0) & (examples.n_rows > 0)
            result.skipped_lines += int((non_blank & ~scored).sum())
            examples = examples.select(scored)
            predictions = self.top_labels(examples, k, threshold)
            gold = np.split(examples.labels, examples.label_offsets[1:-1]) if len(examples) else []
            part = score_predictions(gold, [ids for ids, _ in predictions], self.labels, k)
            for name in ("examples", "gold", "predicted", "correct"):
                setattr(result, name, getattr(result, name) + getattr(part, name))
            for name in ("label_gold", "label_predicted", "label_correct"):
                getattr(result, name)[:] += getattr(part, name)
        return result

    def test(self, path: str, k: int = 1, threshold: float = 0.0) -> tuple[int, float, float]:
        """(N, precision at k, recall at k), as fastText's ``test`` and its Python ``model.test``."""
        result = self.evaluate(path, k, threshold)
        return result.examples, result.precision, result.recall

    @classmethod
    def from_fasttext(cls, model):
        """The classifier of a fastText ``.bin`` (a formats.fasttext.FastTextModelFile): word rows, word n-gram
        buckets, labels.

        Input rows stay memory-mapped; hs output rows are converted to fastemb's numbering
        (reversed, negated).
        """
        from ..formats.fasttext import hs_rows_to_fastemb, model_word
        where = model.path or "fastText model"
        if not model.supervised:
            raise FastembError(f"{where}: a fastText {model_word(model.args['model'])} model (word vectors), "
                               "not a classifier")
        if not model.labels:
            raise FastembError(f"{where}: a fastText classifier without labels")
        config = model.config()
        input_rows = np.asarray(model.input_rows)[:model.n_words + config.n_buckets]
        output_rows = np.asarray(model.output_rows)
        if config.loss == "hs":
            output_rows = hs_rows_to_fastemb(output_rows, len(model.labels))
        return cls(list(model.words), model.labels, input_rows, output_rows, config,
                   np.asarray(model.word_counts), np.asarray(model.label_counts))

    def save(self, path: str) -> float:
        """Write the model to exactly ``path`` (an .npz archive), atomically; returns seconds spent.

        Of the n-gram bucket rows, only those some training example used are stored: the
        others never left their initial values, which :func:`load_model` regenerates from
        the seed (a 2 M-bucket model trained on a few thousand lines keeps a few
        thousand rows). A few untouched rows are stored too, so that loading can check
        the regenerated values bit for bit.
        """
        path = check_path(path)
        started = time.perf_counter()
        n_words = len(self.words)
        stored = self.stored_bucket_ids()
        sample = _untouched_sample(stored, len(self.input_rows) - n_words)
        arrays = {
            "magic": np.array(MODEL_MAGIC),
            "format_version": np.array(FORMAT_VERSION, dtype=np.int64),
            "fastemb_version": np.array(__version__),
            "config": np.array(json.dumps(asdict(self.config))),
            # One newline-joined unicode string each (tokens never hold whitespace): a 1-D '<U' array
            # pads every entry to the longest one, which one stray 10 kB token makes gigabytes.
            "words": np.array("\n".join(self.words)),
            "labels": np.array("\n".join(self.labels)),
            "word_counts": np.asarray(self.word_counts, dtype=np.int64),
            "label_counts": np.asarray(self.label_counts, dtype=np.int64),
            "input_rows": self.input_rows[:n_words],
            "output_rows": self.output_rows,
            "bucket_ids": stored,
            "bucket_rows": self.input_rows[n_words + stored],
            "initial_sample_ids": sample,
            "initial_sample_rows": self.input_rows[n_words + sample],
        }
        with atomic_output(path, "wb") as handle:
            np.savez(handle, **arrays)
        seconds = time.perf_counter() - started
        self.report["save_seconds"] = self.report.get("save_seconds", 0.0) + seconds
        return seconds

    def stored_bucket_ids(self) -> np.ndarray:
        """Sorted int64 ids of the bucket rows a saved model must hold: those training used, or (when that
        is not known) those that differ, bit for bit, from their initial values."""
        n_words, n_buckets = len(self.words), len(self.input_rows) - len(self.words)
        if self.trained_buckets is not None or n_buckets == 0:
            ids = np.zeros(0, np.int64) if self.trained_buckets is None else self.trained_buckets
            return np.unique(np.asarray(ids, dtype=np.int64))
        initial = initial_rows(n_words, self.config, None, self.words)[0]
        rows = np.ascontiguousarray(self.input_rows, dtype=np.float32)
        changed = [np.flatnonzero((rows[start:start + 65536].view(np.uint32)
                                   != initial[start:start + 65536].view(np.uint32)).any(axis=1)) + start - n_words
                   for start in range(n_words, len(rows), 65536)]
        return np.concatenate(changed).astype(np.int64)


def _check_k_threshold(k, threshold) -> None:
    check_type(k, "int", "k")
    check_type(threshold, "float", "threshold")


def _untouched_sample(stored: np.ndarray, n_buckets: int, size: int = 16) -> np.ndarray:
    """Up to ``size`` bucket ids not in ``stored``, spread over the table."""
    untouched = np.ones(n_buckets, dtype=bool)
    untouched[stored] = False
    ids = np.flatnonzero(untouched)
    if len(ids) <= size:
        return ids.astype(np.int64)
    return ids[np.linspace(0, len(ids) - 1, size).astype(np.int64)].astype(np.int64)


# What each member of a model file must hold (see SupervisedModel.save); format 1 stored every bucket row.
_TEXT = Field("U", 0)
_MODEL_FIELDS = {
    "magic": Field("U", 0, max_bytes=1024),
    "format_version": Field("iu", 0),
    "config": Field("U", 0, max_bytes=1 << 20),
    "words": _TEXT,
    "labels": _TEXT,
    "word_counts": Field("iu", 1),
    "label_counts": Field("iu", 1),
    "input_rows": Field("f", 2),
    "output_rows": Field("f", 2),
}
_COMPACT_FIELDS = {
    "bucket_ids": Field("iu", 1),
    "bucket_rows": Field("f", 2),
    "initial_sample_ids": Field("iu", 1),
    "initial_sample_rows": Field("f", 2),
}


def load_model(path: str) -> SupervisedModel:
    """Read a model written by :meth:`SupervisedModel.save` (no pickle involved).

    Every field is checked before it is used: the settings (as SupervisedConfig
    validates them), vocabularies and counts of one length, rows of the shapes
    those imply, finite values, bucket ids in range.
    """
    with Archive(path, "a fastemb supervised model") as archive:
        if "magic" not in archive:
            raise FastembError(f"{path}: not a fastemb supervised model (no fastemb marker)")
        if archive.read_text("magic", _MODEL_FIELDS["magic"]) != MODEL_MAGIC:
            raise FastembError(f"{path}: not a fastemb supervised model (wrong marker)")
        version = archive.read_scalar_int("format_version", _MODEL_FIELDS["format_version"])
        if version not in SUPPORTED_FORMATS:
            raise FastembError(f"{path}: model format version {version} is not supported by fastemb "
                               f"{__version__} (it reads version {', '.join(map(str, SUPPORTED_FORMATS))})")
        archive.check({**_MODEL_FIELDS, **(_COMPACT_FIELDS if version >= 2 else {})})  # before any data is read
        stored = archive.read_json("config", _MODEL_FIELDS["config"])
        if isinstance(stored, dict):
            stored.setdefault("eos", False)  # a format-1 config without "eos" was trained without the end token
        # A resumed run that kept its data in memory records max_memory as infinite.
        config = config_from_dict(SupervisedConfig, stored, f"{path}: field config", ignore_unknown=True,
                                  unbounded=("max_memory",))
        words = archive.read_lines("words", _TEXT)
        labels = archive.read_lines("labels", _TEXT)
        if not labels:
            archive.fail("labels", "no labels: the model cannot predict anything")
        check_targets(config, len(labels), f"{path}: field labels")
        if not all(label.startswith(config.label_prefix) for label in labels):
            archive.fail("labels", f"a label does not start with the label prefix {config.label_prefix!r}")
        counts = [as_counts(archive.read(name, _MODEL_FIELDS[name], (n,)),
                            lambda problem, name=name: archive.fail(name, problem))
                  for name, n in (("word_counts", len(words)), ("label_counts", len(labels)))]
        n_inputs, n_outputs = supervised_table_rows(len(words), len(labels), config)
        output_rows = _float_rows(archive, "output_rows", (n_outputs, config.dim))
        if version == 1:
            input_rows = _float_rows(archive, "input_rows", (n_inputs, config.dim))
            trained = None
        else:
            input_rows, trained = _compact_input_rows(archive, config, words)
    model = SupervisedModel(words, labels, input_rows, output_rows, config, *counts)
    model.trained_buckets = trained
    return model


def _float_rows(archive: Archive, name: str, shape: tuple[int | None, ...]) -> np.ndarray:
    return as_float32_rows(archive.read(name, Field("f", 2), shape), lambda problem: archive.fail(name, problem))


def _bucket_ids(archive: Archive, name: str, n_buckets: int) -> np.ndarray:
    """Strictly increasing bucket ids in 0..n_buckets-1: every index the loader writes through is checked."""
    ids = archive.read(name, Field("iu", 1))
    if len(ids) and (int(ids.min()) < 0 or int(ids.max()) >= n_buckets):
        archive.fail(name, f"a bucket id is outside 0..{n_buckets - 1} (the model has {n_buckets:,} buckets)")
    ids = ids.astype(np.int64)
    if len(ids) > 1 and not (np.diff(ids) > 0).all():
        archive.fail(name, "bucket ids are not strictly increasing")
    return ids


def _compact_input_rows(archive: Archive, config: SupervisedConfig, words: list[str]):
    """Word rows and the stored bucket rows over the regenerated initial table; (rows, stored bucket ids)."""
    n_words, n_buckets, dim = len(words), config.n_buckets, config.dim
    word_rows = _float_rows(archive, "input_rows", (n_words, dim))
    ids = _bucket_ids(archive, "bucket_ids", n_buckets)
    bucket_rows = _float_rows(archive, "bucket_rows", (len(ids), dim))
    sample = _bucket_ids(archive, "initial_sample_ids", n_buckets)
    sample_rows = _float_rows(archive, "initial_sample_rows", (len(sample), dim))
    if n_buckets == 0:
        return word_rows, ids
    check_fits_in_memory((n_words + n_buckets) * dim * 4, f"{archive.path}: field config",
                         f"the input rows of {n_words:,} words and {n_buckets:,} buckets of dimension {dim}")
    input_rows = initial_rows(n_words, config, None, words)[0]
    if not np.array_equal(input_rows[n_words + sample].view(np.uint32), sample_rows.view(np.uint32)):
        archive.fail("initial_sample_rows", "the bucket rows regenerated from the seed differ from the stored "
                                            "sample: the model was written by a fastemb that initialises rows "
                                            "differently, and cannot be rebuilt exactly")
    input_rows[:n_words] = word_rows
    input_rows[n_words + ids] = bucket_rows
    return input_rows, ids


def initial_rows(n_words: int, config: SupervisedConfig, vectors, words: list[str], private: int = 0):
    """Input rows uniform(-1/dim, 1/dim), output rows zero (fastText); pretrained rows copied in.
    ``private``: room in front of the rows for the trainer's hot-row copies (see models/tables.rows_after)."""
    from ..kernels.sampling import fill_uniform
    input_rows = rows_after(private, n_words + config.n_buckets, config.dim)
    fill_uniform(input_rows, -1.0 / config.dim, 1.0 / config.dim, config.seed)
    frozen = np.zeros(len(input_rows), dtype=np.uint8)
    initialised = 0
    if vectors is not None:
        for i, word in enumerate(words):
            j = vectors.index.get(word)
            if j is not None:
                input_rows[i] = vectors.matrix[j]
                frozen[i] = config.freeze
                initialised += 1
    return input_rows, frozen, initialised
