"""fastText's subword models trained on the one trainer: sparse updates, unseen words, files."""
import numpy as np
import pytest

import fastemb
from fastemb.base.config import Word2VecConfig
from fastemb.text.corpus import Corpus
from fastemb.kernels.sampling import alias_table
from fastemb.text.subwords import vocabulary_subword_rows
from fastemb.training.trainer import Trainer
from fastemb.text.vocab import Vocab
from fastemb.training.word2vec import word2vec_job

from conftest import ROOT

CORPUS = ROOT / "data" / "corpus.txt.gz"
SUBWORDS = {"maxn": 6, "minn": 3, "buckets": 50_000}


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
@pytest.mark.parametrize("threads, hot", [(1, 0), (2, 50)])
def test_a_step_moves_only_the_subword_rows_of_the_window_and_its_targets(model, threads, hot):
    words = [f"w{i:03d}" for i in range(100)]
    vocab = Vocab(words, np.full(100, 5, np.int64))
    config = Word2VecConfig(model=model, dim=8, window=1, negative=3, epochs=1, threads=threads, sample=0.0,
                            hot_rows=hot, **SUBWORDS)
    job = word2vec_job(Corpus(np.array([10, 20], np.int32), np.array([0, 2], np.int64)), vocab, config)
    noise = np.zeros(100)
    noise[[50, 60]] = 0.5
    job.samplers = (job.samplers[0], alias_table(noise), *job.samplers[2:])
    before_in, before_out = job.input_rows.copy(), job.output_rows.copy()
    trainer = Trainer(job)
    trainer.run()
    rows, offsets = vocabulary_subword_rows(words, config.subword_settings)
    window = set(rows[offsets[10]:offsets[11]]) | set(rows[offsets[20]:offsets[21]])
    changed_in = set(np.flatnonzero(np.any(trainer.input_rows != before_in, axis=1)))
    changed_out = set(np.flatnonzero(np.any(trainer.output_rows != before_out, axis=1)))
    assert changed_in == window and len(window) > 2 + 10  # both words' own rows and their n-grams' rows
    assert {10, 20} <= changed_out <= {10, 20, 50, 60} and changed_out & {50, 60}


@pytest.fixture(scope="module")
def subword_model():
    return fastemb.train_unsupervised(CORPUS, threads=2, quiet=True, **SUBWORDS)


def test_unseen_inflections_land_next_to_their_stem_where_a_word_model_has_no_vector(subword_model):
    # Plurals of the planted words that the corpus never has: their vectors come from n-grams alone.
    vocab = set(subword_model.words)
    planted = {w for line in (ROOT / "data" / "analogies.txt").read_text().splitlines()
               if line and not line.startswith(":") for w in line.split() if len(w) >= 5}
    unseen = [(w, w + "s") for w in sorted(planted) if w + "s" not in vocab]
    assert len(unseen) > 100
    vectors = subword_model.vectors
    found = sum(stem in dict(vectors.most_similar(subword_model.get_word_vector(word), topn=5))
                for stem, word in unseen)
    word_model = fastemb.train_unsupervised(CORPUS, threads=2, quiet=True)
    with pytest.raises(KeyError):
        word_model.get_word_vector(unseen[0][1])  # a word-level model knows nothing of them
    assert found >= 0.8 * len(unseen), (found, len(unseen))


def test_the_output_file_holds_the_composed_vectors_and_the_model_file_any_word(subword_model, tmp_path):
    subword_model.save_vectors(str(tmp_path / "v.txt"))
    saved = fastemb.load_vectors(str(tmp_path / "v.txt"))
    assert saved.words == subword_model.words
    np.testing.assert_allclose(saved["king"], subword_model.get_word_vector("king"), atol=1e-5)
    assert not np.allclose(saved["king"], subword_model.input_rows[subword_model.words.index("king")])
    subword_model.save(str(tmp_path / "m.npz"))
    loaded = fastemb.load_model(str(tmp_path / "m.npz"))
    assert np.array_equal(loaded.get_word_vector("kingdoms"), subword_model.get_word_vector("kingdoms"))
    assert np.abs(loaded.get_word_vector("kingdoms")).sum() > 0


def test_max_n_zero_is_the_word2vec_model(tmp_path):
    word = fastemb.train_unsupervised(CORPUS, threads=1, epochs=1, quiet=True)
    zero = fastemb.train_unsupervised(CORPUS, threads=1, epochs=1, quiet=True, maxn=0, minn=3, buckets=10)
    assert np.array_equal(word.input_rows, zero.input_rows) and word.input_rows.shape[0] == len(word.words)


def test_a_subword_model_goes_to_fasttext_with_the_same_vectors(subword_model, tmp_path):
    fasttext = pytest.importorskip("fasttext")
    from fastemb.formats.fasttext import from_word2vec, write_fasttext
    write_fasttext(str(tmp_path / "m.bin"), from_word2vec(subword_model))
    theirs = fasttext.load_model(str(tmp_path / "m.bin"))
    for word in ("king", "swimming", "kingdoms", "unseenword"):
        np.testing.assert_allclose(theirs.get_word_vector(word), subword_model.get_word_vector(word), atol=1e-6)


def test_the_cli_saves_a_subword_model_and_answers_for_unseen_words_and_exports_it(tmp_path):
    from conftest import run_cli
    done = run_cli("skipgram", CORPUS, "-o", tmp_path / "v.txt", "--save-model", tmp_path / "m.npz", "--maxn", 5,
                   "--buckets", 20_000, "--epochs", 1, "--threads", 1, "--quiet")
    assert done.returncode == 0 and "m.npz (" in done.stdout, done.stderr
    shown = run_cli("vectors", tmp_path / "m.npz", "kings", "king")
    model = fastemb.load_model(str(tmp_path / "m.npz"))
    for line, word in zip(shown.stdout.splitlines(), ("kings", "king")):
        values = np.array(line.split()[1:], dtype=np.float32)
        assert line.split()[0] == word
        np.testing.assert_allclose(values, model.get_word_vector(word), rtol=1e-4, atol=1e-5)
    near = run_cli("neighbors", tmp_path / "m.npz", "kings", "-k", "3")
    assert near.returncode == 0 and near.stdout.startswith("kings: ") and "not in the vocabulary" not in near.stdout
    exported = run_cli("export", tmp_path / "m.npz", tmp_path / "m.bin")
    assert exported.returncode == 0, exported.stderr
    again = run_cli("vectors", tmp_path / "m.bin", "kings", "king")
    assert again.stdout == shown.stdout  # fastText's file gives the same vectors, unseen words included


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
def test_a_subword_run_stopped_mid_way_resumes_from_its_checkpoint_to_the_same_model(model, topic_corpus, tmp_path,
                                                                                     monkeypatch):
    from conftest import stopped_and_resumed
    config = Word2VecConfig(model=model, dim=16, min_count=1, epochs=3, threads=1, sample=0.0, on_disk=True, seed=4,
                            maxn=5, minn=3, buckets=20_000)
    reference, resumed, saved = stopped_and_resumed(topic_corpus, config, tmp_path, monkeypatch)
    assert saved["input_rows"].shape[0] == len(resumed.job.vocab) + 20_000  # the bucket rows are saved too
    assert np.array_equal(resumed.input_rows, reference.input_rows)
    assert np.array_equal(resumed.output_rows, reference.output_rows)
