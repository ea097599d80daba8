"""The benchmarked tools: how each is found, how the shared settings map onto its flags, how it is timed.

Every tool trains word2vec vectors (no subwords) from the same plain-text file with
the same hyper-parameters. ``Settings.model`` (skip-gram or CBOW) and
``Settings.loss`` (negative sampling or hierarchical softmax) are settings like
the others; the entries without a suffix train skip-gram with negative sampling,
``NAME-cbow`` and ``NAME-hs`` are the same tools with CBOW or hierarchical softmax.
``_objective`` maps model and loss, ``_model_flags`` the rest:

============ =========================== =========================== ===================== ======================
setting       fastemb                     gensim Word2Vec             word2vec C            fastText
============ =========================== =========================== ===================== ======================
model         skipgram | cbow             sg=1 | sg=0                 -cbow 0 | -cbow 1     skipgram | cbow
CBOW context  mean | --cbow-sum           cbow_mean=1 | 0             mean only             mean only
loss          ns | --loss hs              hs=0 | hs=1 negative=0      -hs 0 | -hs 1         ns | -loss hs
dim           --dim                       vector_size                 -size                 -dim
window        --window                    window                      -window               -ws
negative      --negative (not with hs)    negative                    -negative (0 with hs) -neg (not with hs)
sample        --sample                    sample                      -sample               -t
min-count     --min-count                 min_count                   -min-count            -minCount
epochs        --epochs                    epochs                      -iter                 -epoch
threads       --threads                   workers                     -threads              -thread
lr            --lr LR --min-lr 1e-4       alpha LR min_alpha 1e-4     -alpha LR             -lr LR (decays to 0)
subwords      --maxn --minn --buckets     (none)                      (none)                -maxn -minn -bucket
other         --kernel batched|pair       seed=1                      -binary 0             -seed 1
============ =========================== =========================== ===================== ======================

LR is ``--lr`` when given, else word2vec's default for the model (0.025 skip-gram,
0.05 CBOW), passed explicitly to every tool. ``--kernel`` chooses between fastemb's
skip-gram negative-sampling kernels; CBOW and hierarchical-softmax runs of the
``fastemb`` entry get fastemb's default kernel (no ``--kernel`` flag).

How the training time is known (words/sec = corpus tokens x epochs / train time, the
same numerator for every tool):

* fastemb: its ``--report`` JSON (read, compile, train, save seconds).
* gensim: ``bench/runners/gensim_runner.py`` times ``build_vocab`` (read), ``train()`` and
  ``save_word2vec_format``; ``model.total_train_time`` is kept too.
* word2vec C: from outside. Training starts when the first ``Alpha: ... Progress``
  line arrives (printed after the first 10,000 words of a thread, so within a few
  ms of the start) and ends when the output file appears (word2vec.c opens it right
  after joining the training threads). Reading = start of the process to the start
  of training (includes allocating and initialising the matrices).
* fastText (CLI and Python): from outside. Training starts when ``Number of labels:``
  arrives on stderr (printed at the end of reading) and ends at the newline after
  the final ``Progress: 100.0%`` line. Its main thread polls every 100 ms, so the
  end is up to 0.1 s late; that is the tool's own cost.
"""
from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, replace
from importlib.metadata import PackageNotFoundError, version as package_version
from importlib.util import find_spec
from pathlib import Path

from .harness import ChildRun

BENCH_DIR = Path(__file__).resolve().parent


MODELS = ("sg", "cbow")
LOSSES = ("ns", "hs")
DEFAULT_LR = {"sg": 0.025, "cbow": 0.05}  # word2vec.c's -alpha defaults


