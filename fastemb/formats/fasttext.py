"""fastText's binary model file (the ``.bin`` of fastText 0.9, format version 12), read and written.

Layout (little-endian, packed; learned from fastText's saveModel and the save
methods of Args, Dictionary and DenseMatrix):

    int32 magic 793712314, int32 version (12; 11 is read too)
    args      int32 dim ws epoch minCount neg wordNgrams loss model bucket minn maxn lrUpdateRate, float64 t
    dict      int32 size nwords nlabels, int64 ntokens, int64 pruneidx_size,
              size x (word bytes, NUL, int64 count, int8 type 0 word / 1 label): words first, then labels,
              pruneidx_size x (int32, int32) when > 0 (only quantized models have it)
    bool      quantized input
    input     int64 rows (nwords + bucket), int64 dim, float32 rows x dim
    bool      quantized output
    output    int64 rows (nlabels for a classifier, else nwords), int64 dim, float32 rows x dim

Reading memory-maps both matrices (numpy.memmap at their offsets), after checking
every declared size against the file's length: a 7 GB model costs its pages as
they are touched, not 7 GB of RAM. A file that shrinks while mapped ends the command
with one error line, not a bus error (mapped.guard_mapped_file). A quantized model
(``.ftz``, quantization.py) is read too, its matrices decoded; one whose vocabulary
was pruned (fastText's quantize -cutoff) is refused.

A word's vector is fastText's ``getWordVector``: the mean of the rows of its
subwords (subwords.py): its own row if it is in the vocabulary, then its
character n-gram rows; an unseen word gets the mean of its n-gram rows.

Hierarchical softmax: fastText keeps one output row per inner node of its Huffman
tree in creation order (``node - osz``), and a branch probability
``sigmoid(row . hidden)`` for code 1; fastemb (huffman.py) numbers inner nodes root
first (``2V - 2 - node``) and scores label ``1 - code``. The same tree (both are
word2vec's construction over the same counts) so a fastText hs matrix is fastemb's
reversed and negated; fastText's matrix has one unused row more (V rows, V - 1 nodes).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..text.corpus import WordTable
from ..base.errors import FastembError
from ..base.fileio import atomic_output, check_readable
from ..base.limits import MAX_NGRAM_CHARS, MAX_WORD_NGRAMS, check_fits_in_memory
from ..base.mapped import guard_mapped_file
from ..base.config import SubwordSettings, SupervisedConfig, Word2VecConfig, check_targets
from ..kernels.fasttext_dictionary import build_index, find_word, pack_entries, parse_entries
from ..kernels.subwords import mean_rows
from .quantization import QuantizedMatrix
from ..text.subwords import encode_words, vocabulary_subword_count, vocabulary_subword_rows, word_subword_rows

MAGIC = 793712314
VERSION = 12
READABLE_VERSIONS = (11, 12)
MODELS = {1: "cbow", 2: "sg", 3: "sup"}          # fastText's model_name
LOSSES = {1: "hs", 2: "ns", 3: "softmax", 4: "ova"}  # fastText's loss_name
_ARGS = np.dtype([(name, "<i4") for name in ("dim", "ws", "epoch", "minCount", "neg", "wordNgrams", "loss", "model",
                                             "bucket", "minn", "maxn", "lrUpdateRate")] + [("t", "<f8")])
_DICT_HEADER = np.dtype([("size", "<i4"), ("nwords", "<i4"), ("nlabels", "<i4"), ("ntokens", "<i8"),
                         ("pruneidx_size", "<i8")])
_MATRIX_HEADER = np.dtype([("rows", "<i8"), ("dim", "<i8")])
# fastText's defaults (Args::Args) for what a fastemb model does not have.
DEFAULT_ARGS = {"dim": 100, "ws": 5, "epoch": 5, "minCount": 5, "neg": 5, "wordNgrams": 1, "loss": "ns",
                "model": "sg", "bucket": 2_000_000, "minn": 3, "maxn": 6, "lrUpdateRate": 100, "t": 1e-4}
_WRITE_BLOCK_BYTES = 1 << 26
_LABEL_PREFIX = "__label__"


@dataclass
class FastTextModelFile:
    """What a fastText ``.bin`` holds: its args, vocabulary (words, then labels) and both matrices."""

    args: dict                      # fastText's names; loss and model as fastText spells them (LOSSES, MODELS)
    words: WordTable                # id -> word (decoded on access)
    word_counts: np.ndarray         # int64
    labels: list[str]
    label_counts: np.ndarray        # int64
    input_rows: np.ndarray          # float32 (nwords + bucket, dim); an np.memmap when read from a file
    output_rows: np.ndarray         # float32 (nlabels for "sup", else nwords; dim)
    ntokens: int = 0
    path: str | None = None
    version: int = VERSION
    input_codes: object = None      # a quantization.QuantizedMatrix when quantized (input_rows: what it decodes to)
    output_codes: object = None     # the same for the output rows (fastText's -qout)
    _index: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)  # word_id's table
    _rows: tuple | None = field(default=None, init=False, repr=False, compare=False)  # vocabulary_rows, once

    @classmethod
    def from_arrays(cls, args: dict, words: list[str], word_counts, labels: list[str], label_counts,
                    input_rows: np.ndarray, output_rows: np.ndarray, ntokens: int | None = None) -> "FastTextModelFile":
        """A model from in-memory arrays; args missing from ``args`` take fastText's defaults."""
        blob, starts = encode_words(words)
        word_counts = np.asarray(word_counts, dtype=np.int64)
        label_counts = np.asarray(label_counts, dtype=np.int64)
        if ntokens is None:
            ntokens = int(word_counts.sum() + label_counts.sum())
        model = cls({**DEFAULT_ARGS, **args}, WordTable(blob.tobytes(), starts), word_counts, list(labels),
                    label_counts, input_rows, output_rows, ntokens)
        model.check_shapes()
        return model

    # -- what the file describes -------------------------------------------------------------

    @property
    def dim(self) -> int:
        return int(self.args["dim"])

    @property
    def n_words(self) -> int:
        return len(self.words)

    @property
    def supervised(self) -> bool:
        return self.args["model"] == "sup"

    @property
    def subword_settings(self) -> SubwordSettings:
        return SubwordSettings(int(self.args["minn"]), int(self.args["maxn"]), int(self.args["bucket"]))

    def check_shapes(self) -> None:
        """The matrices fit the args and the vocabulary (fastText does not check; a wrong row count would
        make word vectors read outside the matrix)."""
        where = self.path or "fastText model"
        dim, bucket = self.dim, int(self.args["bucket"])
        expect_in = (self.n_words + bucket, dim)
        expect_out = (len(self.labels) if self.supervised else self.n_words, dim)
        for name, matrix, expected in (("input", self.input_rows, expect_in), ("output", self.output_rows, expect_out)):
            if matrix.ndim != 2 or tuple(matrix.shape) != expected:
                raise FastembError(f"{where}: corrupt fastText model ({name} matrix is {tuple(matrix.shape)}, "
                                   f"expected {expected} for {self.n_words} words, {len(self.labels)} labels, "
                                   f"bucket {bucket}, dim {dim})")
        if self.subword_settings.enabled and bucket <= 0:
            raise FastembError(f"{where}: corrupt fastText model (character n-grams with bucket {bucket})")
        if self.supervised and int(self.args["wordNgrams"]) > 1 and bucket <= 0:
            raise FastembError(f"{where}: corrupt fastText model (word n-grams with bucket {bucket})")

    def config(self) -> SupervisedConfig | Word2VecConfig:
        """fastemb's settings for what the args describe, checked as the trainer checks its own: a file holding
        a model fastemb would refuse to train is refused too, with the field and the file named."""
        a, where = self.args, self.path or "fastText model"
        try:
            if self.supervised:
                self.subword_settings.validate()  # its character n-grams still give word vectors
                bucket = int(a["bucket"])
                config = SupervisedConfig(dim=self.dim, epochs=int(a["epoch"]), loss=a["loss"], neg=int(a["neg"]),
                                          min_count=int(a["minCount"]), word_ngrams=int(a["wordNgrams"]),
                                          minn=int(a["minn"]), maxn=int(a["maxn"]),
                                          buckets=bucket if bucket > 0 else SupervisedConfig.buckets,
                                          label_prefix=label_prefix(self.labels), eos=True, threads=1)
            else:
                # fastText also trains word models with softmax or ova, which fastemb does not; only their
                # output matrix depends on it, and fastemb reads a word model's input rows alone.
                loss = a["loss"] if a["loss"] not in ("softmax", "ova") else "ns"
                config = Word2VecConfig(model=model_word(a["model"]), loss=loss, dim=self.dim,
                                        epochs=int(a["epoch"]), window=int(a["ws"]), negative=int(a["neg"]),
                                        min_count=int(a["minCount"]), sample=float(a["t"]), minn=int(a["minn"]),
                                        maxn=int(a["maxn"]), buckets=int(a["bucket"]), threads=1)
        except FastembError as exc:
            raise FastembError(f"{where}: {exc}") from None
        check_targets(config, len(self.labels) if self.supervised else self.n_words, where)
        return config

    # -- word vectors (fastText's getWordVector) ----------------------------------------------

    def word_id(self, word: str) -> int:
        """The word's id in the vocabulary, -1 if it has none (labels are not words)."""
        if self._index is None:
            self._index = build_index(_blob_array(self.words), self.words.starts)
        query = np.frombuffer(word.encode("utf-8", "surrogateescape"), dtype=np.uint8)
        return int(find_word(_blob_array(self.words), self.words.starts, self._index, query))

    def subword_rows(self, word: str) -> np.ndarray:
        """fastText's ``getSubwords(word)``: the input rows whose mean is the word's vector."""
        return word_subword_rows(word, self.subword_settings, self.n_words, self.word_id(word))

    def word_vector(self, word: str) -> np.ndarray:
        """The mean of the word's subword rows; zeros for a word with none (unseen, no n-grams)."""
        return self.word_vectors([word])[0]

    def word_vectors(self, words: list[str]) -> np.ndarray:
        """(len(words), dim) float32: ``word_vector`` of each."""
        parts = [self.subword_rows(w) for w in words]
        offsets = np.zeros(len(parts) + 1, dtype=np.int64)
        np.cumsum([len(p) for p in parts], out=offsets[1:])
        rows = np.concatenate(parts) if parts else np.zeros(0, np.int32)
        return mean_rows(self.input_rows, rows.astype(np.int32), offsets, np.empty((len(words), self.dim), np.float32))

    def vocabulary_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(rows, offsets): every vocabulary word's subword rows (subwords.vocabulary_subword_rows)."""
        if self._rows is None:
            n_ids = vocabulary_subword_count(self.words, self.subword_settings)
            check_fits_in_memory(4 * n_ids + 8 * (self.n_words + 1), self.path or "fastText model",
                                 f"the character n-gram lists of {self.n_words:,} words (maxn {self.args['maxn']})")
            self._rows = vocabulary_subword_rows(self.words, self.subword_settings)
        return self._rows

    def vocabulary_vectors(self) -> np.ndarray:
        """(nwords, dim) float32: the vector of every vocabulary word (for ``-o``, neighbours, analogies).

        Without n-grams that is the word rows themselves (a view of the file, no copy).
        """
        if not self.subword_settings.enabled:
            return self.input_rows[:self.n_words]
        rows, offsets = self.vocabulary_rows()
        return mean_rows(self.input_rows, rows, offsets, np.empty((self.n_words, self.dim), np.float32))

    # -- writing ------------------------------------------------------------------------------

    def save(self, path: str) -> None:
        """Write fastText's ``.bin`` (version 12) to exactly ``path``, atomically."""
        write_fasttext(path, self)


