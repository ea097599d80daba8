"""The fastText-style supervised classifier: read labelled lines, train, test, predict, save.

Data flows one way: lines -> token ids -> (word, label) vocabularies -> examples
(flat int32 input rows + labels, encoded once) -> kernel -> model file.

Input format (fastText's): one example per line, tokens separated by ASCII
whitespace (and NUL), as fastText splits them; a token that starts with
``label_prefix`` is a label, anywhere in the line, several allowed. As fastText's
Dictionary, every line ends with the end-of-line token ``</s>``, a word like any
other: it has its own input row (and a place in ``--vectors``), takes part in
word n-grams, and lets a line of unknown words still predict (``eos=False``,
``--no-eos``, leaves it out). An example's input rows are its known words
(``</s>`` last) followed by its hashed word n-grams (``word_ngrams`` > 1), in
fastText's order and with fastText's hash, so the same n-gram lands in the same
bucket as in fastText.

Training input is read by the Numba tokeniser of ``corpus.scan``; the Python
reader (stdin, prediction, and the rare file scan cannot represent exactly)
splits and decodes tokens the same way.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import sys
import time
from array import array
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Iterable, Iterator, Sequence

import numpy as np

from . import __version__
from .archive import Archive, Field, as_counts, as_float32_rows, check_fits_in_memory, config_from_dict
from .corpus import first_spellings
from .errors import FastembError
from .fileio import atomic_output, open_binary
from .progress import Progress
from .vocab import Vocab

CHUNK_WORDS = 2048         # words per unit of work handed to a thread (also one random stream)
READ_HINT_BYTES = 1 << 22  # the Python reader reads and encodes lines in batches of about this many bytes
EOS = "</s>"               # fastText's end-of-line token, appended to every line (SupervisedConfig.eos)
MODEL_MAGIC = "fastemb-supervised-model"
FORMAT_VERSION = 2         # 2: only the n-gram bucket rows that training touched are stored (see SupervisedModel.save)
SUPPORTED_FORMATS = (1, 2)


@dataclass
class SupervisedConfig:
    dim: int = 100
    lr: float = 0.1
    epochs: int = 5
    min_count: int = 1
    min_count_label: int = 1
    word_ngrams: int = 1
    buckets: int = 2_000_000
    loss: str = "softmax"
    neg: int = 5
    label_prefix: str = "__label__"
    eos: bool = True           # end every line with the token </s>, as fastText does
    pretrained: str | None = None
    freeze: bool = False
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    seed: int = 1

    def validate(self) -> None:
        from .supervised_kernel import LOSSES
        for name in ("dim", "epochs", "threads", "min_count", "min_count_label", "neg"):
            if getattr(self, name) <= 0:
                raise FastembError(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(self, name)}")
        if self.word_ngrams < 1:
            raise FastembError(f"--word-ngrams must be >= 1, got {self.word_ngrams}")
        if self.word_ngrams > 1 and self.buckets <= 0:
            raise FastembError(f"--buckets must be a positive integer with --word-ngrams > 1, got {self.buckets}")
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise FastembError(f"--lr must be > 0, got {self.lr}")
        if self.loss not in LOSSES:
            raise FastembError(f"--loss must be one of {', '.join(LOSSES)}, got {self.loss!r}")
        if not self.label_prefix:
            raise FastembError("--label-prefix must not be empty")
        if self.freeze and not self.pretrained:
            raise FastembError("--freeze needs --pretrained VECTORS (it keeps the pretrained rows fixed)")
        if self.seed < 0:
            raise FastembError(f"--seed must be >= 0, got {self.seed}")

    @property
    def n_buckets(self) -> int:
        """Extra input rows for word n-grams: none unless word_ngrams > 1, as in fastText."""
        return self.buckets if self.word_ngrams > 1 else 0


# ---------------------------------------------------------------------------------------------
# Reading lines into token ids


@dataclass
class TokenStream:
    """Lines as token-type ids: what the encoder consumes.

    With the end-of-line token on, every line (a blank one too) ends with one EOS
    token, as fastText's Dictionary reads it; a literal ``</s>`` in the text is the
    same token type.
    """

    types: list[str]            # type id -> token, distinct strings
    tokens: np.ndarray          # int32 type id of every token, line after line
    line_offsets: np.ndarray    # int64 line boundaries into tokens, len lines + 1
    eos_type: int = -1          # the type id of EOS; -1 when no end token is appended

    @property
    def non_blank(self) -> np.ndarray:
        """Lines with a token of their own (the appended end token does not count)."""
        return np.diff(self.line_offsets) > (self.eos_type >= 0)

    def without_blank_lines(self) -> "TokenStream":
        blank = ~self.non_blank
        if not blank.any():
            return self
        lengths = np.diff(self.line_offsets)
        tokens = self.tokens[~np.repeat(blank, lengths)]
        offsets = np.concatenate(([0], np.cumsum(lengths[~blank]))).astype(np.int64)
        return TokenStream(self.types, tokens, offsets, self.eos_type)

    def label_types(self, prefix: str) -> np.ndarray:
        """Per type: is it a label? The end token is always a word."""
        is_label = np.fromiter((t.startswith(prefix) for t in self.types), dtype=bool, count=len(self.types))
        if self.eos_type >= 0:
            is_label[self.eos_type] = False
        return is_label


class _TokenTable:
    """Token byte strings -> ids by first occurrence (C-level dict look-ups), lines as flat id arrays.

    Tokens are split at ASCII whitespace and NUL, the bytes fastText (and ``corpus.scan``)
    split at; a Unicode space such as U+00A0 stays inside its token. A whole batch of
    lines is split at once: each newline becomes a NUL token first (a real NUL is
    blanked beforehand), which keeps the per-token work in C; line ends are recovered
    from the NUL tokens. Token bytes are decoded as UTF-8 with U+FFFD for invalid bytes.
    """

    _LINE_END = b"\x00"

    def __init__(self):
        self.ids_of = defaultdict(itertools.count().__next__)
        self.ids_of[self._LINE_END]  # id 0: the line ends
        self.tokens = array("i")

    def add_bytes(self, data: bytes) -> None:
        """Every line of ``data``; a last line without a newline counts as a line."""
        if not data:
            return
        if not data.endswith(b"\n"):
            data += b"\n"
        self.tokens.extend(map(self.ids_of.__getitem__,
                               data.replace(self._LINE_END, b" ").replace(b"\n", b" \x00 ").split()))

    def add_lines(self, lines: Iterable[str]) -> None:
        """Each item is one line (a newline inside an item is read as a space)."""
        text = "".join(line.replace("\n", " ") + "\n" for line in lines)
        self.add_bytes(text.encode("utf-8", "surrogatepass"))

    def stream(self, eos: bool) -> TokenStream:
        """The lines so far, each ending with the end token ``EOS`` when ``eos``."""
        ids = np.frombuffer(self.tokens, dtype=np.int32) if len(self.tokens) else np.zeros(0, np.int32)
        is_end = ids == 0
        ends = np.flatnonzero(is_end)
        eos_type = -1
        if eos:
            eos_type = self.ids_of[EOS.encode()] - 1
            tokens = np.where(is_end, np.int32(eos_type + 1), ids) - np.int32(1)
            line_offsets = np.concatenate(([0], ends + 1))
        else:
            tokens = ids[~is_end] - np.int32(1)
            line_offsets = np.concatenate(([0], ends - np.arange(len(ends))))
        types = [t.decode("utf-8", "replace") for t in itertools.islice(self.ids_of, 1, None)]
        return _merge_equal_types(types, tokens.astype(np.int32), line_offsets.astype(np.int64), eos_type)


def _merge_equal_types(types: list[str], tokens: np.ndarray, line_offsets: np.ndarray, eos_type: int) -> TokenStream:
    """Distinct byte strings that decode to the same text (invalid UTF-8) become one type, as in scan."""
    if len(set(types)) == len(types):
        return TokenStream(types, tokens, line_offsets, eos_type)
    remap, distinct = first_spellings(types)
    return TokenStream(distinct, remap[tokens], line_offsets, int(remap[eos_type]) if eos_type >= 0 else -1)


def read_line_batches(path: str) -> Iterator[list[bytes]]:
    """Lines of ``path`` ('-' = stdin; .gz/.bz2/.xz ok) as bytes, in batches; one at a time from a terminal.

    Lines end at '\\n' only ('\\r' is whitespace inside a line, as in fastText).
    """
    stdin = path == "-"
    handle = sys.stdin.buffer if stdin else open_binary(path)
    interactive = stdin and sys.stdin.isatty()
    try:
        while True:
            batch = [handle.readline()] if interactive else handle.readlines(READ_HINT_BYTES)
            if not batch or batch == [b""]:
                return
            yield batch
    except (OSError, EOFError, ValueError) as exc:  # corrupt archives raise these mid-read
        raise FastembError(f"{path}: cannot read ({exc})") from None
    finally:
        if not stdin:  # leave sys.stdin usable
            handle.close()


def _scan_lines(path: str, eos: bool) -> TokenStream | None:
    """The non-blank lines of ``path`` read by the Numba tokeniser ``corpus.scan``.

    None when scan's result is not exactly the lines: stdin, a line of more than
    corpus.MAX_SENTENCE tokens (scan cuts it into several sentences, and a cut cannot
    be told from a line end), or a token of more than corpus.MAX_TOKEN_BYTES bytes
    (scan shortens it; prediction would not).
    """
    from .corpus import scan
    from .supervised_kernel import end_lines
    if path == "-":
        return None
    raw = scan(path)
    if raw.truncated or len(raw.offsets) - 1 != raw.lines:
        return None
    types, tokens, offsets = list(raw.words), raw.ids, raw.offsets
    eos_type = -1
    if eos:
        try:
            eos_type = types.index(EOS)  # a literal </s> in the text is the end token
        except ValueError:
            eos_type = len(types)
            types = types + [EOS]
        tokens, offsets = end_lines(tokens, offsets, eos_type)
    return TokenStream(types, tokens.astype(np.int32, copy=False), offsets.astype(np.int64, copy=False), eos_type)


def read_lines(path: str, eos: bool) -> tuple[TokenStream, str]:
    """The non-blank lines of ``path`` as a TokenStream, and which reader read them.

    The Numba tokeniser when it can (``scan``), else the Python reader; both give
    the same types in the same order, so the same model.
    """
    stream = _scan_lines(path, eos)
    if stream is not None:
        return stream, "scan"
    table = _TokenTable()
    for batch in read_line_batches(path):
        table.add_bytes(b"".join(batch))
    return table.stream(eos).without_blank_lines(), "python"


def _token_hashes(types: Sequence[str]) -> np.ndarray:
    """fastText's FNV-1a hash of each token's UTF-8 bytes, sign-extended to uint64 for n-grams."""
    from .supervised_kernel import fnv1a_hashes
    encoded = [t.encode("utf-8", "surrogateescape") for t in types]
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=starts[1:])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
    # fastText keeps word hashes in an int32 vector and reads them back into a uint64: sign extension.
    return fnv1a_hashes(data, starts).view(np.int32).astype(np.int64).view(np.uint64)


@dataclass
class Examples:
    """Encoded lines: what the kernel and the predictor consume."""

    rows: np.ndarray            # int32 input rows of every example (known words, then n-gram buckets)
    row_offsets: np.ndarray     # int64, len examples + 1
    labels: np.ndarray          # int32 gold label ids
    label_offsets: np.ndarray   # int64, len examples + 1
    word_counts: np.ndarray     # int32 known word tokens per example, </s> included (progress, lr decay)
    unknown_labels: np.ndarray  # int32 label tokens per example that the model does not know

    def __len__(self) -> int:
        return len(self.row_offsets) - 1

    @property
    def n_rows(self) -> np.ndarray:
        return np.diff(self.row_offsets)

    @property
    def n_labels(self) -> np.ndarray:
        return np.diff(self.label_offsets)

    def select(self, keep: np.ndarray) -> "Examples":
        """The examples where ``keep`` is true, re-packed."""
        if keep.all():
            return self

        def pack(flat, offsets):
            lengths = np.diff(offsets)
            kept = flat[np.repeat(keep, lengths)]
            return kept, np.concatenate(([0], np.cumsum(lengths[keep]))).astype(np.int64)
        rows, row_offsets = pack(self.rows, self.row_offsets)
        labels, label_offsets = pack(self.labels, self.label_offsets)
        return Examples(rows, row_offsets, labels, label_offsets, self.word_counts[keep].copy(),
                        self.unknown_labels[keep].copy())


def _encode(stream: TokenStream, token_word: np.ndarray, token_label: np.ndarray, config: SupervisedConfig,
            n_words: int) -> Examples:
    from .supervised_kernel import encode_examples
    ngrams = np.array([config.word_ngrams, config.n_buckets, n_words], dtype=np.int64)
    maps = (token_word.astype(np.int32), token_label.astype(np.int32), _token_hashes(stream.types))
    return Examples(*encode_examples(stream.tokens, stream.line_offsets, maps, ngrams))


@dataclass
class TrainingData:
    words: Vocab
    labels: Vocab
    examples: Examples            # only lines with >= 1 input row and >= 1 label
    lines: int                    # non-blank lines read
    skipped_no_label: int         # non-blank lines without a (kept) label
    skipped_no_words: int         # lines with a label but no input row (not even a known </s>)
    reader: str = "scan"          # "scan" (Numba tokeniser) or "python" (the fallback, see read_lines)


def read_training_data(path: str, config: SupervisedConfig) -> TrainingData:
    """Read ``path`` once, build both vocabularies and encode every line."""
    from .supervised_kernel import NOT_A_WORD, count_types
    stream, reader = read_lines(path, config.eos)
    types, eos_type = stream.types, stream.eos_type
    if len(stream.tokens) == 0:
        raise FastembError(f"{path}: the file is empty (no tokens)")
    prefix = config.label_prefix
    is_label = stream.label_types(prefix)
    if not is_label.any():
        raise FastembError(f"{path}: no line has a label (a token starting with {prefix!r}); "
                           "check --label-prefix")
    if is_label.sum() + (eos_type >= 0) == len(types):
        raise FastembError(f"{path}: lines have labels but no words: nothing to learn from")
    counts = count_types(stream.tokens, len(types))
    word_types, label_types = np.flatnonzero(~is_label), np.flatnonzero(is_label)
    if counts[label_types].max() < config.min_count_label:
        raise FastembError(f"no label occurs at least {config.min_count_label} times (--min-count-label); "
                           f"the most frequent occurs {counts[label_types].max()} times")
    words, word_remap = Vocab.build([types[i] for i in word_types], counts[word_types], config.min_count)
    labels, label_remap = Vocab.build([types[i] for i in label_types], counts[label_types],
                                      config.min_count_label)
    token_word = np.full(len(types), NOT_A_WORD, dtype=np.int32)
    token_word[word_types] = word_remap
    token_label = np.full(len(types), -1, dtype=np.int32)
    token_label[label_types] = label_remap
    encoded = _encode(stream, token_word, token_label, config, len(words))
    non_blank = stream.non_blank
    gold, used = encoded.n_labels > 0, encoded.n_rows > 0
    keep = gold & used
    # Every line has the end token's row; a line must also have a word of its own to be worth learning from.
    eos_known = eos_type >= 0 and token_word[eos_type] >= 0
    if not (keep & (encoded.word_counts > eos_known)).any():
        raise FastembError(f"{path}: no line has both a label and a word (kept by --min-count {config.min_count}): "
                           "nothing to learn from")
    return TrainingData(words, labels, encoded.select(keep), int(non_blank.sum()),
                        int((non_blank & ~gold).sum()), int((gold & ~used).sum()), reader)


# ---------------------------------------------------------------------------------------------
# Metrics


@dataclass
class TestResult:
    """fastText's Meter: counts over the examples that have a known label and a known word."""

    k: int
    labels: list[str]
    examples: int = 0
    gold: int = 0                 # gold labels (with repeats, as fastText counts them)
    predicted: int = 0            # labels predicted
    correct: int = 0              # predicted labels that are gold
    label_gold: np.ndarray = None
    label_predicted: np.ndarray = None
    label_correct: np.ndarray = None
    unknown_label_lines: int = 0  # lines with a label never seen in training (those labels are ignored)
    skipped_lines: int = 0        # non-blank lines not scored: no known label or no input row (no known word nor </s>)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else math.nan

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else math.nan

    def per_label(self) -> list[tuple[str, float, float, float]]:
        """(label, precision, recall, F1) for every label of the model; nan where undefined."""
        out = []
        for i, label in enumerate(self.labels):
            p, g, c = self.label_predicted[i], self.label_gold[i], self.label_correct[i]
            out.append((label, c / p if p else math.nan, c / g if g else math.nan,
                        2 * c / (p + g) if p + g else math.nan))
        return out


