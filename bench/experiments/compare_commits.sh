#!/usr/bin/env bash
# Words/sec of two fastemb checkouts on the same corpus, interleaved (A B A B ...), whole command.
#
#   bench/experiments/compare_commits.sh OLD_DIR NEW_DIR CORPUS OUT_DIR ROUNDS [fastemb skipgram options...]
#   COMMAND=supervised bench/experiments/compare_commits.sh OLD_DIR NEW_DIR TRAIN OUT_DIR ROUNDS [options...]
#
# OLD_DIR and NEW_DIR are checkouts (e.g. `git worktree add --detach ../old 50e139d`); each
# keeps its own Numba cache. Prints one line per run and the median of the per-round
# ratios new/old. Runs from OUT_DIR: `python -m` puts the current folder first on sys.path,
# so running inside a checkout would import that checkout whatever PYTHONPATH says.
set -euo pipefail
old=$(realpath "$1"); new=$(realpath "$2"); corpus=$(realpath "$3"); out=$4; rounds=$5; shift 5
python=${PYTHON:-python}
command=${COMMAND:-skipgram}  # any training command; its --report gives words_per_sec
suffix=txt; [ "$command" = supervised ] && suffix=npz
mkdir -p "$out"; cd "$out"
ratios=()
for r in $(seq 1 "$rounds"); do
  declare -A rate
  for side in old new; do
    dir=$old; [ "$side" = new ] && dir=$new
    PYTHONPATH=$dir "$python" -m fastemb.cli "$command" "$corpus" -o "v-$side-$r.$suffix" --report "r-$side-$r.json" -q "$@" \
      > "log-$side-$r.txt" 2>&1
    rate[$side]=$("$python" -c "import json; print(json.load(open('r-$side-$r.json'))['words_per_sec'])")
    printf '%s round %d: %.0f words/sec\n' "$side" "$r" "${rate[$side]}"
  done
  ratios+=("$("$python" -c "print(${rate[new]} / ${rate[old]})")")
done
"$python" -c "import statistics, sys; r = [float(x) for x in sys.argv[1:]]; \
print('new/old per round:', ', '.join(f'{x:.3f}' for x in r), '; median', f'{statistics.median(r):.3f}')" "${ratios[@]}"
