"""Skip-gram and CBOW (negative sampling and hierarchical softmax): sparse updates, reproducibility,
learned structure, hot rows, on-disk corpora, checkpoints."""
import numpy as np
import pytest

from fastemb.training import word2vec
from fastemb.base.config import Word2VecConfig
from fastemb.text.corpus import Corpus
from fastemb.kernels.epoch import merge_hot_rows, open_hot_rows, train_chunks
from fastemb.kernels.huffman import huffman_paths
from fastemb.training.trainer import Trainer, plan_chunks
from fastemb.text.vocab import Vocab

from conftest import ROOT, stopped_and_resumed

MODELS = [("skipgram", "pair"), ("skipgram", "batched"), ("cbow", "batched")]


def _one_window_step(model="skipgram", kernel="batched", loss="ns", threads=1, hot=0):
    """One epoch over the single sentence [10, 20] with noise only on words 50 and 60.

    With ``hot`` > 0 each thread keeps private copies of rows 0 .. hot-1 and their bases (in front
    of the model's rows, as the trainer lays them out). Returns the model's rows before and after,
    and the job (its Huffman paths for hs).
    """
    vocab_size, dim = 100, 8
    rng = np.random.default_rng(3)
    counts = np.ones(vocab_size, np.int64)
    counts[[50, 60]] = 10**6  # noise ~ count^0.75: almost only 50 and 60
    counts[:50] += np.arange(50, 0, -1)  # a Huffman tree that is not balanced
    corpus = Corpus(np.array([10, 20], np.int32), np.array([0, 2], np.int64))
    config = Word2VecConfig(model=model, loss=loss, dim=dim, window=1, negative=3, epochs=1, threads=threads,
                            kernel=kernel, sample=0.0, hot_rows=hot)
    n_out = vocab_size - 1 if loss == "hs" else vocab_size
    inputs = rng.standard_normal((vocab_size, dim)).astype(np.float32)
    outputs = rng.standard_normal((n_out, dim)).astype(np.float32)
    job = word2vec.word2vec_job(corpus, Vocab([str(i) for i in range(vocab_size)], counts), config,
                                inputs.copy(), outputs.copy())
    noise = np.zeros(vocab_size)
    noise[[50, 60]] = 0.5
    from fastemb.kernels.sampling import alias_table
    job.samplers = (job.samplers[0], alias_table(noise), *job.samplers[2:])  # noise exactly on 50 and 60
    trainer = Trainer(job)
    trainer.run()
    return (inputs, outputs), (trainer.input_rows, trainer.output_rows), job


def _changed(before, after):
    return set(np.flatnonzero(np.any(after != before, axis=1)))


@pytest.mark.parametrize("model, kernel", MODELS)
@pytest.mark.parametrize("threads, hot", [(1, 0), (2, 55), (2, 100)])
def test_a_negative_sampling_step_updates_only_the_rows_of_the_window_and_its_negatives(model, kernel, threads,
                                                                                       hot):
    (in_before, out_before), (in_after, out_after), _ = _one_window_step(model, kernel, "ns", threads, hot)
    changed_in, changed_out = _changed(in_before, in_after), _changed(out_before, out_after)
    assert changed_in == {10, 20}                      # each word is the other's context
    assert {10, 20} <= changed_out <= {10, 20, 50, 60}  # targets, plus negatives drawn from {50, 60}
    assert changed_out & {50, 60}


@pytest.mark.parametrize("model, kernel", MODELS)
@pytest.mark.parametrize("threads, hot", [(1, 0), (2, 20)])
def test_a_hierarchical_softmax_step_updates_only_the_window_and_the_inner_nodes_of_its_paths(model, kernel,
                                                                                              threads, hot):
    (in_before, out_before), (in_after, out_after), job = _one_window_step(model, kernel, "hs", threads, hot)
    paths = huffman_paths(job.vocab.counts)
    path_nodes = {int(n) for w in (10, 20) for n in paths.nodes[paths.offsets[w]:paths.offsets[w + 1]]}
    assert _changed(in_before, in_after) == {10, 20}
    assert _changed(out_before, out_after) == path_nodes  # every node on both paths, nothing else
    assert 0 in path_nodes and len(path_nodes) > 2


