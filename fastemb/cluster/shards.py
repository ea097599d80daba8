"""What a distributed run asks of each model family (docs/distributed.md): how a worker reads, counts and encodes
its shard and which job its trainer trains; how the driver turns the merged counts into the dictionary, makes the
initial model and describes the data. driver.py and worker.py are the same for every family and reach it only
through one of these objects (``shards_of``); each method calls the family's own reader, dictionary, initial rows
and job (training/word2vec.py, text/labelled.py, training/supervised.py).

    WORD2VEC     skip-gram and CBOW: a shard is its sentences; the dictionary is the vocabulary
    SUPERVISED   the classifier: a shard is its labelled lines; the dictionary is the words and the labels
                 (:class:`Classes`), with the rows --pretrained --freeze keeps fixed
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sharding import RANK_BITS, WordCounts, open_piece
from ..text.vocab import Vocab


def shards_of(config):
    """The cluster hooks of ``config``'s model family (training.families)."""
    from ..training.families import family_of
    return HOOKS[family_of(config).name]


def _shard_fields(data, word_offsets: np.ndarray, chunk_words: int, **counts) -> dict:
    """What worker.ShardInfo says of an encoded shard besides its place: the words before each of its
    chunks (the trainer's units, planned as Trainer plans them), its checksum and ``counts``."""
    from ..training.checkpoint import corpus_checksum
    from ..training.trainer import plan_chunks
    starts = word_offsets[plan_chunks(word_offsets, chunk_words)] if len(word_offsets) > 1 else np.zeros(1, np.int64)
    return dict(chunk_words=starts.astype(np.int64), checksum=corpus_checksum(data), **counts)


class Word2VecShards:
    """Skip-gram and CBOW."""

    @property
    def chunk_words(self) -> int:
        from ..training.word2vec import CHUNK_WORDS
        return CHUNK_WORDS

    def name(self, config) -> str:
        return config.model

    # -- on a worker --------------------------------------------------------------------------------
    def read(self, pieces, config, scratch_dir: str):
        from ..text.corpus import scan
        return scan(pieces, memory_budget=config.memory_budget(), spill_dir=scratch_dir, max_words=config.max_words,
                    opener=open_piece)

    def counts(self, raw, shard: int) -> WordCounts:
        return WordCounts.of(raw, shard)

    def encode(self, raw, vocab: Vocab, config, scratch_dir: str):
        """(the shard's corpus, encoded into ``scratch_dir``, its ShardInfo fields)."""
        from ..text.corpus import encode
        from ..base.fileio import remove_quietly, scratch_file
        try:
            corpus = encode(raw, vocab.remap(raw.words), scratch_file(scratch_dir, "shard", ".int32"))
        finally:
            if raw.spill is not None:
                remove_quietly(raw.spill)
        return corpus, _shard_fields(corpus, corpus.offsets, self.chunk_words, tokens=corpus.n_tokens,
                                     sentences=corpus.n_sentences, tokens_read=corpus.tokens_read)

    def job(self, corpus, vocab: Vocab, config, input_rows: np.ndarray, output_rows: np.ndarray):
        from ..training.word2vec import word2vec_job
        return word2vec_job(corpus, vocab, config, input_rows, output_rows)

    def warm_up(self) -> float:
        from ..training.word2vec import warm_up
        return warm_up()

    # -- on the driver ------------------------------------------------------------------------------
    def dictionary(self, counts: WordCounts, config, name: str) -> Vocab:
        from ..base.errors import FastembError
        if not counts.stats.get("tokens"):
            raise FastembError(f"{name}: the corpus is empty (no tokens)")
        return counts.vocabulary(config.min_count, config.max_vocab)

    def restored(self, vocab: Vocab, labels, frozen) -> Vocab:
        """The dictionary a checkpoint holds."""
        return vocab

    def vocabularies(self, vocab: Vocab) -> tuple[Vocab, None]:
        """(the words, the labels) as the trainer's job has them (checkpoint.save_checkpoint reads them)."""
        return vocab, None

    def slow_rows(self, vocab: Vocab, combiner: str, shards: int) -> tuple[int, float]:
        from .rounds import slow_rows
        return slow_rows(vocab.counts, combiner, shards)

    def frozen(self, vocab: Vocab) -> np.ndarray:
        return np.zeros(0, np.uint8)

    def initial_model(self, vocab: Vocab, config, say, resuming: bool):
        """(the dictionary, the input rows, the output rows) the run starts from: word2vec.initial_rows with
        --init."""
        from ..training.word2vec import check_tables, initial_rows, starting_rows
        check_tables(vocab, config)
        input_rows = output_rows = None
        if config.init and not resuming:
            vocab, input_rows, output_rows, known = initial_rows(vocab, config)
            say(f"Continuing from {config.init}: {known:,} of its words are in the corpus vocabulary")
        return (vocab, *starting_rows(len(vocab), config, input_rows, output_rows))

    def describe(self, vocab: Vocab, infos, stats: dict, config, name: str) -> tuple[str, dict]:
        """(what was read, as a sentence; the report's fields of the data)."""
        tokens_read = sum(info.tokens_read for info in infos)
        kept, sentences = sum(info.tokens for info in infos), sum(info.sentences for info in infos)
        return (f"Read {tokens_read:,} tokens ({kept:,} kept): {sentences:,} sentences, "
                f"vocabulary {len(vocab):,} words",
                {"tokens_read": tokens_read, "vocab_size": len(vocab), "corpus_tokens": kept, "sentences": sentences,
                 "truncated_tokens": stats.get("truncated", 0), "count_prunes": stats.get("count_prunes", 0)})


