"""The one trainer with the classifier's data: examples trained from disk, a segment at a time, and resumed."""
import numpy as np
import pytest

from fastemb.text import corpus
from fastemb.training import supervised
from fastemb.base.config import SupervisedConfig

from conftest import ROOT, checkpoint_after_steps

TRAIN = ROOT / "data" / "labelled-train.txt"
SETTINGS = {"dim": 16, "epochs": 3, "threads": 1, "seed": 4, "word_ngrams": 2, "buckets": 5_000}


@pytest.fixture
def small_segments(monkeypatch):
    monkeypatch.setattr(corpus.DiskCorpus, "segment_tokens", 20_000)  # about 10 segments per epoch


def _trained(config, workdir):
    trainer, report = supervised.prepare(str(TRAIN), config, workdir=str(workdir))
    trainer.run()
    return trainer, report


def test_examples_over_the_memory_budget_train_from_disk_exactly_as_in_memory(tmp_path, small_segments):
    in_memory, report = _trained(SupervisedConfig(**SETTINGS), tmp_path)
    on_disk, disk_report = _trained(SupervisedConfig(**SETTINGS, max_memory=0.05), tmp_path)
    assert not report["corpus_on_disk"] and disk_report["corpus_on_disk"]
    assert len(on_disk.segments) > 5 and list(tmp_path.glob(".fastemb-*-examples-*"))
    assert np.array_equal(in_memory.input_rows, on_disk.input_rows)
    assert np.array_equal(in_memory.output_rows, on_disk.output_rows)
    del on_disk
    import gc
    gc.collect()
    assert not list(tmp_path.glob(".fastemb-*-examples-*"))  # the scratch file goes with the data


def test_a_classifier_checkpoint_between_disk_segments_resumes_exactly(tmp_path, small_segments, monkeypatch):
    config = dict(SETTINGS, on_disk=True)
    reference, _ = _trained(SupervisedConfig(**config), tmp_path)
    trainer, _ = supervised.prepare(str(TRAIN), SupervisedConfig(**config), workdir=str(tmp_path))
    # Ctrl-C right after a step inside epoch 2
    saved = checkpoint_after_steps(trainer, len(trainer.segments) + 2, tmp_path / "run.ckpt", monkeypatch,
                                   "epoch 2 of 3")
    assert saved["meta"]["objective"] == "supervised"
    assert saved["labels"] == trainer.job.labels.words
    resumed, _ = supervised.prepare(str(TRAIN), SupervisedConfig(**config), vocab=trainer.job.vocab,
                                    labels=trainer.job.labels, frozen=saved["frozen"], workdir=str(tmp_path))
    resumed.restore(saved)
    resumed.run()
    assert np.array_equal(resumed.input_rows, reference.input_rows)
    assert np.array_equal(resumed.output_rows, reference.output_rows)


@pytest.mark.parametrize("loss", ["softmax", "ova", "hs"])
def test_two_threads_with_private_label_rows_learn_the_classifier(loss, tmp_path):
    # Every label row and the 100 most frequent words are private to each thread, merged every chunk.
    trainer, _ = _trained(SupervisedConfig(**dict(SETTINGS, threads=2, hot_rows=100, loss=loss, epochs=10)), tmp_path)
    assert trainer.hot_in == 100 and trainer.hot_out == len(trainer.output_rows)
    model = supervised.finish_report(trainer, {})
    _, precision, _ = model.test(str(ROOT / "data" / "labelled-test.txt"))
    assert precision > 0.9