@pytest.mark.parametrize("model, kernel", MODELS)
def test_private_hot_rows_reach_the_model_when_a_chunk_ends(model, kernel):
    # One chunk: one of the two threads trains it on private copies of rows 0..54 (10, 20 and 50
    # among them), the other trains nothing; the merge must give the one-thread result.
    _, (in_alone, out_alone), _ = _one_window_step(model, kernel)
    _, (in_private, out_private), _ = _one_window_step(model, kernel, threads=2, hot=55)
    np.testing.assert_allclose(in_private, in_alone, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out_private, out_alone, rtol=1e-5, atol=1e-6)


def test_cbow_moves_every_context_row_by_the_gradient_of_their_mean():
    # window 1 over [10, 20]: each word's hidden row is the other's row alone, so both context rows
    # move, and by the same amount as a one-context CBOW update: the output rows' change says which.
    (in_before, _), (in_after, _), _ = _one_window_step("cbow", "batched", "ns")
    assert not np.allclose(in_before[10], in_after[10]) and not np.allclose(in_before[20], in_after[20])
    assert np.array_equal(np.delete(in_before, [10, 20], axis=0), np.delete(in_after, [10, 20], axis=0))


def test_plan_chunks_covers_every_sentence_once():
    offsets = np.cumsum([0] + [7] * 1000 + [25_000] + [3] * 10).astype(np.int64)
    starts = plan_chunks(offsets, chunk_words=100)
    assert starts[0] == 0 and starts[-1] == len(offsets) - 1
    assert np.all(np.diff(starts) > 0)


def _train(path, **options):
    options = {"dim": 20, "min_count": 1, "epochs": 3, "threads": 1, "sample": 0.0, **options}
    config = Word2VecConfig(**options)
    return word2vec.train_word2vec(str(path), config)


@pytest.mark.parametrize("model, kernel", MODELS)
@pytest.mark.parametrize("loss", ["ns", "hs"])
def test_one_thread_is_bit_reproducible_and_the_seed_matters(topic_corpus, model, kernel, loss):
    a = _train(topic_corpus, model=model, kernel=kernel, loss=loss, seed=5)
    b = _train(topic_corpus, model=model, kernel=kernel, loss=loss, seed=5)
    c = _train(topic_corpus, model=model, kernel=kernel, loss=loss, seed=6)
    assert np.array_equal(a.input_rows, b.input_rows) and np.array_equal(a.output_rows, b.output_rows)
    assert not np.array_equal(a.input_rows, c.input_rows)


def _topic_cosines(model):
    """Mean cosine of two words of the same topic, and of two words of different topics."""
    unit = model.input_rows / np.linalg.norm(model.input_rows, axis=1, keepdims=True)
    topic = np.array([w[0] == "a" for w in model.vocab.words])
    cosine = unit @ unit.T
    return cosine[np.ix_(topic, topic)][~np.eye(topic.sum(), dtype=bool)].mean(), cosine[np.ix_(topic, ~topic)].mean()


@pytest.mark.parametrize("model, kernel", MODELS)
@pytest.mark.parametrize("loss", ["ns", "hs"])
@pytest.mark.parametrize("threads", [1, 2])
def test_vectors_learn_which_words_share_contexts(topic_corpus, model, kernel, loss, threads):
    model = _train(topic_corpus, model=model, kernel=kernel, loss=loss, threads=threads)
    same, across = _topic_cosines(model)
    assert same > across + 0.3
    assert model.report["words"] == model.report["corpus_tokens"] * 3


