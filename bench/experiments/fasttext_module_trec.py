"""The same fastText program on fastText's `fasttext` package and on `fastemb.fasttext`: TREC, epoch 25,
wordNgrams 2, then quantize(qnorm=True). One JSON line per run.

    cd DIR_WITH_train.txt_AND_test.txt && python bench/experiments/fasttext_module_trec.py fasttext|fastemb SEED

(train.txt and test.txt: TREC in fastText's format, as the README's sed lines make them.) Each run
is its own process; run the two interleaved.
"""
import json, os, sys, time
which, seed = sys.argv[1], int(sys.argv[2])
if which == "fasttext":
    import fasttext
else:
    import fastemb.fasttext as fasttext
t = time.perf_counter()
model = fasttext.train_supervised(input="train.txt", epoch=25, wordNgrams=2, seed=seed, verbose=0)
train = time.perf_counter() - t
_, p1, _ = model.test("test.txt")
model.save_model(f"{which}.bin")
t = time.perf_counter()
model.quantize(qnorm=True)
quantize = time.perf_counter() - t
_, q1, _ = model.test("test.txt")
model.save_model(f"{which}.ftz")
print(json.dumps({"which": which, "seed": seed, "train_s": train, "p1": p1, "quantize_s": quantize, "p1_quantized": q1,
                  "bin_bytes": os.path.getsize(f"{which}.bin"), "ftz_bytes": os.path.getsize(f"{which}.ftz")}))