@dataclass
class Settings:
    epochs: int = 5
    dim: int = 100
    window: int = 5
    negative: int = 5
    sample: float = 1e-4
    min_count: int = 5
    threads: int = 2
    lr: float | None = None  # None: DEFAULT_LR of the model
    min_lr: float = 0.0001
    seed: int = 1
    model: str = "sg"
    loss: str = "ns"
    cbow_mean: bool = True  # CBOW: mean (word2vec) or sum of the context rows
    maxn: int = 0           # fastText's subword model when > 0: character n-grams of minn..maxn characters
    minn: int = 3
    buckets: int = 2_000_000

    def asdict(self) -> dict:
        return asdict(self)

    @property
    def alpha(self) -> float:
        """The initial learning rate every tool is given."""
        return self.lr if self.lr is not None else DEFAULT_LR[self.model]

    @property
    def objective(self) -> str:
        """'' for skip-gram with negative sampling, else what differs: 'cbow', 'cbow-sum', 'hs', 'cbow-hs' ..."""
        parts = []
        if self.model == "cbow":
            parts.append("cbow" if self.cbow_mean else "cbow-sum")
        if self.loss == "hs":
            parts.append("hs")
        if self.maxn:
            parts.append("sub")
        return "-".join(parts)


def _num(x) -> str:
    return f"{x:g}"


def _model_flags(s: Settings) -> list[str]:
    """The settings every --flag style runner (fastemb, gensim_runner, fasttext_runner) takes alike.

    No --negative with hierarchical softmax: fastemb and fastText ignore it there,
    gensim_runner sets negative=0 (gensim would otherwise train both losses).
    """
    negative = ["--negative", str(s.negative)] if s.loss == "ns" else []
    return ["--dim", str(s.dim), "--window", str(s.window), *negative,
            "--sample", _num(s.sample), "--min-count", str(s.min_count), "--epochs", str(s.epochs),
            "--threads", str(s.threads)]


def _objective(s: Settings, family: str) -> tuple[str, list[str]]:
    """(subcommand, flags) telling a tool of ``family`` the model and the loss: the one place they are mapped.

    Families: fastemb (its CLI), gensim (gensim_runner.py), fasttext (fasttext_runner.py),
    fasttext-cli, word2vec-c. Defaults (skip-gram, negative sampling) add no flag where
    the tool's own default is that, so the plain entries' commands are the tools' usual ones.
    """
    cbow, hs = s.model == "cbow", s.loss == "hs"
    subcommand = "cbow" if cbow else "skipgram"
    if family == "fastemb":
        subwords = ["--maxn", str(s.maxn), "--minn", str(s.minn), "--buckets", str(s.buckets)] if s.maxn else []
        return subcommand, ((["--loss", "hs"] if hs else []) + (["--cbow-sum"] if cbow and not s.cbow_mean else [])
                            + subwords)
    if family == "gensim":
        return "", (["--sg", "0" if cbow else "1", "--hs", "1" if hs else "0"]
                    + (["--cbow-mean", "1" if s.cbow_mean else "0"] if cbow else []))
    if family == "fasttext":
        return subcommand, (["--loss", "hs"] if hs else []) + ["--minn", str(s.minn), "--maxn", str(s.maxn),
                                                                "--bucket", str(s.buckets)]
    if family == "fasttext-cli":  # minn/maxn always given: fastText's own defaults are 3/6 (subwords on)
        return subcommand, (["-loss", "hs"] if hs else []) + ["-minn", str(s.minn if s.maxn else 0), "-maxn",
                                                              str(s.maxn), "-bucket", str(s.buckets)]
    if family == "word2vec-c":
        return "", ["-cbow", "1" if cbow else "0", "-hs", "1" if hs else "0"]
    raise ValueError(f"unknown tool family {family!r}")


def _mean_only(s: Settings) -> str | None:
    return "averages the CBOW context (no sum)" if s.model == "cbow" and not s.cbow_mean else None


def _no_subwords(s: Settings) -> str | None:
    return "has no subword model here (its Word2Vec)" if s.maxn else None


