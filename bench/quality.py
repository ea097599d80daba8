"""Quality of a saved vectors file, measured the same way for every tool.

* Google analogies (``questions-words.txt``), 3CosAdd, searching the 30,000 most
  frequent words of the file; questions with a word outside those 30,000 are
  skipped and the coverage is reported (gensim's convention, case-insensitive).
* WordSim-353 and MEN: Spearman rho of cosine similarity against the human
  scores, over the pairs whose words are both in the vocabulary; OOV share reported.

``EVALUATOR`` picks the implementation, in this one line: "fastemb"
(``fastemb.evaluation.evaluate``, vectorised, gensim's rules; checked to give gensim's figures
exactly on en-mix-small vectors, ~10x faster), "gensim" (``KeyedVectors``
evaluators, the stand-in while fastemb.evaluation.evaluate did not exist) or "auto"
(fastemb when importable, else gensim; if fastemb's raises, gensim's result is used
and the fallback is recorded). Every result records which evaluator produced it.
"""
from __future__ import annotations

import os
from pathlib import Path

EVALUATOR = "auto"
RESTRICT_VOCAB = 30000

EVAL_FILES = {"analogy": "questions-words.txt", "ws353": "wordsim353.tsv", "men": "EN-MEN-TR-3k.txt"}


def eval_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "eval"


def resolved_evaluator() -> str:
    if EVALUATOR != "auto":
        return EVALUATOR
    from importlib.util import find_spec
    try:
        return "fastemb" if find_spec("fastemb.evaluation.evaluate") else "gensim"
    except ImportError:
        return "gensim"


def evaluate_vectors(path: str, data_dir: Path, analogies: bool = True) -> dict:
    """``{"analogy": acc, "analogy_coverage": share, "ws353": rho, "ws353_oov": share, "men": ..., "men_oov": ...,
    "evaluator": name}`` for the word2vec-format file ``path``; a missing eval file gives no keys for it.

    ``analogies=False`` skips the analogy set (the slow part: gensim answers one question at a time).
    """
    files = {name: eval_dir(data_dir) / file for name, file in EVAL_FILES.items()
             if analogies or name != "analogy"}
    files = {name: file for name, file in files.items() if file.exists()}
    which = EVALUATOR
    if which == "auto":
        try:
            import fastemb.evaluation.evaluate  # noqa: F401
            which = "fastemb"
        except ImportError:
            which = "gensim"
    if which == "fastemb":
        try:
            result = _with_fastemb(path, files)
            result["evaluator"] = "fastemb"
            return result
        except Exception as exc:  # noqa: BLE001 - an evaluator bug must not cost a benchmark run
            if EVALUATOR == "fastemb":
                raise
            fallback = f"gensim (fastemb.evaluation.evaluate failed: {type(exc).__name__}: {exc})"
    else:
        fallback = "gensim"
    result = _with_gensim(path, files)
    result["evaluator"] = fallback
    return result


def _with_gensim(path: str, files: dict) -> dict:
    import logging

    from gensim.models import KeyedVectors

    logging.getLogger("gensim").setLevel(logging.ERROR)
    vectors = KeyedVectors.load_word2vec_format(path, binary=False)
    result = {}
    if "analogy" in files:
        score, sections = vectors.evaluate_word_analogies(str(files["analogy"]), restrict_vocab=RESTRICT_VOCAB,
                                                          case_insensitive=True)
        total = next(s for s in sections if s["section"] == "Total accuracy")
        answered = len(total["correct"]) + len(total["incorrect"])
        result["analogy"] = float(score)
        result["analogy_coverage"] = answered / _count_questions(files["analogy"])
    for name in ("ws353", "men"):
        if name in files:
            _, spearman, oov = vectors.evaluate_word_pairs(str(files[name]), case_insensitive=True)
            result[name] = float(spearman[0])
            result[f"{name}_oov"] = float(oov) / 100.0
    return result


def _with_fastemb(path: str, files: dict) -> dict:
    from fastemb.evaluation.evaluate import evaluate_analogies, evaluate_similarity
    from fastemb.models.vectors import load_vectors

    vectors = load_vectors(path)
    result = {}
    if "analogy" in files:
        found = evaluate_analogies(vectors, str(files["analogy"]), restrict_vocab=RESTRICT_VOCAB, method="3cosadd")
        total = found.total
        result["analogy"] = float(found.accuracy)
        result["analogy_coverage"] = total.answered / total.questions if total.questions else 0.0
    for name in ("ws353", "men"):
        if name in files:
            found = evaluate_similarity(vectors, str(files[name]))
            result[name] = float(found.spearman)
            result[f"{name}_oov"] = float(found.oov_ratio) / 100.0
    return result


def _count_questions(path: os.PathLike) -> int:
    with open(path, encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip() and not line.startswith(":"))