@dataclass
class Classes:
    """The classifier's dictionary on a cluster: what every worker's job needs besides its examples."""

    words: Vocab
    labels: Vocab
    frozen: np.ndarray | None = None  # uint8 per input row: kept fixed (--pretrained --freeze); None: not made yet


class SupervisedShards:
    """The classifier."""

    @property
    def chunk_words(self) -> int:
        from ..training.supervised import CHUNK_WORDS
        return CHUNK_WORDS

    def name(self, config) -> str:
        return "supervised"

    # -- on a worker --------------------------------------------------------------------------------
    def read(self, pieces, config, scratch_dir: str):
        """(the shard's lines as a labelled.TokenStream, which reader read them)."""
        from ..text.labelled import read_lines
        return read_lines(pieces, config.eos, opener=open_piece)

    def counts(self, lines, shard: int) -> WordCounts:
        """Each token type's count in the shard's lines, the end token's included, with its first occurrence."""
        from ..kernels.labelled import count_types
        stream = lines[0]
        n, lines = len(stream.types), len(stream.line_offsets) - 1
        counts = count_types(stream.tokens, n)
        table = WordCounts(list(stream.types), counts, (np.int64(shard) << RANK_BITS) + np.arange(n, dtype=np.int64),
                           {"tokens": len(stream.tokens), "lines": lines})
        # A single process appends the end token's type after every type of the whole data set (labelled.read_lines),
        # unless a line holds a literal </s>: then it is that, and counted more often than there are lines.
        if stream.eos_type >= 0 and counts[stream.eos_type] <= lines:
            table.first[stream.eos_type] = np.iinfo(np.int64).max
        return table

    def encode(self, lines, classes: Classes, config, scratch_dir: str):
        """((the shard's training data, its examples as the trainer's data), its ShardInfo fields); the examples'
        input rows go to a file in ``scratch_dir`` past --max-memory, as a single process's do."""
        from ..text.corpus import DiskCorpus
        from ..text.labelled import encode_training_data
        from ..training.supervised import examples_dataset
        stream, reader = lines
        data = encode_training_data(stream, classes.words, classes.labels, config, reader)
        examples, n_words = data.examples, len(classes.words)
        used_buckets = np.unique(examples.rows[examples.rows >= n_words])
        dataset = examples_dataset(examples, config, scratch_dir)
        if isinstance(dataset, DiskCorpus):
            examples.rows = None  # they live in the scratch file now
        word_offsets = np.concatenate(([0], np.cumsum(examples.word_counts, dtype=np.int64)))
        details = {"lines": data.lines, "skipped_no_label": data.skipped_no_label,
                   "skipped_no_words": data.skipped_no_words, "learnable": data.learnable, "used_buckets": used_buckets,
                   "reader": reader}
        return (data, dataset), _shard_fields(dataset, word_offsets, self.chunk_words, tokens=int(word_offsets[-1]),
                                              sentences=len(examples), tokens_read=len(stream.tokens),
                                              details=details)

    def job(self, shard_data, classes: Classes, config, input_rows: np.ndarray, output_rows: np.ndarray):
        from ..training.supervised import supervised_job
        data, dataset = shard_data
        return supervised_job(data, config, input_rows, classes.frozen, dataset, output_rows)

    def warm_up(self) -> float:
        from ..training.supervised import warm_up
        return warm_up()

    # -- on the driver ------------------------------------------------------------------------------
    def dictionary(self, counts: WordCounts, config, name: str) -> Classes:
        from ..text.labelled import build_dictionaries
        from ..text.vocab import EOS
        types, type_counts = counts.in_order()
        words, labels = build_dictionaries(types, type_counts, types.index(EOS) if config.eos else -1, config, name)
        return Classes(words, labels)

    def restored(self, vocab: Vocab, labels: Vocab, frozen) -> Classes:
        return Classes(vocab, labels, frozen)

    def vocabularies(self, classes: Classes) -> tuple[Vocab, Vocab]:
        return classes.words, classes.labels

    def slow_rows(self, classes: Classes, combiner: str, shards: int) -> tuple[int, float]:
        """None: rounds.slow_rows was measured on word2vec's tables, not on label rows and n-gram buckets."""
        return 0, 1.0

    def frozen(self, classes: Classes) -> np.ndarray:
        return classes.frozen

    def initial_model(self, classes: Classes, config, say, resuming: bool):
        """The single process's initial rows (supervised.initial_rows, --pretrained read here, on the driver)."""
        from ..base.limits import check_supervised_tables
        from ..models.supervised import initial_rows
        from ..models.tables import n_output_rows
        from ..training.supervised import load_pretrained
        words, labels = classes.words, classes.labels
        check_supervised_tables(len(words), config.n_buckets, len(labels), config.dim)
        vectors = None if resuming else load_pretrained(config)
        input_rows, frozen, initialised = initial_rows(len(words), config, vectors, words.words)
        if vectors is not None:
            say(f"Initialised {initialised:,} of {len(words):,} word rows from {config.pretrained}"
                + (" (frozen)" if config.freeze else ""))
        output_rows = np.zeros((n_output_rows(len(labels), config.loss), config.dim), np.float32)
        return Classes(words, labels, frozen if classes.frozen is None else classes.frozen), input_rows, output_rows

    def describe(self, classes: Classes, infos, stats: dict, config, name: str) -> tuple[str, dict]:
        from ..text.labelled import check_learnable
        figures = {key: sum(info.details[key] for info in infos)
                   for key in ("lines", "skipped_no_label", "skipped_no_words", "learnable")}
        check_learnable(figures.pop("learnable"), name, config)
        examples, words = sum(info.sentences for info in infos), sum(info.tokens for info in infos)
        skipped = figures["skipped_no_label"] or figures["skipped_no_words"]
        return (f"Read {figures['lines']:,} lines: {examples:,} examples, {words:,} words; vocabulary "
                f"{len(classes.words):,} words, {len(classes.labels):,} labels"
                + (f"; skipped {figures['skipped_no_label']:,} lines without a label, "
                   f"{figures['skipped_no_words']:,} without a known word" if skipped else ""),
                {**figures, "reader": "python" if any(info.details["reader"] == "python" for info in infos) else "scan",
                 "vocab_size": len(classes.words), "labels": len(classes.labels),
                 "examples": examples, "corpus_tokens": words})


WORD2VEC = Word2VecShards()
SUPERVISED = SupervisedShards()
HOOKS = {"word2vec": WORD2VEC, "supervised": SUPERVISED}  # by training.families' Family.name
