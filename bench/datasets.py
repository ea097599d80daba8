"""The data every tool gets: one decompressed corpus (or prefixes of it) and converted classification sets.

Training corpus: the ``.gz`` is decompressed once per benchmark invocation into
a work directory, and every tool reads that same plain-text file, so reading
times exclude gunzip for everyone. Prefixes (``--tokens``, the size sweep) are
whole lines, cut where the running token count first reaches the target.

Classification: TREC-6 (coarse labels), 20 Newsgroups "bydate" and IMDB, standard
train/test splits, converted once into a cache directory as fastText input
lines ``__label__X tok tok ...``: lower-cased, tokens are the matches of
``[^\\W_]+(?:'[^\\W_]+)*`` (the en-mix tokenisation), documents joined into one
line. IMDB's ``<br />`` tags become spaces first. Training files are shuffled
(``random.Random(1)``): 20NG and IMDB come sorted by class, and both tools read
the file in order. Documents without any token are dropped (counted in the meta).
"""
from __future__ import annotations

import gzip
import io
import json
import os
import random
import re
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONVERTER_VERSION = 1
TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


def default_data_dir() -> Path:
    """``$FASTEMB_DATA`` or ../shared/data beside the repository (as tests/conftest.py)."""
    for candidate in (os.environ.get("FASTEMB_DATA"), ROOT.parent / "shared" / "data"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return ROOT.parent / "shared" / "data"


def _open_text_lines(path: Path):
    if str(path).endswith(".gz"):
        return gzip.open(path, "rb")
    if str(path).endswith(".bz2"):
        import bz2
        return bz2.open(path, "rb")
    if str(path).endswith(".xz"):
        import lzma
        return lzma.open(path, "rb")
    return open(path, "rb")


def prepare_corpus(source: Path, workdir: Path, limits: list[int | None]) -> list[dict]:
    """Plain-text copies of ``source`` holding (about) ``limit`` tokens each (None: all of it), in one pass.

    Returns one ``{"path", "tokens", "lines", "limit"}`` per limit. A plain-text
    source is used in place for ``None`` (nothing to decompress).
    """
    source = Path(source)
    workdir.mkdir(parents=True, exist_ok=True)
    stem = source.name
    for suffix in (".gz", ".bz2", ".xz", ".txt"):
        stem = stem[:-len(suffix)] if stem.endswith(suffix) else stem
    compressed = source.suffix in (".gz", ".bz2", ".xz")
    outputs = []
    for limit in limits:
        in_place = limit is None and not compressed
        path = source if in_place else workdir / f"{stem}.{'all' if limit is None else limit}.txt"
        outputs.append({"path": str(path), "tokens": 0, "lines": 0, "limit": limit, "in_place": in_place,
                        "handle": None if in_place else open(path, "wb")})
    open_outputs = list(outputs)
    try:
        with _open_text_lines(source) as lines:
            for line in lines:
                n = len(line.split())
                if not line.endswith(b"\n"):
                    line += b"\n"
                still_open = []
                for out in open_outputs:
                    if out["limit"] is not None and out["tokens"] >= out["limit"]:
                        continue
                    out["tokens"] += n
                    out["lines"] += 1
                    if out["handle"] is not None:
                        out["handle"].write(line)
                    still_open.append(out)
                open_outputs = still_open
                if not open_outputs:
                    break
    finally:
        for out in outputs:
            if out["handle"] is not None:
                out["handle"].close()
    for out in outputs:
        del out["handle"]
    return outputs


# ---------------------------------------------------------------------------------------------
# Classification data sets

def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def _trec(data_dir: Path):
    folder = data_dir / "classify" / "TREC"
    for split, name in (("train", "train_5500.label"), ("test", "TREC_10.label")):
        with open(folder / name, encoding="latin-1") as handle:
            for line in handle:
                if line.strip():
                    label, _, question = line.partition(" ")
                    yield split, label.split(":")[0], question


def _20ng(data_dir: Path):
    with tarfile.open(data_dir / "20news-bydate.tar.gz", "r:gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3:
                continue
            split = {"20news-bydate-train": "train", "20news-bydate-test": "test"}.get(parts[0])
            if split:
                yield split, parts[1], archive.extractfile(member).read().decode("latin-1")


def _imdb(data_dir: Path):
    with tarfile.open(data_dir / "aclImdb-labelled.tar.gz", "r:gz") as archive:
        for member in archive:
            parts = member.name.split("/")
            if (member.isfile() and len(parts) == 4 and parts[1] in ("train", "test")
                    and parts[2] in ("pos", "neg") and parts[3].endswith(".txt")):
                text = archive.extractfile(member).read().decode("utf-8")
                yield parts[1], parts[2], text.replace("<br />", " ")


# name -> (reader, source files, fastText "Bag of Tricks" epochs where 5 undertrain)
DATASETS = {
    "trec": (_trec, ["classify/TREC/train_5500.label", "classify/TREC/TREC_10.label"], 25),
    "20ng": (_20ng, ["20news-bydate.tar.gz"], 50),
    "imdb": (_imdb, ["aclImdb-labelled.tar.gz"], 5),
}


def dataset_available(name: str, data_dir: Path) -> bool:
    return all((Path(data_dir) / file).exists() for file in DATASETS[name][1])


def prepare_classification(name: str, data_dir: Path, cache_dir: Path) -> dict:
    """Convert data set ``name`` into ``cache_dir`` (once; reused while the sources are unchanged)."""
    reader, files, epochs = DATASETS[name]
    data_dir, cache_dir = Path(data_dir), Path(cache_dir)
    stamp = [[file, (data_dir / file).stat().st_size, int((data_dir / file).stat().st_mtime)] for file in files]
    meta_path = cache_dir / f"{name}.meta.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if (meta.get("converter") == CONVERTER_VERSION and meta.get("sources") == stamp
                and Path(meta["train"]).exists() and Path(meta["test"]).exists()):
            return meta
    cache_dir.mkdir(parents=True, exist_ok=True)
    lines = {"train": [], "test": []}
    counts = {"train": 0, "test": 0}
    dropped = {"train": 0, "test": 0}
    labels = set()
    for split, label, text in reader(data_dir):
        words = tokens(text)
        if not words:
            dropped[split] += 1
            continue
        labels.add(label)
        counts[split] += len(words)
        lines[split].append(f"__label__{label} {' '.join(words)}\n")
    random.Random(1).shuffle(lines["train"])
    meta = {"name": name, "converter": CONVERTER_VERSION, "sources": stamp, "epochs": epochs,
            "labels": len(labels), "token_regex": TOKEN.pattern}
    for split in ("train", "test"):
        path = cache_dir / f"{name}.{split}.txt"
        with io.open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.writelines(lines[split])
        meta[split] = str(path)
        meta[f"{split}_docs"] = len(lines[split])
        meta[f"{split}_tokens"] = counts[split]
        meta[f"{split}_dropped_empty"] = dropped[split]
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")
    return meta