def hs_rows_to_fastemb(rows: np.ndarray, n_leaves: int) -> np.ndarray:
    """fastText's hs output rows (inner node k = creation order, code 1 = sigmoid) -> fastemb's (root first,
    label 1 - code): the first V - 1 rows, reversed and negated."""
    return np.ascontiguousarray(-np.asarray(rows[:n_leaves - 1])[::-1], dtype=np.float32)


def hs_rows_to_fasttext(rows: np.ndarray, n_leaves: int) -> np.ndarray:
    """The inverse of ``hs_rows_to_fastemb``, with fastText's unused last row (zeros): V rows."""
    out = np.zeros((n_leaves, rows.shape[1]), dtype=np.float32)
    out[:n_leaves - 1] = -np.asarray(rows[:n_leaves - 1])[::-1]
    return out


def model_word(model: str) -> str:
    return {"sg": "skipgram", "cbow": "cbow", "sup": "supervised"}.get(model, model)


def label_prefix(labels: list[str]) -> str:
    """fastText's prefix is not in the file; "__label__" when every label has it, else the labels' common prefix."""
    if all(label.startswith(_LABEL_PREFIX) for label in labels):
        return _LABEL_PREFIX
    return os.path.commonprefix(labels) or _LABEL_PREFIX


def _blob_array(words: WordTable) -> np.ndarray:
    return np.frombuffer(words.blob, dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# Reading


def is_fasttext_file(path: str) -> bool:
    """Does ``path`` start with fastText's magic number?"""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return len(head) == 4 and int(np.frombuffer(head, "<i4")[0]) == MAGIC


class _Cursor:
    """Position in the mapped file; every read first checks the file has the bytes."""

    def __init__(self, path: str, buf: np.ndarray):
        self.path, self.buf, self.pos = path, buf, 0

    def need(self, n: int, what: str) -> None:
        if n < 0 or self.pos + n > len(self.buf):
            raise FastembError(f"{self.path}: truncated fastText model (the {what} needs {self.pos + n:,} bytes, "
                               f"the file has {len(self.buf):,})")

    def record(self, dtype: np.dtype, what: str):
        self.need(dtype.itemsize, what)
        value = self.buf[self.pos:self.pos + dtype.itemsize].view(dtype)[0]
        self.pos += dtype.itemsize
        return value

    def fail(self, problem: str):
        raise FastembError(f"{self.path}: corrupt fastText model ({problem})")

    def array(self, dtype, count: int, what: str) -> np.ndarray:
        dtype = np.dtype(dtype)
        self.need(count * dtype.itemsize, what)
        values = self.buf[self.pos:self.pos + count * dtype.itemsize].view(dtype)
        self.pos += count * dtype.itemsize
        return values

    def flag(self, what: str) -> bool:
        self.need(1, what)
        self.pos += 1
        return bool(self.buf[self.pos - 1])

    def matrix(self, what: str) -> np.ndarray:
        header = self.record(_MATRIX_HEADER, f"{what} matrix header")
        rows, dim = int(header["rows"]), int(header["dim"])
        if rows < 0 or dim < 0:
            raise FastembError(f"{self.path}: corrupt fastText model ({what} matrix of {rows} x {dim})")
        self.need(rows * dim * 4, f"{what} matrix ({rows:,} x {dim})")
        matrix = _map(self.path, "<f4", self.pos, (rows, dim))
        self.pos += rows * dim * 4
        return matrix


def check_ngram_caps(path: str, args: dict) -> None:
    """A word's character n-grams grow with maxn x its length, a line's word n-grams with wordNgrams x its
    tokens: beyond the limit table's caps a few kilobytes of file would ask for gigabytes."""
    for name, cap, used in (("maxn", MAX_NGRAM_CHARS, True),
                            ("wordNgrams", MAX_WORD_NGRAMS, args["model"] == "sup")):
        if used and args[name] > cap:
            raise FastembError(f"{path}: {name} {args[name]:,} is more than {cap}, the most fastemb reads "
                               f"(fastText's default is {DEFAULT_ARGS[name]})")


def _map(path: str, dtype, offset: int, shape: tuple) -> np.memmap:
    """``shape`` values of ``dtype`` at ``offset`` of ``path``, mapped read-only; the file having shrunk since
    its length was taken is one error line."""
    try:
        return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape)
    except (OSError, ValueError) as exc:
        raise FastembError(f"{path}: cannot map the file; did it change while being read? ({exc})") from None