def test_merging_hot_rows_adds_every_threads_change_once():
    hot, threads, dim = 3, 2, 4
    rng = np.random.default_rng(0)
    store = np.zeros((2 * threads * hot + 5, dim), np.float32)
    store[2 * threads * hot:] = rng.standard_normal((5, dim))
    shared0 = store[2 * threads * hot:].copy()
    layouts = [(hot, t * hot, (threads + t) * hot, 2 * threads * hot) for t in range(threads)]
    for rows in layouts:
        open_hot_rows(store, rows)
    changes = [np.zeros((hot, dim), np.float32) for _ in range(threads)]
    for _round in range(3):  # the changes of every round count once, whoever merges first
        for t, rows in enumerate(layouts):
            step = rng.standard_normal((hot, dim)).astype(np.float32) * np.float32(0.01)
            step[1] = 0.0  # a row this thread did not touch
            store[rows[1]:rows[1] + hot] += step
            changes[t] += step
            merge_hot_rows(store, rows)
    expected = shared0[:hot] + changes[0] + changes[1]
    np.testing.assert_allclose(store[2 * threads * hot:][:hot], expected, rtol=1e-5, atol=1e-6)
    assert np.array_equal(store[2 * threads * hot:][1], shared0[1])  # untouched by everyone: bit-identical
    last = layouts[-1]
    assert np.array_equal(store[last[1]:last[1] + hot], store[last[3]:last[3] + hot])  # continues from the sum
    assert np.array_equal(store[last[2]:last[2] + hot], store[last[3]:last[3] + hot])
    assert np.array_equal(store[2 * threads * hot + hot:], shared0[hot:])  # cold rows untouched


@pytest.mark.parametrize("model, kernel", MODELS)
def test_many_merges_by_one_thread_match_the_shared_rows(topic_corpus, model, kernel):
    # threads=2 on one OS thread: iteration 0 trains every chunk on private rows, merging after each;
    # the result must be the one-thread run's, up to the rounding of shared + (private - base).
    import numba
    vocab, corpus = word2vec.read_corpus(str(topic_corpus), Word2VecConfig(min_count=1, sample=0.0, epochs=1))
    results = []
    for threads, hot in ((1, 0), (2, 30)):
        config = Word2VecConfig(model=model, dim=20, min_count=1, sample=0.0, epochs=1, threads=threads,
                                kernel=kernel, hot_rows=hot)
        job = word2vec.word2vec_job(corpus, vocab, config)
        job.chunk_words = 2_000
        trainer = Trainer(job)
        assert len(trainer.chunk_starts) > 10 and trainer.hot_in == hot
        previous = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            train_chunks(*trainer.kernel_arguments(corpus, trainer.chunk_starts))
        finally:
            numba.set_num_threads(previous)
        results.append((trainer.input_rows.copy(), trainer.output_rows.copy()))
    (in_alone, out_alone), (in_private, out_private) = results
    # Rounding differences grow a little along the run (~1e-4); a change merged twice or never is ~0.1-1.
    np.testing.assert_allclose(in_private, in_alone, atol=1e-3)
    np.testing.assert_allclose(out_private, out_alone, atol=1e-3)
    assert np.abs(out_alone).max() > 0.1


@pytest.mark.parametrize("model, kernel", MODELS)
@pytest.mark.parametrize("loss", ["ns", "hs"])
def test_two_threads_on_private_copies_of_every_row_still_learn(topic_corpus, model, kernel, loss):
    # Every row private (hot_rows >= vocabulary): what the threads learn meets only in the merges.
    model = _train(topic_corpus, model=model, kernel=kernel, loss=loss, threads=2, hot_rows=1000)
    same, across = _topic_cosines(model)
    assert same > across + 0.3


def test_a_corpus_on_disk_trains_exactly_as_in_memory(topic_corpus, monkeypatch):
    from fastemb.text import corpus
    monkeypatch.setattr(corpus.DiskCorpus, "segment_tokens", 5_000)  # many segments
    in_memory = _train(topic_corpus, seed=2)
    on_disk = _train(topic_corpus, seed=2, on_disk=True)
    assert not in_memory.report["corpus_on_disk"] and on_disk.report["corpus_on_disk"]
    assert np.array_equal(in_memory.input_rows, on_disk.input_rows)