def _is_elf(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            return handle.read(4) == b"\x7fELF"
    except OSError:
        return False


def find_word2vec_c() -> str | None:
    """The compiled ``word2vec`` of PyPI's word2vec package (next to this Python, not a pyenv shim), or on PATH."""
    candidates = [Path(sys.executable).parent / "word2vec", Path(sys.prefix) / "bin" / "word2vec"]
    found = shutil.which("word2vec")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.exists() and _is_elf(str(candidate)):
            return str(candidate)
    return None


def find_fasttext_cli() -> str | None:
    for candidate in (shutil.which("fasttext"), "/usr/bin/fasttext"):
        if candidate and Path(candidate).exists() and _is_elf(candidate):
            return candidate
    return None


def _pkg(name: str) -> str | None:
    try:
        return package_version(name)
    except PackageNotFoundError:
        return None


def _dpkg(name: str) -> str | None:
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True, timeout=10)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def tool_versions() -> dict:
    """Versions of everything benchmarked, for the results' header."""
    versions = {"python": sys.version.split()[0]}
    for name in ("fastemb", "numba", "numpy", "scipy", "gensim", "fasttext", "word2vec", "matplotlib"):
        versions[name] = _pkg(name)
    w2v = find_word2vec_c()
    if w2v:
        banner = subprocess.run([w2v], capture_output=True, text=True).stdout.splitlines()
        versions["word2vec-c"] = f"{banner[0].strip() if banner else '?'} ({w2v}, from PyPI word2vec " \
                                 f"{versions['word2vec']})"
    cli = find_fasttext_cli()
    if cli:
        versions["fasttext-cli"] = f"{_dpkg('fasttext') or '?'} (Debian package; {cli})"
    return versions


# ---------------------------------------------------------------------------------------------
# Skip-gram tools

class SgnsTool:
    name = ""
    description = ""
    timing = ""
    fixed: dict = {}  # settings this entry pins over the command line's (its model or loss)

    def available(self) -> str | None:
        """None when runnable, else why not."""
        return None

    def unsupported(self, s: Settings) -> str | None:
        """None when the tool can train with ``s`` (as configured), else why not."""
        return None

    def configure(self, s: Settings) -> Settings:
        """The settings this entry runs with."""
        return replace(s, **self.fixed) if self.fixed else s

    def variant(self, suffix: str, what: str, **fixed) -> "SgnsTool":
        """The same tool as entry ``NAME-suffix``, with ``fixed`` settings."""
        twin = copy.copy(self)
        twin.name, twin.fixed = f"{self.name}-{suffix}", {**self.fixed, **fixed}
        twin.description = f"{self.name} with {what}"
        return twin

    def command(self, s: Settings, corpus: str, work: Path) -> tuple[list[str], str, tuple[str, ...]]:
        """(argv, vectors path, paths to watch)."""
        raise NotImplementedError

    def phases(self, child: ChildRun, work: Path) -> dict:
        """read/compile/train/save seconds (None if unknown) plus anything the tool reports itself."""
        raise NotImplementedError

    def display(self, argv: list[str]) -> str:
        return " ".join(argv)


class Fastemb(SgnsTool):
    name, kernel = "fastemb", "batched"
    description = "fastemb skipgram --kernel batched (a window's contexts share negatives)"
    timing = "its --report JSON"

    def available(self):
        return None if find_spec("fastemb") else "fastemb is not importable"

    def command(self, s, corpus, work):
        vectors = str(work / f"{self.name}.vec")
        subcommand, objective = _objective(s, "fastemb")
        # --kernel picks a skip-gram negative-sampling kernel: other objectives get fastemb's default
        # unless the entry asks for another kernel.
        kernel = ["--kernel", self.kernel] if not s.objective or self.kernel != Fastemb.kernel else []
        argv = [sys.executable, "-m", "fastemb.cli", subcommand, corpus, "-o", vectors,
                "--report", str(work / f"{self.name}.json"), "--quiet", *kernel, *objective, *_model_flags(s),
                "--lr", _num(s.alpha), "--min-lr", _num(s.min_lr), "--seed", str(s.seed)]
        return argv, vectors, ()

    def display(self, argv):
        return "fastemb " + " ".join(argv[3:])

    def phases(self, child, work):
        import json
        report = json.loads((work / f"{self.name}.json").read_text())
        return {"read": report["read_seconds"], "compile": report["compile_seconds"],
                "train": report["train_seconds"], "save": report["save_seconds"],
                "vocab_size": report["vocab_size"], "tool_tokens": report.get("corpus_tokens"),
                "tool_words_per_sec": report.get("words_per_sec")}


class FastembPair(Fastemb):
    name, kernel = "fastemb-pair", "pair"
    description = "fastemb skipgram --kernel pair (word2vec's per-pair updates)"


class FastembShared(Fastemb):
    name = "fastemb-shared"
    description = "fastemb skipgram --hot-rows 0 (no private copies of the frequent words' rows: an A/B for them)"

    def command(self, s, corpus, work):
        argv, vectors, extra = super().command(s, corpus, work)
        return argv + ["--hot-rows", "0"], vectors, extra