def score_predictions(gold: Sequence[Sequence[int]], predicted: Sequence[Sequence[int]], labels: list[str],
                      k: int) -> TestResult:
    """Precision and recall at k as fastText's Meter counts them, from label ids per example."""
    n = len(labels)
    result = TestResult(k, labels, label_gold=np.zeros(n, np.int64), label_predicted=np.zeros(n, np.int64),
                        label_correct=np.zeros(n, np.int64))
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold label lists but {len(predicted)} prediction lists")
    for gold_ids, predicted_ids in zip(gold, predicted):
        result.examples += 1
        result.gold += len(gold_ids)
        result.predicted += len(predicted_ids)
        gold_set = set(int(g) for g in gold_ids)
        for label in predicted_ids:
            result.label_predicted[label] += 1
            if int(label) in gold_set:
                result.label_correct[label] += 1
                result.correct += 1
        for label in gold_ids:
            result.label_gold[label] += 1
    return result


def _three_digits(x: float) -> str:
    """C++ ``ostream << setprecision(3)`` (what fastText's test prints)."""
    return "nan" if math.isnan(x) else f"{x:.3g}"


def format_test(result: TestResult, per_label: bool = False) -> str:
    """fastText's ``test`` output; with ``per_label`` its ``test-label`` lines come first."""
    lines = []
    if per_label:
        def metric(name, value):
            return f"{name} : " + (f"{value:.6f}" if math.isfinite(value) else "--------") + "  "
        for label, precision, recall, f1 in result.per_label():
            lines.append(metric("F1-Score", f1) + metric("Precision", precision) + metric("Recall", recall)
                         + " " + label)
    lines += [f"N\t{result.examples}", f"P@{result.k}\t{_three_digits(result.precision)}",
              f"R@{result.k}\t{_three_digits(result.recall)}"]
    return "\n".join(lines)