def test_the_memory_budget_sends_a_large_corpus_to_disk(topic_corpus, tmp_path):
    vocab, encoded = word2vec.read_corpus(str(topic_corpus), Word2VecConfig(min_count=1, max_memory=0.01),
                                      workdir=str(tmp_path))
    assert encoded.n_tokens == 36_000 and list(tmp_path.glob("*.int32"))  # 144 kB of ids > 10 kB budget
    tokens = np.concatenate(list(encoded.blocks()))
    _, in_memory = word2vec.read_corpus(str(topic_corpus), Word2VecConfig(min_count=1))
    assert np.array_equal(tokens, in_memory.tokens) and np.array_equal(encoded.offsets, in_memory.offsets)
    path = encoded.path
    del encoded
    import gc
    gc.collect()
    assert not list(tmp_path.glob("*.int32")), path  # scratch file removed with the corpus


def test_init_continues_from_existing_vectors_and_keeps_their_words(topic_corpus, tmp_path):
    from fastemb.models.vectors import Vectors, load_vectors, save_vectors
    first = _train(topic_corpus, epochs=1)
    old_words = first.vocab.words[:10] + ["zz_only_in_old"]
    old_rows = np.vstack([first.input_rows[:10], np.full((1, 20), 0.25, np.float32)])
    save_vectors(str(tmp_path / "old.txt"), old_words, old_rows)
    continued = _train(topic_corpus, epochs=1, lr=1e-9, min_lr=0.0, init=str(tmp_path / "old.txt"))
    vectors = continued.vectors
    assert "zz_only_in_old" in vectors and np.array_equal(vectors["zz_only_in_old"], old_rows[-1])
    for word, row in zip(old_words[:10], old_rows[:10]):  # lr ~ 0: rows stay where they were
        np.testing.assert_allclose(vectors[word], row, atol=1e-5)
    assert len(vectors) == len(first.vocab) + 1
    with pytest.raises(Exception, match="dimension 20 but --dim is 8"):
        _train(topic_corpus, dim=8, init=str(tmp_path / "old.txt"))


def test_a_checkpoint_between_disk_segments_resumes_exactly(topic_corpus, tmp_path, monkeypatch):
    # Ctrl-C right after the 6th step: epoch 2, segment 2 of 4
    config = Word2VecConfig(dim=20, min_count=1, epochs=3, threads=1, sample=0.0, on_disk=True, seed=4)
    reference, resumed, _ = stopped_and_resumed(topic_corpus, config, tmp_path, monkeypatch)
    assert np.array_equal(resumed.input_rows, reference.input_rows)
    assert np.array_equal(resumed.output_rows, reference.output_rows)


def test_hot_rows_are_off_with_one_thread_and_capped_at_a_quarter_of_the_table():
    one, two = Word2VecConfig(threads=1), Word2VecConfig(threads=2)
    assert one.hot(100_000) == 0
    assert two.hot(100_000) == 1024
    assert two.hot(8_000) == 500           # 2 threads x 500 rows x (copy + base) = a quarter of 8,000
    assert Word2VecConfig(threads=2, hot_rows=0).hot(100_000) == 0
    assert Word2VecConfig(threads=2, hot_rows=5_000).hot(300) == 300