class Gensim(SgnsTool):
    name, mode = "gensim", "corpus_file"
    description = "gensim Word2Vec, corpus_file mode (Cython reader per worker)"
    timing = "bench/runners/gensim_runner.py timing build_vocab / train() / save"

    unsupported = staticmethod(_no_subwords)

    def available(self):
        return None if find_spec("gensim") else "gensim is not installed"

    def command(self, s, corpus, work):
        vectors = str(work / f"{self.name}.vec")
        argv = [sys.executable, str(BENCH_DIR / "runners" / "gensim_runner.py"), corpus, vectors, str(work / f"{self.name}.json"),
                "--mode", self.mode, *_objective(s, "gensim")[1], *_model_flags(s), "--alpha", _num(s.alpha),
                "--min-alpha", _num(s.min_lr), "--seed", str(s.seed)]
        return argv, vectors, ()

    def display(self, argv):
        return "python bench/runners/gensim_runner.py " + " ".join(argv[2:])

    def phases(self, child, work):
        import json
        report = json.loads((work / f"{self.name}.json").read_text())
        return {"read": report["read_seconds"], "compile": None, "train": report["train_seconds"],
                "save": report["save_seconds"], "import": report["import_seconds"],
                "vocab_size": report["vocab_size"], "tool_tokens": report["corpus_tokens"],
                "total_train_time": report["total_train_time"], "effective_words": report["effective_words"],
                "tool_params": report.get("params")}


class GensimIter(Gensim):
    name, mode = "gensim-iter", "iterable"
    description = "gensim Word2Vec, LineSentence iterable (Python producer thread feeds the workers)"


def _fasttext_phases(child: ChildRun, call_marker: bool) -> dict:
    err = child.stderr
    begin = err.time_of(r"Number of labels:\s*\d+\s*\n")
    end = err.time_of(r"Progress:[^\r\n]*\n", last=True)
    call = err.time_of(r"BENCH call\n") if call_marker else 0.0
    rates = re.findall(r"words/sec/thread:\s*([0-9]+)", err.text)
    words = re.search(r"Number of words:\s*([0-9]+)", err.text)
    out = {"read": None if begin is None or call is None else begin - call,
           "train": None if begin is None or end is None else end - begin,
           "train_end": end, "compile": None,
           "tool_words_per_sec_thread": float(rates[-1]) if rates else None,
           "vocab_size": int(words.group(1)) if words else None}
    if call_marker:
        out["startup_to_call"] = call
    return out


class FasttextCli(SgnsTool):
    name = "fasttext-cli"
    description = "fastText CLI (-minn 0 -maxn 0 unless the subword model is asked for)"
    timing = "its stderr (Number of labels -> final Progress line)"

    def available(self):
        return None if find_fasttext_cli() else "no fasttext binary (apt-get install fasttext)"

    unsupported = staticmethod(_mean_only)

    def command(self, s, corpus, work):
        prefix = str(work / self.name)
        subcommand, objective = _objective(s, "fasttext-cli")
        negative = ["-neg", str(s.negative)] if s.loss == "ns" else []
        argv = [find_fasttext_cli(), subcommand, "-input", corpus, "-output", prefix, *objective, "-dim", str(s.dim),
                "-ws", str(s.window), *negative, "-t", _num(s.sample), "-minCount", str(s.min_count),
                "-epoch", str(s.epochs), "-thread", str(s.threads), "-lr", _num(s.alpha),
                "-seed", str(s.seed), "-verbose", "2"]
        return argv, prefix + ".vec", ()

    def display(self, argv):
        return "fasttext " + " ".join(argv[1:])

    def phases(self, child, work):
        out = _fasttext_phases(child, call_marker=False)
        out["save"] = None if out["train_end"] is None else child.wall_seconds - out["train_end"]
        Path(work / f"{self.name}.bin").unlink(missing_ok=True)
        return out