def format_prediction(labels: Sequence[str], probs: Sequence[float], probabilities: bool) -> str:
    """One line of ``predict`` output, fastText's layout: ``__label__x 0.93 __label__y 0.05``."""
    if probabilities:
        return " ".join(f"{label} {p:.6g}" for label, p in zip(labels, probs))
    return " ".join(labels)


# ---------------------------------------------------------------------------------------------
# The model


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

    @property
    def dim(self) -> int:
        return self.output_rows.shape[1]

    @property
    def vectors(self):
        """The learned word vectors (word rows only, n-gram buckets left out)."""
        from .vectors import Vectors
        return Vectors(self.words, self.input_rows[:len(self.words)])

    def save_vectors(self, path: str, binary: bool = False) -> None:
        from .vectors import save_vectors
        save_vectors(path, self.words, self.input_rows[:len(self.words)], binary=binary)

    # -- encoding and scoring ------------------------------------------------------------------

    def encode(self, stream: TokenStream) -> Examples:
        """Every line of ``stream`` (blank ones too) encoded with this model's vocabularies."""
        from .supervised_kernel import NOT_A_WORD
        types = stream.types
        is_label = stream.label_types(self.config.label_prefix)
        token_word = np.array([NOT_A_WORD if label else self.word_index.get(t, -1)
                               for t, label in zip(types, is_label)], dtype=np.int32)
        token_label = np.array([self.label_index.get(t, -1) for t in types], dtype=np.int32)
        return _encode(stream, token_word, token_label, self.config, len(self.words))

    def probabilities(self, examples: Examples) -> np.ndarray:
        """(examples, labels) float32: softmax for --loss softmax, a sigmoid per label for ns/ova."""
        from .supervised_kernel import mean_hidden
        hidden = np.empty((len(examples), self.dim), dtype=np.float32)
        mean_hidden(self.input_rows, examples.rows, examples.row_offsets, hidden)
        logits = hidden @ self.output_rows.T
        if self.config.loss == "softmax":
            logits -= logits.max(axis=1, keepdims=True)
            np.exp(logits, out=logits)
            logits /= logits.sum(axis=1, keepdims=True)
            return logits
        return (1.0 / (1.0 + np.exp(-logits.astype(np.float64)))).astype(np.float32)

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
        single = isinstance(texts, str)
        table = _TokenTable()
        table.add_lines([texts] if single else texts)
        found = [(tuple(self.labels[i] for i in ids), probs)
                 for ids, probs in self.top_labels(self.encode(table.stream(self.config.eos)), k, threshold)]
        return found[0] if single else found

    def predict_file(self, path: str, k: int = 1, threshold: float = 0.0) -> Iterator[tuple[tuple, np.ndarray]]:
        """(labels, probs) for every line of ``path`` ('-' = stdin), blank lines included."""
        for batch in read_line_batches(path):
            table = _TokenTable()
            table.add_bytes(b"".join(batch))
            for ids, probs in self.top_labels(self.encode(table.stream(self.config.eos)), k, threshold):
                yield tuple(self.labels[i] for i in ids), probs

    def evaluate(self, path: str, k: int = 1, threshold: float = 0.0) -> TestResult:
        """fastText's ``test``: lines with a known label and an input row (a known word or </s>) are scored."""
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

    def save(self, path: str) -> float:
        """Write the model to exactly ``path`` (an .npz archive), atomically; returns seconds spent.

        Of the n-gram bucket rows, only those some training example used are stored: the
        others never left their initial values, which :func:`load_model` regenerates from
        the seed (a 2 M-bucket model trained on a few thousand lines keeps a few
        thousand rows). A few untouched rows are stored too, so that loading can check
        the regenerated values bit for bit.
        """
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
        initial = _initial_rows(n_words, self.config, None, self.words)[0]
        rows = np.ascontiguousarray(self.input_rows, dtype=np.float32)
        changed = [np.flatnonzero((rows[start:start + 65536].view(np.uint32)
                                   != initial[start:start + 65536].view(np.uint32)).any(axis=1)) + start - n_words
                   for start in range(n_words, len(rows), 65536)]
        return np.concatenate(changed).astype(np.int64)