@pytest.mark.parametrize("maxn", [0, 4])
def test_two_threads_train_the_initial_table_in_place_with_their_hot_rows_in_front(maxn):
    """The hot-row copies live in room made before the table, not in a second copy of it (a subword
    table is millions of rows); rows the run never touches keep their initial values."""
    config = Word2VecConfig(dim=8, window=2, negative=2, epochs=1, threads=2, min_count=1, maxn=maxn, buckets=5_000)
    vocab = Vocab([f"w{i}" for i in range(40)], np.arange(40, 0, -1, dtype=np.int64) * 10)
    tokens = np.random.default_rng(0).integers(0, 40, 4_000).astype(np.int32)
    job = word2vec.word2vec_job(Corpus(tokens, np.array([0, 4_000], np.int64)), vocab, config)
    initial = job.input_rows.copy()
    trainer = Trainer(job)
    assert trainer.hot_in > 0
    assert np.shares_memory(trainer.input_store, job.input_rows)
    assert trainer.input_store.shape[0] == len(job.input_rows) + 2 * trainer.hot_in * config.threads
    trainer.run()
    changed = (trainer.input_rows != initial).any(axis=1)
    assert changed[:40].all()
    if maxn:
        assert not changed[40:].all()  # buckets no word's n-grams hash to keep their initial rows


def test_init_from_a_checkpoint_continues_both_tables(topic_corpus, tmp_path):
    from fastemb.training.checkpoint import save_checkpoint
    trainer, _ = word2vec.prepare(str(topic_corpus), Word2VecConfig(dim=20, min_count=1, epochs=1, threads=1))
    trainer.run()
    save_checkpoint(str(tmp_path / "run.ckpt"), trainer, {})
    continued = _train(topic_corpus, epochs=1, lr=1e-9, min_lr=0.0, init=str(tmp_path / "run.ckpt"))
    order = [continued.vocab.words.index(w) for w in trainer.job.vocab.words]
    np.testing.assert_allclose(continued.input_rows[order], trainer.input_rows, atol=1e-5)
    np.testing.assert_allclose(continued.output_rows[order], trainer.output_rows, atol=1e-5)
    assert np.abs(trainer.output_rows).max() > 0.1  # the output side came from the checkpoint, not zeros


def test_init_refuses_a_checkpoint_whose_rows_are_not_one_per_word(topic_corpus, tmp_path):
    from fastemb.training.checkpoint import save_checkpoint
    from fastemb.base.errors import FastembError
    trainer, _ = word2vec.prepare(str(topic_corpus), Word2VecConfig(dim=8, min_count=1, epochs=1, threads=1, maxn=4,
                                                                   buckets=100))
    trainer.run()
    save_checkpoint(str(tmp_path / "subwords.ckpt"), trainer, {})
    with pytest.raises(FastembError, match="--init takes word2vec vectors or a skip-gram/CBOW checkpoint"):
        _train(topic_corpus, dim=8, init=str(tmp_path / "subwords.ckpt"))


@pytest.mark.parametrize("loss", ["ns", "hs"])
@pytest.mark.parametrize("threads", [1, 2])
def test_slow_rows_take_their_scale_of_every_step_and_the_others_the_whole(loss, threads):
    # A cluster worker's most frequent rows learn at a fraction of its rate (rounds.slow_rows): at scale 0
    # the 30 lowest ids of both tables never move, with the threads' private copies of hot rows too.
    from dataclasses import replace
    config = Word2VecConfig(dim=16, epochs=1, threads=threads, seed=3, loss=loss, hot_rows=100, min_count=1)
    vocab, corpus = word2vec.read_corpus(str(ROOT / "data" / "corpus.txt.gz"), config)
    job = word2vec.word2vec_job(corpus, vocab, config)
    inputs, outputs = job.input_rows.copy(), job.output_rows.copy()
    trainer = Trainer(replace(job, slow=(30, 0.0)))
    assert (trainer.hot_in, trainer.hot_out) == ((30, 30) if threads > 1 else (0, 0))
    trainer.run()
    assert np.array_equal(trainer.input_rows[:30], inputs[:30])
    assert np.array_equal(trainer.output_rows[:30], outputs[:30])
    assert np.all(np.any(trainer.input_rows[30:200] != inputs[30:200], axis=1))
    assert np.all(np.any(trainer.output_rows[30:200] != outputs[30:200], axis=1))