class FasttextPy(SgnsTool):
    name = "fasttext"
    description = "fastText Python package, train_unsupervised (minn=0, maxn=0 unless the subword model is asked for)"
    timing = "its stderr (Number of labels -> final Progress line)"

    def available(self):
        return None if find_spec("fasttext") else "the fasttext Python package is not installed"

    unsupported = staticmethod(_mean_only)

    def command(self, s, corpus, work):
        vectors = str(work / f"{self.name}.vec")
        subcommand, objective = _objective(s, "fasttext")
        argv = [sys.executable, str(BENCH_DIR / "runners" / "fasttext_runner.py"), subcommand, corpus, vectors,
                str(work / f"{self.name}.json"), *objective, *_model_flags(s), "--lr", _num(s.alpha)]  # no seed: see runner
        return argv, vectors, ()

    def display(self, argv):
        return "python bench/runners/fasttext_runner.py " + " ".join(argv[2:])

    def phases(self, child, work):
        import json
        report = json.loads((work / f"{self.name}.json").read_text())
        out = _fasttext_phases(child, call_marker=True)
        out["save"] = report["save_seconds"]
        out["import"] = report["import_seconds"]
        return out


class Word2vecC(SgnsTool):
    name = "word2vec-c"
    description = "word2vec C (Mikolov's word2vec.c v0.1c, built by PyPI's word2vec package)"
    timing = "its stdout (first Alpha/Progress line -> output file created)"

    def available(self):
        return None if find_word2vec_c() else "no compiled word2vec binary (pip install word2vec)"

    @staticmethod
    def unsupported(s):
        return _mean_only(s) or _no_subwords(s)

    def command(self, s, corpus, work):
        vectors = str(work / f"{self.name}.vec")
        negative = str(s.negative) if s.loss == "ns" else "0"  # -hs 1 with negatives > 0 would train both losses
        argv = [find_word2vec_c(), "-train", corpus, "-output", vectors, *_objective(s, "word2vec-c")[1],
                "-size", str(s.dim), "-window", str(s.window), "-negative", negative, "-sample", _num(s.sample),
                "-min-count", str(s.min_count), "-iter", str(s.epochs), "-threads", str(s.threads),
                "-alpha", _num(s.alpha), "-binary", "0", "-debug", "2"]
        return argv, vectors, (vectors,)

    def display(self, argv):
        return "word2vec " + " ".join(argv[1:])

    def phases(self, child, work):
        out = child.stdout
        begin = out.time_of(r"Alpha:")
        end = child.appeared.get(str(work / f"{self.name}.vec"))
        rates = re.findall(r"Words/thread/sec:\s*([0-9.]+)k", out.text)
        vocab = re.search(r"Vocab size:\s*([0-9]+)", out.text)
        words = re.search(r"Words in train file:\s*([0-9]+)", out.text)
        return {"read": begin, "compile": None,
                "train": None if begin is None or end is None else end - begin,
                "save": None if end is None else child.wall_seconds - end,
                "vocab_size": int(vocab.group(1)) if vocab else None,
                "tool_tokens": int(words.group(1)) if words else None,
                # word2vec.c divides by clock(), the CPU time of all threads: words per CPU-second
                "tool_words_per_sec_thread": 1000 * float(rates[-1]) if rates else None}


_PLAIN = (Fastemb(), FastembPair(), FastembShared(), Gensim(), GensimIter(), FasttextPy(), FasttextCli(), Word2vecC())
# The entries run by default: skip-gram with negative sampling (or --model/--loss for all of them).
DEFAULT_SGNS_TOOLS = tuple(tool.name for tool in _PLAIN)
# NAME-cbow and NAME-hs: the same tools with the model or the loss pinned, to compare them in one run.
_VARIANTS = [tool.variant(suffix, what, **fixed) for suffix, what, fixed in (
                 ("cbow", "CBOW", {"model": "cbow"}),
                 ("hs", "hierarchical softmax", {"loss": "hs"}),
                 ("sub", "fastText's subword model (minn 3, maxn 6, 2 M buckets)", {"maxn": 6}),
                 ("cbow-sub", "CBOW and fastText's subword model (minn 3, maxn 6, 2 M buckets)",
                  {"model": "cbow", "maxn": 6}))
             for tool in _PLAIN if tool.name in ("fastemb", "gensim", "fasttext", "fasttext-cli", "word2vec-c")]
SGNS_TOOLS = {tool.name: tool for tool in (*_PLAIN, *_VARIANTS)}