def trained_bucket_ids(examples: Examples, n_words: int, n_buckets: int) -> np.ndarray:
    """Sorted ids of the n-gram buckets that some example uses (input rows past the word rows)."""
    used = np.zeros(n_buckets, dtype=bool)
    for start in range(0, len(examples.rows), 1 << 24):  # bounded temporaries on a large corpus
        block = examples.rows[start:start + (1 << 24)]
        used[block[block >= n_words] - n_words] = True
    return np.flatnonzero(used).astype(np.int64)


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
            stored.setdefault("eos", False)  # models written before the end token existed were trained without it
        config = config_from_dict(SupervisedConfig, stored, f"{path}: field config", ignore_unknown=True)
        words = archive.read_lines("words", _TEXT)
        labels = archive.read_lines("labels", _TEXT)
        if not labels:
            archive.fail("labels", "no labels: the model cannot predict anything")
        if not all(label.startswith(config.label_prefix) for label in labels):
            archive.fail("labels", f"a label does not start with the label prefix {config.label_prefix!r}")
        counts = [as_counts(archive.read(name, _MODEL_FIELDS[name], (n,)),
                            lambda problem, name=name: archive.fail(name, problem))
                  for name, n in (("word_counts", len(words)), ("label_counts", len(labels)))]
        output_rows = _float_rows(archive, "output_rows", (len(labels), config.dim))
        n_words, n_buckets = len(words), config.n_buckets
        if version == 1:
            input_rows = _float_rows(archive, "input_rows", (n_words + n_buckets, config.dim))
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
    input_rows = _initial_rows(n_words, config, None, words)[0]
    if not np.array_equal(input_rows[n_words + sample].view(np.uint32), sample_rows.view(np.uint32)):
        archive.fail("initial_sample_rows", "the bucket rows regenerated from the seed differ from the stored "
                                            "sample: the model was written by a fastemb that initialises rows "
                                            "differently, and cannot be rebuilt exactly")
    input_rows[:n_words] = word_rows
    input_rows[n_words + ids] = bucket_rows
    return input_rows, ids


