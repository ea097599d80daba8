"""The training loss is right: each epoch's, summed over threads in float64 after they finish (no race), the
same with 1 and 2 threads, falling as training goes on, above zero for subword models, and not stuck at a
power of two after 10^8 updates (gensim's issues 2617, 2735, 2743, 3228 as regression tests)."""
import math

import numpy as np
import pytest

import fastemb

MODELS = {
    "skipgram": dict(model="skipgram"),
    "cbow": dict(model="cbow"),
    "skipgram-hs": dict(model="skipgram", loss="hs"),
    "subword skipgram": dict(model="skipgram", maxn=5, buckets=20_000),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """200,000 tokens of four topics: words co-occur within their topic, so the loss has something to learn."""
    rng = np.random.default_rng(7)
    topics = [[f"{topic}{i}" for i in range(50)] for topic in "abcd"]
    lines = [" ".join(rng.choice(topics[line % 4], size=20)) for line in range(10_000)]
    path = tmp_path_factory.mktemp("loss") / "corpus.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def losses(corpus, threads, **settings):
    seen = []
    model = fastemb.train_unsupervised(str(corpus), quiet=True, dim=16, epochs=4, min_count=1, threads=threads,
                                       seed=3, on_epoch=lambda epoch, loss: seen.append((epoch, loss)),
                                       **settings)
    assert seen == list(enumerate(model.report["epoch_losses"], 1))  # the hook and the report agree
    return model.report["epoch_losses"]


@pytest.mark.parametrize("name", MODELS)
def test_each_epochs_loss_is_the_same_with_1_and_2_threads_and_falls(corpus, name):
    one, two = losses(corpus, 1, **MODELS[name]), losses(corpus, 2, **MODELS[name])
    assert len(one) == len(two) == 4 and min(one) > 0
    np.testing.assert_allclose(two, one, rtol=0.02)
    assert one[-1] < one[0] and two[-1] < two[0]


def test_the_classifiers_loss_per_epoch(tmp_path):
    rng = np.random.default_rng(1)  # shared words and one label in five flipped: a loss that stays well above 0
    lines = [f"__label__{'xy'[(i + (rng.random() < 0.2)) % 2]} "
             + " ".join(rng.choice([f"{'xy'[i % 2]}{j}" for j in range(30)] + [f"s{j}" for j in range(30)], size=8))
             for i in range(4_000)]
    path = tmp_path / "labelled.txt"
    path.write_text("\n".join(lines) + "\n")
    per_epoch = {threads: fastemb.train_supervised(str(path), quiet=True, dim=8, epochs=5, threads=threads,
                                                   seed=2).report["epoch_losses"] for threads in (1, 2)}
    assert per_epoch[1][-1] < per_epoch[1][0] and min(per_epoch[1]) > 0
    np.testing.assert_allclose(per_epoch[2], per_epoch[1], rtol=0.02)


def test_the_loss_sum_of_10_to_the_8_updates_is_not_stuck(tmp_path):
    """A float32 running sum stops growing near 2^27 (gensim 2735); here each thread sums in float64."""
    rng = np.random.default_rng(4)
    path = tmp_path / "big.txt"
    with open(path, "w") as handle:
        for _ in range(10):
            handle.write("\n".join(" ".join(line) for line in rng.choice([f"w{i}" for i in range(1_000)],
                                                                          size=(50_000, 20))) + "\n")
    model = fastemb.train_unsupervised(str(path), quiet=True, dim=8, epochs=1, min_count=1, window=5, sample=0,
                                       threads=2, seed=1)
    report = model.report
    assert report["scored"] >= 1e8, report["scored"]
    assert report["loss_sum"] > 2 ** 27 and math.log2(report["loss_sum"]) % 1 != 0
    assert report["loss_sum"] / report["scored"] == pytest.approx(report["loss"], rel=1e-9)