def read_fasttext(path: str) -> FastTextModelFile:
    """Read fastText's ``.bin`` (format version 11 or 12, not quantized); both matrices memory-mapped."""
    check_readable(path)
    length = os.path.getsize(path)
    if length < 8:
        raise FastembError(f"{path}: not a fastText model (only {length} bytes)")
    guard_mapped_file(path, length)
    buf = _map(path, np.uint8, 0, (length,))
    cursor = _Cursor(path, buf)
    magic, version = (int(v) for v in buf[:8].view("<i4"))
    if magic != MAGIC:
        raise FastembError(f"{path}: not a fastText model (magic number {magic}, fastText's is {MAGIC})")
    if version not in READABLE_VERSIONS:
        raise FastembError(f"{path}: fastText model format version {version}; fastemb reads versions "
                           f"{', '.join(map(str, READABLE_VERSIONS))}")
    cursor.pos = 8
    raw = cursor.record(_ARGS, "args")
    args = {name: raw[name].item() for name in _ARGS.names}
    if args["model"] not in MODELS or args["loss"] not in LOSSES:
        raise FastembError(f"{path}: corrupt fastText model (model {args['model']}, loss {args['loss']})")
    args["model"], args["loss"] = MODELS[args["model"]], LOSSES[args["loss"]]
    if version == 11 and args["model"] == "sup":
        args["maxn"] = 0  # as fastText: classifiers of format 11 had no character n-grams
    if args["dim"] <= 0 or args["bucket"] < 0 or args["minn"] < 0 or args["maxn"] < 0:
        raise FastembError(f"{path}: corrupt fastText model (dim {args['dim']}, bucket {args['bucket']}, "
                           f"minn {args['minn']}, maxn {args['maxn']})")
    check_ngram_caps(path, args)

    header = cursor.record(_DICT_HEADER, "dictionary header")
    size, nwords, nlabels = int(header["size"]), int(header["nwords"]), int(header["nlabels"])
    if nwords < 0 or nlabels < 0 or size != nwords + nlabels:
        raise FastembError(f"{path}: corrupt fastText model (dictionary of {size} entries: {nwords} words "
                           f"and {nlabels} labels)")
    cursor.need(10 * size, f"dictionary ({size:,} entries)")
    read, cursor.pos, blob, starts, counts, types = parse_entries(buf, cursor.pos, size)
    if read < size:
        raise FastembError(f"{path}: truncated fastText model (the file ends in dictionary entry {read + 1:,} "
                           f"of {size:,})")
    if np.any(types[:nwords] != 0) or np.any(types[nwords:] != 1):
        raise FastembError(f"{path}: corrupt fastText model (dictionary entries are not {nwords} words "
                           f"then {nlabels} labels)")
    pruned = int(header["pruneidx_size"])
    if pruned > 0:
        cursor.need(8 * pruned, "pruned n-gram index")
        cursor.pos += 8 * pruned
    quantized = cursor.flag("quantization flag")
    if pruned >= 0 and not quantized:
        raise FastembError(f"{path}: a fastText model with a pruned dictionary but not quantized, which fastText "
                           "itself refuses (an outdated file)")
    if pruned > 0:
        raise FastembError(f"{path}: a quantized fastText model whose vocabulary was pruned (quantize -cutoff); "
                           "fastemb reads quantized models without a cutoff")
    input_codes = QuantizedMatrix.read(cursor) if quantized else None
    input_rows = input_codes.decode() if quantized else cursor.matrix("input")
    output_codes = QuantizedMatrix.read(cursor) if cursor.flag("output quantization flag") and quantized else None
    output_rows = output_codes.decode() if output_codes is not None else cursor.matrix("output")
    if cursor.pos != length:
        raise FastembError(f"{path}: corrupt fastText model ({length - cursor.pos:,} bytes after the output matrix)")

    words = WordTable(blob[:starts[nwords]].tobytes(), starts[:nwords + 1].copy())
    labels = [blob[starts[i]:starts[i + 1]].tobytes().decode("utf-8", "replace") for i in range(nwords, size)]
    model = FastTextModelFile(args, words, counts[:nwords].copy(), labels, counts[nwords:].copy(), input_rows,
                              output_rows, int(header["ntokens"]), path, version, input_codes, output_codes)
    model.check_shapes()
    model.config()
    return model