# ---------------------------------------------------------------------------------------------
# Training


def _new_state(threads: int):
    from .supervised_kernel import STRIDE
    return (np.zeros(threads * STRIDE, np.int64), np.zeros(threads * STRIDE, np.float64), np.zeros(1, np.int64))


def _kernel_inputs(model, examples: Examples, chunk_starts, samplers, config: SupervisedConfig, epoch: int,
                   words_before: float, total_words: float, state):
    from .supervised_kernel import LOSSES
    max_rows = int(examples.n_rows.max()) if len(examples) else 1
    max_labels = int(examples.n_labels.max()) if len(examples) else 1
    return (model,
            (examples.rows, examples.row_offsets, examples.labels, examples.label_offsets,
             examples.word_counts, chunk_starts),
            samplers,
            np.array([LOSSES[config.loss], config.neg, config.threads, config.seed, epoch, max_rows, max_labels],
                     dtype=np.int64),
            np.array([config.lr, words_before, total_words], dtype=np.float64),
            state)


def _samplers(label_counts: np.ndarray):
    """ns draws noise labels with p ~ count^0.5, as fastText's NegativeSamplingLoss."""
    from .core import make_tables
    from .sampling import alias_table, noise_distribution
    return (*alias_table(noise_distribution(np.maximum(label_counts, 1), power=0.5)), make_tables())


