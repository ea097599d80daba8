"""Reading a large fastText .bin: peak memory and time to the first answer.

    python bench/experiments/fasttext_bin.py [--words 2000000] [--buckets 2000000] [--dim 300] [--dir DIR]
                                 [--out bench/out/fasttext-bin.json]

Writes a fastText 0.9 model file of the size of Facebook's published ``cc.en.300.bin``
(2 M words, 2 M buckets, dim 300: 7.2 GB) into a temporary folder under ``--dir``
(deleted afterwards; the matrices are zeros but for a few random rows, written from
a sparse memory map, so writing needs neither the memory nor the time of real vectors),
then runs, each in a fresh process, ``fastemb vectors`` for a vocabulary word, a
word outside the vocabulary (its n-grams) and both, and reports each process's peak
RSS (getrusage of the child) and wall time, against the file's size; with ``--cold`` the
page cache is dropped before each query, so the file is read from the disk. The printed
vectors are checked against the rows written.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.memory import peak_rss_of  # noqa: E402
from fastemb.formats.fasttext import FastTextModelFile, write_fasttext  # noqa: E402
from fastemb.base.config import SubwordSettings  # noqa: E402
from fastemb.text.subwords import word_subword_rows  # noqa: E402


def big_model(folder: str, n_words: int, n_buckets: int, dim: int, seed: int = 1) -> tuple[str, dict]:
    """Write the model file; returns its path and the rows that were made non-zero (word -> vector)."""
    words = [f"w{i}" for i in range(n_words)]
    input_rows = np.memmap(os.path.join(folder, "input.f32"), np.float32, "w+", shape=(n_words + n_buckets, dim))
    output_rows = np.memmap(os.path.join(folder, "output.f32"), np.float32, "w+", shape=(n_words, dim))
    rng = np.random.default_rng(seed)
    marked = [0, n_words // 2, n_words - 1]
    for i in marked:
        input_rows[i] = rng.standard_normal(dim).astype(np.float32)
    model = FastTextModelFile.from_arrays({"dim": dim, "bucket": n_buckets, "model": "sg", "minn": 3, "maxn": 6},
                                          words, np.arange(n_words, 0, -1), [], [], input_rows, output_rows)
    path = os.path.join(folder, "big.bin")
    write_fasttext(path, model)
    expected = {words[i]: np.array(input_rows[i]) for i in marked}
    del input_rows, output_rows, model
    for name in ("input.f32", "output.f32"):
        os.remove(os.path.join(folder, name))
    return path, expected


def composed(expected_rows: dict, word: str, n_words: int, settings: SubwordSettings) -> np.ndarray:
    """The vector fastText composes for a vocabulary word whose n-gram rows are all zero."""
    return expected_rows[word] / len(word_subword_rows(word, settings, n_words, 0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--words", type=int, default=2_000_000)
    parser.add_argument("--buckets", type=int, default=2_000_000)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--dir", default=tempfile.gettempdir(), help="where the temporary model file goes")
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "fasttext-bin.json"))
    parser.add_argument("--cold", action="store_true",
                        help="drop the page cache before each query (root: /proc/sys/vm/drop_caches)")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="fastemb-bin-", dir=args.dir) as folder:
        started = time.perf_counter()
        path, expected = big_model(folder, args.words, args.buckets, args.dim)
        write_seconds = time.perf_counter() - started
        size_mb = os.path.getsize(path) / 2**20
        print(f"wrote {path}: {size_mb:,.0f} MB in {write_seconds:.1f} s")
        settings = SubwordSettings(3, 6, args.buckets)
        known = f"w{args.words // 2}"
        for label, words in (("a vocabulary word", [known]), ("an unseen word", ["unseenword"]),
                             ("both", [known, "unseenword"])):
            command = [sys.executable, "-m", "fastemb.cli", "vectors", path, *words]
            if args.cold:
                os.sync()
                with open("/proc/sys/vm/drop_caches", "w") as handle:
                    handle.write("3\n")
            peak, wall, _ = peak_rss_of(command)
            out = subprocess.run(command, capture_output=True, text=True, check=True).stdout.splitlines()
            got = np.array(out[0].split()[1:], dtype=np.float32)
            if words[0] == known:
                np.testing.assert_allclose(got, composed(expected, known, args.words, settings), atol=1e-5)
            runs.append({"query": label, "command": "fastemb vectors big.bin " + " ".join(words),
                         "peak_rss_mb": round(peak, 1), "wall_s": round(wall, 2)})
            print(json.dumps(runs[-1]))
    result = {"file_mb": round(size_mb, 1), "cold_cache": args.cold, "words": args.words, "buckets": args.buckets, "dim": args.dim,
              "write_seconds": round(write_seconds, 1), "runs": runs}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
