"""Loading word2vec files: fastemb.load_vectors against gensim's load_word2vec_format and `cat`.

    python bench/load_vectors.py [--words 3000000] [--dim 300] [--text-words 300000] [--repeat 3]
                                 [--dir /tmp] [--out bench/out/load_vectors.json]

Generates a binary file of GoogleNews' shape (3 M x 300 by default, 3.6 GB; random vectors, words of
1-20 characters) and a text file of --text-words rows, once, in --dir. Each round runs, one after the
other in fresh processes: `cat FILE > /dev/null`, fastemb, gensim; the file stays in the page cache
after the first round. A loader's time is its call (imports done before: a user pays them once),
its peak the process's peak RSS. Medians over the rounds and the ratios are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

LOADERS = {
    "fastemb": "import fastemb\nload = lambda path, binary: len(fastemb.load_vectors(path, binary=binary))",
    "gensim": "from gensim.models import KeyedVectors\n"
              "load = lambda path, binary: len(KeyedVectors.load_word2vec_format(path, binary=binary))",
}
TIMED = """
import json, resource, sys, time
{loader}
started = time.perf_counter()
words = load(sys.argv[1], sys.argv[2] == "binary")
seconds = time.perf_counter() - started
print(json.dumps([words, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024]))
"""


def generate(path: Path, words: int, dim: int, binary: bool) -> None:
    """Random unit-free vectors for words w0, w1_a, ... (lengths 1-20), saved by fastemb in blocks."""
    import numpy as np
    sys.path.insert(0, str(ROOT))
    from fastemb.formats.word2vec import save_vectors
    rng = np.random.default_rng(0)
    names = [f"w{i}{'_' + 'abcdefghijklmnop'[:i % 17] if i % 17 else ''}" for i in range(words)]
    matrix = rng.standard_normal((words, dim), dtype=np.float32)
    save_vectors(str(path), names, matrix, binary=binary)


def timed(loader: str, path: Path, binary: bool) -> tuple[int, float, float]:
    done = subprocess.run([sys.executable, "-c", TIMED.format(loader=LOADERS[loader]), str(path),
                           "binary" if binary else "text"], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{loader} failed on {path}:\n{done.stderr}")
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


def cat_seconds(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(f"cat '{path}' > /dev/null", shell=True, check=True)
    return time.perf_counter() - started


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--generate"]:
        path, words, dim, kind = argv[1:5]
        generate(Path(path), int(words), int(dim), kind == "binary")
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=3_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--text-words", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default="/tmp")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "load_vectors.json"))
    args = parser.parse_args(argv)
    files = {"binary": Path(args.dir, f"vectors-{args.words}x{args.dim}.bin"),
             "text": Path(args.dir, f"vectors-{args.text_words}x{args.dim}.txt")}
    for kind, path in files.items():
        if not path.exists():  # in a child: the peaks of the loaders' processes must not start at this one's
            print(f"generating {path}", file=sys.stderr)
            subprocess.run([sys.executable, __file__, "--generate", str(path),
                            str(args.words if kind == "binary" else args.text_words), str(args.dim), kind], check=True)
    results = {}
    for kind, path in files.items():
        rounds = {"cat": [], "fastemb": [], "gensim": []}
        peaks = {"fastemb": [], "gensim": []}
        for _ in range(args.repeat):
            rounds["cat"].append(cat_seconds(path))
            for loader in ("fastemb", "gensim"):
                words, seconds, peak = timed(loader, path, kind == "binary")
                rounds[loader].append(seconds)
                peaks[loader].append(peak)
        median = {name: statistics.median(times) for name, times in rounds.items()}
        results[kind] = {"file": str(path), "bytes": path.stat().st_size, "words": words, "seconds": rounds,
                         "median": median, "peak_mb": {name: max(p) for name, p in peaks.items()},
                         "gensim_over_fastemb": median["gensim"] / median["fastemb"],
                         "fastemb_over_cat": median["fastemb"] / median["cat"]}
        print(f"{kind}: {words:,} x {args.dim} ({path.stat().st_size / 2**20:,.0f} MB): cat {median['cat']:.2f} s, "
              f"fastemb {median['fastemb']:.2f} s (peak {max(peaks['fastemb']):,.0f} MB), gensim "
              f"{median['gensim']:.2f} s (peak {max(peaks['gensim']):,.0f} MB); gensim / fastemb "
              f"{results[kind]['gensim_over_fastemb']:.2f}, fastemb / cat {results[kind]['fastemb_over_cat']:.2f}")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(results, handle, indent=2)


if __name__ == "__main__":
    main()