def warm_up(dim: int = 4) -> float:
    """Compile (or load from Numba's cache) every supervised kernel on a tiny input; returns seconds.

    The reader's tokeniser (``corpus.scan``), the encoder, training and scoring, so
    that read and train times of a run never include compiling.
    """
    import tempfile

    from .sgns import plan_chunks
    from .supervised_kernel import train_epoch
    started = time.perf_counter()
    config = SupervisedConfig(dim=dim, epochs=1, threads=1, word_ngrams=2, buckets=7)
    with tempfile.TemporaryDirectory(prefix="fastemb-warm-up-") as directory:
        path = os.path.join(directory, "warm-up.txt")
        with open(path, "wb") as handle:
            handle.write(b"__label__x a b\n__label__y b c\n")
        data = read_training_data(path, config)
    n_rows = len(data.words) + config.n_buckets
    model = (_initial_rows(len(data.words), config, None, data.words.words)[0],
             np.zeros((len(data.labels), dim), np.float32), np.zeros(n_rows, np.uint8))
    examples = data.examples
    train_epoch(*_kernel_inputs(model, examples, plan_chunks(np.arange(len(examples) + 1, dtype=np.int64)),
                                _samplers(data.labels.counts), config, 0, 0.0, 2.0, _new_state(1)))
    SupervisedModel(data.words.words, data.labels.words, model[0], model[1], config).probabilities(examples)
    return time.perf_counter() - started


