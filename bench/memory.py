"""Peak memory of `fastemb skipgram --on-disk` on a corpus and on the same corpus repeated.

    python bench/memory.py [CORPUS] [--times 4] [--epochs 1] [--out bench/out/memory.json]

Builds the repeated corpus as a multi-member .gz in a temporary folder (no copy of the
data stays), runs each training in a subprocess and reads its peak RSS from the kernel
(getrusage of the child). Prints the figures next to the size of the model matrices.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_of(command: list[str]) -> tuple[float, float, dict]:
    """Run ``command`` in a fresh process (via a tiny wrapper); returns (peak MB, wall s, report)."""
    wrapper = ("import resource, subprocess, sys, json; p = subprocess.run(sys.argv[1:]); "
               "print(json.dumps([p.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True, text=True)
    code, peak_kb = json.loads(done.stdout.strip().splitlines()[-1])
    if code != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
    return peak_kb / 1024, time.perf_counter() - started, {}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "data" / "en-mix.txt.gz"))
    parser.add_argument("--times", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "out" / "memory.json"))
    args = parser.parse_args(argv)
    results = []
    with tempfile.TemporaryDirectory(prefix="fastemb-memory-") as scratch:
        repeated = os.path.join(scratch, f"x{args.times}.txt.gz")
        with open(repeated, "wb") as out:
            for _ in range(args.times):
                with open(args.corpus, "rb") as part:
                    shutil.copyfileobj(part, out)
        # The repeated corpus keeps the same vocabulary (and model size) with min-count x times.
        for label, path, min_count in (("1x", args.corpus, args.min_count),
                                       (f"{args.times}x", repeated, args.min_count * args.times)):
            report = os.path.join(scratch, f"{label}.json")
            command = ["fastemb", "skipgram", path, "-o", os.path.join(scratch, f"{label}.bin"), "--binary",
                       "--on-disk", "--epochs", str(args.epochs), "--dim", str(args.dim), "--quiet",
                       "--min-count", str(min_count),
                       "--report", report]
            peak, wall, _ = peak_rss_of(command)
            figures = json.load(open(report))
            model_mb = 2 * figures["vocab_size"] * args.dim * 4 / 2**20
            results.append({"corpus": label, "tokens": figures["corpus_tokens"], "vocab": figures["vocab_size"],
                            "peak_rss_mb": round(peak, 1), "model_mb": round(model_mb, 1),
                            "over_model_mb": round(peak - model_mb, 1), "wall_s": round(wall, 1),
                            "command": " ".join(command)})
            print(json.dumps(results[-1]))
    growth = results[1]["peak_rss_mb"] / results[0]["peak_rss_mb"] - 1
    print(f"peak RSS grows {100 * growth:.1f}% for {args.times}x the tokens")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as handle:
        json.dump({"runs": results, "growth": growth}, handle, indent=2)


if __name__ == "__main__":
    main()