# ---------------------------------------------------------------------------------------------
# Writing


def write_fasttext(path: str, model: FastTextModelFile) -> None:
    """Write ``model`` as fastText's ``.bin`` (format version 12) to exactly ``path``, atomically; a quantized
    model (``input_codes``) as its ``.ftz``.

    The matrices are written a block at a time, so a memory-mapped model is never copied whole.
    """
    model.check_shapes()
    args = {**DEFAULT_ARGS, **model.args}
    check_ngram_caps(path, args)  # what fastemb writes, fastemb reads
    raw = np.zeros(1, dtype=_ARGS)
    for name in _ARGS.names:
        value = args[name]
        if name == "model":
            value = _code(MODELS, value, name)
        elif name == "loss":
            value = _code(LOSSES, value, name)
        raw[name] = value
    labels_blob, label_starts = encode_words(model.labels)
    words_blob = _blob_array(model.words)
    blob = np.concatenate((words_blob, labels_blob))
    if np.any(blob == 0):
        raise FastembError(f"{path}: a word or label contains a NUL byte, which fastText's file cannot hold")
    starts = np.concatenate((model.words.starts, label_starts[1:] + len(words_blob))).astype(np.int64)
    counts = np.concatenate((model.word_counts, model.label_counts)).astype(np.int64)
    types = np.concatenate((np.zeros(model.n_words, np.int8), np.ones(len(model.labels), np.int8)))
    header = np.zeros(1, dtype=_DICT_HEADER)
    header["size"], header["nwords"], header["nlabels"] = len(counts), model.n_words, len(model.labels)
    header["ntokens"], header["pruneidx_size"] = model.ntokens, -1
    with atomic_output(path, "wb") as handle:
        handle.write(np.array([MAGIC, VERSION], dtype="<i4").tobytes())
        handle.write(raw.tobytes())
        handle.write(header.tobytes())
        handle.write(pack_entries(blob, starts, counts, types).tobytes())
        for matrix, codes in ((model.input_rows, model.input_codes), (model.output_rows, model.output_codes)):
            handle.write(b"\x00" if codes is None else b"\x01")
            if codes is None:
                _write_matrix(handle, matrix)
            else:
                handle.write(codes.to_bytes())


