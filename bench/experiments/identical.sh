#!/usr/bin/env bash
# Byte-for-byte reproducibility check for refactors: does a change alter any output?
#
#   bench/experiments/identical.sh CHECKOUT OUT_DIR          (PYTHON=/path/to/python to choose the interpreter)
#
# Runs a fixed set of small fastemb commands (skip-gram with each --kernel, CBOW, hierarchical softmax,
# a subword model with export and vectors, the classifier with each --loss and with word bigrams, each
# followed by predict and test, and a 2-worker local Dask cluster) with the code of CHECKOUT
# (PYTHONPATH=CHECKOUT) on CHECKOUT/data, all at --threads 1 --seed 1, and writes every output into
# OUT_DIR, then their sha256 into OUT_DIR/SHA256SUMS. Run it on two checkouts, e.g.
#
#   git worktree add --detach ../base ef2caa5
#   bench/experiments/identical.sh ../base /tmp/a && bench/experiments/identical.sh . /tmp/b
#   diff /tmp/a/SHA256SUMS /tmp/b/SHA256SUMS          # or: cmp /tmp/a/sg-batched.txt /tmp/b/sg-batched.txt
#
# A refactor must leave every file byte-identical (an empty diff). OUT_DIR/inputs.sha256 (also summed)
# records the input files, so a changed data/ shows up too. Nothing timed is compared: the training
# commands' progress and summary lines (timings) go to OUT_DIR/logs/, which SHA256SUMS leaves out, and
# no --report JSON is written (it holds timings; *.json is left out as well).
#
# OUT_DIR must be new or empty. The commands run from inside OUT_DIR: `python -m` puts the current
# folder first on sys.path, so running inside a checkout would import that checkout whatever
# PYTHONPATH says (see compare_commits.sh); the script checks which fastemb it imported. The first run
# on a checkout also compiles its Numba kernels (cached in the checkout's __pycache__): 2.5 min on 2
# cores against about 1 min for a warm run.
set -euo pipefail
if [ $# -ne 2 ]; then
  echo "usage: $0 CHECKOUT OUT_DIR" >&2
  exit 2
fi
checkout=$(realpath "$1")
python=${PYTHON:-python}
data=$checkout/data
mkdir -p "$2"
out=$(realpath "$2")
if [ -n "$(ls -A "$out")" ]; then
  echo "$0: $out is not empty (stale files would be summed); remove it or give a new directory" >&2
  exit 2
fi
cd "$out"
if [ -e fastemb ]; then
  echo "$0: $out holds a fastemb folder, which python -m would import instead of $checkout's" >&2
  exit 2
fi
export PYTHONPATH=$checkout
imported=$("$python" -c 'import fastemb, os; print(os.path.realpath(fastemb.__file__))')
if [ "$imported" != "$checkout/fastemb/__init__.py" ]; then
  echo "$0: $python imports fastemb from $imported, not from $checkout" >&2
  exit 2
fi
mkdir logs
common=(--threads 1 --seed 1 -q)
words=(--epochs 1 "${common[@]}")   # word vectors: 1 epoch of the 500,005-token corpus
labels=(--epochs 5 "${common[@]}")  # the classifier trains in 0.02 s, so its default 5 epochs
corpus=$data/corpus.txt.gz
train=$data/labelled-train.txt
test_set=$data/labelled-test.txt
started=$SECONDS

# run NAME COMMAND [ARGS...]: fastemb COMMAND ARGS, its stdout and stderr into logs/NAME.log
run() {
  local name=$1 t0=$SECONDS
  shift
  if ! "$python" -m fastemb.cli "$@" > "logs/$name.log" 2>&1; then
    echo "$0: fastemb $* failed; see $out/logs/$name.log" >&2
    cat "logs/$name.log" >&2
    exit 1
  fi
  printf '%4d s  %s\n' $((SECONDS - t0)) "fastemb $*" | tee -a logs/times.txt >&2
}
# capture FILE NAME COMMAND [ARGS...]: as run, but stdout (the output compared) into FILE
capture() {
  local file=$1 name=$2 t0=$SECONDS
  shift 2
  if ! "$python" -m fastemb.cli "$@" > "$file" 2> "logs/$name.log"; then
    echo "$0: fastemb $* failed; see $out/logs/$name.log" >&2
    cat "logs/$name.log" >&2
    exit 1
  fi
  printf '%4d s  %s > %s\n' $((SECONDS - t0)) "fastemb $*" "$file" | tee -a logs/times.txt >&2
}

(cd "$checkout" && sha256sum data/corpus.txt.gz data/labelled-train.txt data/labelled-test.txt) > inputs.sha256

# Word vectors (word2vec text format).
run sg-batched skipgram "$corpus" -o sg-batched.txt --kernel batched "${words[@]}"
run sg-pair    skipgram "$corpus" -o sg-pair.txt --kernel pair "${words[@]}"
run cbow       cbow "$corpus" -o cbow.txt "${words[@]}"
run sg-hs      skipgram "$corpus" -o sg-hs.txt --loss hs "${words[@]}"
run sg-hs-pair skipgram "$corpus" -o sg-hs-pair.txt --loss hs --kernel pair "${words[@]}"

# Subword model: vectors, the whole model, fastText's .bin, and the vectors of a vocabulary word and of
# an unseen one (the mean of its n-grams) from both. 20,000 buckets instead of the default 2,000,000
# keep the model at 9 MB instead of 800.
run sg-subword skipgram "$corpus" -o sg-subword.txt --maxn 6 --buckets 20000 --save-model m.npz "${words[@]}"
run export     export m.npz m.bin
capture vectors-npz.txt vectors-npz vectors m.npz paris parisville
capture vectors-bin.txt vectors-bin vectors m.bin paris parisville

# Classifier: each loss, and word bigrams; each model's top-3 predictions with probabilities and its
# precision and recall at 1 on the test set.
for loss in softmax ns hs ova; do
  run "sup-$loss" supervised "$train" -o "sup-$loss.npz" --loss "$loss" "${labels[@]}"
done
run sup-ngrams2 supervised "$train" -o sup-ngrams2.npz --word-ngrams 2 "${labels[@]}"
for model in softmax ns hs ova ngrams2; do
  capture "predict-$model.txt" "predict-$model" predict "sup-$model.npz" "$test_set" -k 3 --probabilities
  capture "test-$model.txt" "test-$model" test "sup-$model.npz" "$test_set"
done

# Distributed: 2 worker processes of 1 thread on this machine (rounds merged in shard order).
run sg-cluster skipgram "$corpus" -o sg-cluster.txt --cluster local:2 "${words[@]}"

find . -type f ! -name SHA256SUMS ! -name '*.json' ! -path './logs/*' -printf '%P\n' | LC_ALL=C sort \
  | while IFS= read -r f; do sha256sum "$f"; done > SHA256SUMS
printf '%4d s  in all; %d files summed in %s/SHA256SUMS\n' $((SECONDS - started)) "$(wc -l < SHA256SUMS)" "$out" \
  | tee -a logs/times.txt >&2