def _initial_rows(n_words: int, config: SupervisedConfig, vectors, words: list[str]):
    """Input rows uniform(-1/dim, 1/dim), output rows zero (fastText); pretrained rows copied in."""
    from .supervised_kernel import fill_uniform
    input_rows = np.empty((n_words + config.n_buckets, config.dim), dtype=np.float32)
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


def train(data: TrainingData, config: SupervisedConfig, progress: Progress | None = None, vectors=None) -> tuple:
    """Train on encoded examples; returns (input_rows, output_rows, stats)."""
    import numba

    from .sgns import _KernelRunner, plan_chunks
    from .supervised_kernel import STRIDE, train_epoch

    config.validate()
    numba.set_num_threads(max(1, min(config.threads, numba.config.NUMBA_NUM_THREADS)))
    examples = data.examples
    started = time.perf_counter()
    input_rows, frozen, initialised = _initial_rows(len(data.words), config, vectors, data.words.words)
    init_seconds = time.perf_counter() - started
    output_rows = np.zeros((len(data.labels), config.dim), dtype=np.float32)
    model = (input_rows, output_rows, frozen)
    samplers = _samplers(data.labels.counts)
    word_offsets = np.concatenate(([0], np.cumsum(examples.word_counts, dtype=np.int64)))
    chunk_starts = plan_chunks(word_offsets, CHUNK_WORDS)
    per_epoch = float(word_offsets[-1])
    total = per_epoch * config.epochs
    progress = progress or Progress(total, config.threads, quiet=True)
    loss_sum = scored = 0.0
    started = progress.started = time.perf_counter()  # rates count from here, after the (large) allocation
    for epoch in range(config.epochs):
        state = _new_state(config.threads)
        progress_words, losses, stop = state
        words_before = epoch * per_epoch

        def poll(force=False):
            done = words_before + progress_words[::STRIDE].sum()
            n = losses[1::STRIDE].sum() + scored
            mean_loss = (losses[::STRIDE].sum() + loss_sum) / n if n else 0.0
            progress.update(done, max(config.lr * (1.0 - done / total), 0.0), mean_loss, force)

        runner = _KernelRunner(train_epoch, _kernel_inputs(model, examples, chunk_starts, samplers, config, epoch,
                                                           words_before, total, state)).start()
        try:
            runner.wait(poll)
        except KeyboardInterrupt:
            runner.stop_and_wait(stop)  # the worker threads finish their example and return
            raise
        poll(force=True)
        loss_sum += losses[::STRIDE].sum()
        scored += losses[1::STRIDE].sum()
    train_seconds = time.perf_counter() - started
    progress.close()
    stats = {"train_seconds": train_seconds, "words": int(total), "loss": loss_sum / scored if scored else 0.0,
             "words_per_sec": total / train_seconds if train_seconds else 0.0, "pretrained_rows": initialised,
             "init_seconds": init_seconds}
    return input_rows, output_rows, stats