def _code(names: dict, value, what: str) -> int:
    codes = {name: code for code, name in names.items()}
    if value not in codes:
        raise FastembError(f"fastText has no {what} {value!r} (it has {', '.join(codes)})")
    return codes[value]


def _write_matrix(handle, matrix: np.ndarray) -> None:
    rows, dim = matrix.shape
    handle.write(np.array([rows, dim], dtype="<i8").tobytes())
    step = max(1, _WRITE_BLOCK_BYTES // max(4 * dim, 1))
    for start in range(0, rows, step):
        handle.write(np.ascontiguousarray(matrix[start:start + step], dtype="<f4").tobytes())


# ---------------------------------------------------------------------------------------------
# fastemb's models as fastText models


def from_supervised(model) -> FastTextModelFile:
    """A ``SupervisedModel`` as fastText's classifier (model sup)."""
    config = model.config
    if not config.eos and config.word_ngrams > 1:
        raise FastembError("a classifier trained without the end token (--no-eos) and with --word-ngrams > 1 "
                           "cannot be written for fastText: fastText ends every line with </s> and forms n-grams "
                           "with it")
    output_rows = model.output_rows
    if config.loss == "hs":
        output_rows = hs_rows_to_fasttext(output_rows, len(model.labels))
    args = {"dim": model.dim, "epoch": config.epochs, "minCount": config.min_count, "neg": config.neg,
            "wordNgrams": config.word_ngrams, "loss": config.loss, "model": "sup", "bucket": config.n_buckets,
            "minn": config.minn if config.maxn > 0 else 0, "maxn": config.maxn}
    return FastTextModelFile.from_arrays(args, model.words, model.word_counts, model.labels, model.label_counts,
                                         model.input_rows, output_rows)


def from_word2vec(model) -> FastTextModelFile:
    """A ``Word2VecModel`` (skip-gram or CBOW, ns or hs; with character n-grams or without) as fastText's
    unsupervised model."""
    config, vocab = model.config, model.vocab
    output_rows = model.output_rows
    if config.loss == "hs":
        output_rows = hs_rows_to_fasttext(output_rows, len(vocab))
    args = {"dim": config.dim, "ws": config.window, "epoch": config.epochs, "minCount": config.min_count,
            "neg": config.negative, "loss": config.loss, "model": "sg" if config.model == "skipgram" else "cbow",
            "bucket": config.buckets if config.subwords else 0, "minn": config.minn if config.subwords else 0,
            "maxn": config.maxn, "t": config.sample}
    return FastTextModelFile.from_arrays(args, vocab.words, vocab.counts, [], [], model.input_rows, output_rows)