def load_pretrained(config: SupervisedConfig):
    """The --pretrained vectors, checked against --dim; None without --pretrained."""
    if not config.pretrained:
        return None
    from .vectors import load_vectors
    vectors = load_vectors(config.pretrained)
    if vectors.dim != config.dim:
        raise FastembError(f"{config.pretrained}: pretrained vectors have dimension {vectors.dim} "
                           f"but --dim is {config.dim}; pass --dim {vectors.dim}")
    return vectors


def train_supervised(path: str, config: SupervisedConfig | None = None,
                     progress: Progress | None = None) -> SupervisedModel:
    """Read ``path`` (fastText's labelled format), train, and return the model with its report."""
    config = config or SupervisedConfig()
    config.validate()
    say = progress.say if progress else (lambda message: None)
    vectors = load_pretrained(config)
    compile_seconds = warm_up()  # first, so that read_seconds does not include loading the reader's kernels
    started = time.perf_counter()
    data = read_training_data(path, config)
    read_seconds = time.perf_counter() - started
    examples = data.examples
    say(f"Read {data.lines:,} lines: {len(examples):,} examples, {int(examples.word_counts.sum()):,} words; "
        f"vocabulary {len(data.words):,} words, {len(data.labels):,} labels in {read_seconds:.1f} s"
        + (f"; skipped {data.skipped_no_label:,} lines without a label, "
           f"{data.skipped_no_words:,} without a known word" if data.skipped_no_label or data.skipped_no_words
           else ""))
    if data.reader == "python" and path != "-":
        from .corpus import MAX_SENTENCE, MAX_TOKEN_BYTES
        say(f"Read with the slower Python reader: a line has more than {MAX_SENTENCE:,} tokens "
            f"or a token more than {MAX_TOKEN_BYTES:,} bytes")
    say(f"Kernels compiled or loaded from cache in {compile_seconds:.2f} s")
    if progress is not None:
        progress.total_words = float(examples.word_counts.sum()) * config.epochs
    input_rows, output_rows, stats = train(data, config, progress, vectors)
    if vectors is not None:
        say(f"Initialised {stats['pretrained_rows']:,} of {len(data.words):,} word rows from {config.pretrained}"
            + (" (frozen)" if config.freeze else ""))
    report = {"version": __version__, "objective": "supervised", "input": path,
              "read_seconds": read_seconds, "reader": data.reader, "compile_seconds": compile_seconds, **stats,
              "save_seconds": 0.0, "threads": config.threads, "vocab_size": len(data.words),
              "labels": len(data.labels), "examples": len(examples), "lines": data.lines,
              "skipped_no_label": data.skipped_no_label, "skipped_no_words": data.skipped_no_words,
              "corpus_tokens": int(examples.word_counts.sum()), "config": asdict(config)}
    model = SupervisedModel(data.words.words, data.labels.words, input_rows, output_rows, config,
                            data.words.counts, data.labels.counts, report)
    model.trained_buckets = trained_bucket_ids(examples, len(data.words), config.n_buckets)
    return model
