"""Intrinsic evaluation of word vectors: analogy accuracy and word-pair similarity correlation.

Both evaluators follow gensim's ``KeyedVectors.evaluate_word_analogies`` and
``evaluate_word_pairs`` rule for rule, so their figures can be compared with
published gensim numbers:

* only the ``restrict_vocab`` first (most frequent) words count as known;
* with ``case_insensitive`` (the default) file words and vocabulary words are
  compared upper-cased (gensim upper-cases; lower-casing would differ for a few
  letters such as 'ß'), and a word with several case variants uses the first,
  most frequent one;
* questions or pairs with an unknown word are skipped from the score but counted
  and reported as OOV.

Analogies are scored in batches of questions as matrix products against the
unit-normalised restricted matrix; there is no Python loop over the vocabulary.
"""
from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from typing import Callable, Iterator

import numpy as np

from ..base.errors import FastembError
from ..base.fileio import open_binary
from ..models.vectors import Vectors

METHODS = ("3cosadd", "3cosmul")
ANALOGY_RESTRICT_VOCAB = 30_000
SIMILARITY_RESTRICT_VOCAB = 300_000
# gensim looks at the top 5 answers for one not among (a case variant of) the question words.
_CANDIDATES = 5
_BATCH_SCORES = 1 << 22  # float32 scores held per batch of questions (16 MB)
_COSMUL_EPSILON = 1e-6  # gensim's most_similar_cosmul: keeps the denominator off zero
# Cosines closer than this may be ordered differently by gensim's float32 arithmetic (differences
# seen are ~1e-7); such questions are solved again exactly as gensim does.
_NEAR_TIE = 1e-5


# --- results -------------------------------------------------------------------------------------

@dataclass
class AnalogySection:
    """Counts for one ``: section`` of an analogy file; OOV questions are neither correct nor incorrect."""
    name: str
    correct: int = 0
    incorrect: int = 0
    oov: int = 0
    correct_questions: list = field(default_factory=list, repr=False)  # (a, b, c, d) as written in the file
    incorrect_questions: list = field(default_factory=list, repr=False)

    @property
    def questions(self) -> int:
        return self.correct + self.incorrect + self.oov

    @property
    def answered(self) -> int:
        return self.correct + self.incorrect

    @property
    def accuracy(self) -> float:
        """Correct share of the answered questions (gensim's score; 0 when none was answered)."""
        return self.correct / self.answered if self.answered else 0.0

    @property
    def accuracy_all(self) -> float:
        """Correct share of all questions, OOV counted wrong (gensim's ``dummy4unknown=True``)."""
        return self.correct / self.questions if self.questions else 0.0

    def to_dict(self) -> dict:
        return {"section": self.name, "correct": self.correct, "incorrect": self.incorrect, "oov": self.oov,
                "questions": self.questions, "accuracy": self.accuracy, "accuracy_all": self.accuracy_all}


@dataclass
class AnalogyResult:
    path: str
    method: str
    restrict_vocab: int
    sections: list[AnalogySection]

    def _sum(self, name: str, sections: list[AnalogySection]) -> AnalogySection:
        total = AnalogySection(name)
        for section in sections:
            total.correct += section.correct
            total.incorrect += section.incorrect
            total.oov += section.oov
            total.correct_questions += section.correct_questions
            total.incorrect_questions += section.incorrect_questions
        return total

    @property
    def total(self) -> AnalogySection:
        return self._sum("total", self.sections)

    def subtotals(self) -> list[AnalogySection]:
        """Semantic and syntactic totals when sections follow the Google set's naming (``gram*`` = syntactic)."""
        syntactic = [s for s in self.sections if s.name.startswith("gram")]
        semantic = [s for s in self.sections if not s.name.startswith("gram")]
        if not syntactic or not semantic:
            return []
        return [self._sum("semantic", semantic), self._sum("syntactic", syntactic)]

    @property
    def accuracy(self) -> float:
        return self.total.accuracy

    def to_dict(self) -> dict:
        return {"file": self.path, "method": self.method, "restrict_vocab": self.restrict_vocab,
                "sections": [s.to_dict() for s in self.sections],
                "subtotals": [s.to_dict() for s in self.subtotals()],
                "total": self.total.to_dict()}


@dataclass
class SimilarityResult:
    path: str
    restrict_vocab: int
    pairs: int  # pairs read from the file, OOV ones included
    oov: int
    spearman: float
    spearman_pvalue: float
    pearson: float
    pearson_pvalue: float

    @property
    def used(self) -> int:
        return self.pairs - self.oov

    @property
    def oov_ratio(self) -> float:
        """Percentage of pairs skipped for an unknown word (gensim's third return value)."""
        return 100.0 * self.oov / self.pairs if self.pairs else 0.0

    def to_dict(self) -> dict:
        def number(value):  # JSON has no NaN
            return None if value is None or math.isnan(value) else value
        return {"file": self.path, "restrict_vocab": self.restrict_vocab, "pairs": self.pairs, "oov": self.oov,
                "used": self.used, "oov_ratio": self.oov_ratio,
                "spearman": number(self.spearman), "spearman_pvalue": number(self.spearman_pvalue),
                "pearson": number(self.pearson), "pearson_pvalue": number(self.pearson_pvalue)}


# --- the restricted vocabulary -------------------------------------------------------------------

class _KnownWords:
    """The ``restrict_vocab`` first words, looked up as gensim does (case-folded, first variant wins)."""

    def __init__(self, vectors: Vectors, restrict_vocab: int, case_insensitive: bool):
        if restrict_vocab is None or restrict_vocab <= 0:
            raise ValueError("restrict_vocab must be a positive number of words")
        self.size = min(int(restrict_vocab), len(vectors))
        self.fold: Callable[[str], str] = str.upper if case_insensitive else (lambda word: word)
        self.row_of: dict[str, int] = {}
        for row, word in enumerate(vectors.words[:self.size]):
            self.row_of.setdefault(self.fold(word), row)
        # The row each restricted word's folded form maps to: equal rows = the same word up to case.
        self.canonical = np.fromiter((self.row_of[self.fold(w)] for w in vectors.words[:self.size]),
                                     dtype=np.int64, count=self.size)
        self.unit = vectors.unit_matrix[:self.size]

    def lookup(self, word: str) -> int:
        """Row of ``word``, or -1 when it is not among the restricted words."""
        return self.row_of.get(self.fold(word), -1)


# --- reading the files ---------------------------------------------------------------------------

def _lines(path: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of every line of ``path`` (.gz/.bz2/.xz too); bad UTF-8 is an error with its line."""
    with open_binary(path) as handle:
        try:
            for number, raw in enumerate(handle, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise FastembError(f"{path}: line {number}: not valid UTF-8 ({exc.reason})") from None
                yield number, text.lstrip("\ufeff") if number == 1 else text  # a byte-order mark is no word
        except OSError as exc:
            raise FastembError(f"{path}: cannot read ({exc})") from None


def read_analogies(path: str) -> list[tuple[str, list[tuple[int, tuple[str, str, str, str]]]]]:
    """Sections of a questions-words.txt file: [(name, [(line number, (a, b, c, d)), ...]), ...]."""
    sections: list = []
    for number, line in _lines(path):
        text = line.strip()
        if not text:
            continue
        if text.startswith(":"):
            sections.append((text.lstrip(": ").strip(), []))
            continue
        words = text.split()
        if len(words) != 4:
            shown = text if len(text) <= 60 else text[:57] + "..."
            raise FastembError(f"{path}: line {number}: expected a question of 4 words 'a b c d' or a "
                               f"': section' header, found {len(words)} word(s): {shown!r}")
        if not sections:
            raise FastembError(f"{path}: line {number}: question before the first ': section' header "
                               "(is this a questions-words.txt analogy file?)")
        sections[-1][1].append((number, tuple(words)))
    if not sections:
        raise FastembError(f"{path}: no analogy questions found (expected ': section' headers and "
                           "'a b c d' lines, as in questions-words.txt)")
    return sections


def _parse_score(field_text: str) -> float | None:
    try:
        value = float(field_text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def read_word_pairs(path: str) -> list[tuple[int, str, str, float]]:
    """(line number, word1, word2, score) of a word-pair similarity file.

    Fields are tab-separated when a line has a tab, otherwise whitespace- (or,
    for MTurk's CSV, comma-) separated. The score is the first number after the
    two words, which reads WordSim353, MEN, RW (mean, then each rating) and
    also SimLex-999 and SimVerb-3500 (a POS column before the score). Blank
    lines and ``#`` comments are skipped, and so is one header line (no number
    after the words) before the first pair.
    """
    pairs: list = []
    header_seen = False
    for number, line in _lines(path):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if "\t" in text:
            fields = [f.strip() for f in text.split("\t")]
        else:
            fields = text.split()
            if len(fields) < 3 and "," in text:
                fields = [f.strip() for f in text.split(",")]
        if len(fields) < 3:
            raise FastembError(f"{path}: line {number}: expected 'word1 word2 score' (tab- or space-separated), "
                               f"found {len(fields)} field(s): {text[:60]!r}")
        score = next((value for value in map(_parse_score, fields[2:]) if value is not None), None)
        if score is None:
            if not pairs and not header_seen:
                header_seen = True  # e.g. SimLex-999's 'word1 word2 POS SimLex999 ...'
                continue
            raise FastembError(f"{path}: line {number}: no numeric score after the words "
                               f"{fields[0]!r} and {fields[1]!r}: {text[:60]!r}")
        pairs.append((number, fields[0], fields[1], score))
    if not pairs:
        raise FastembError(f"{path}: no word pairs found (expected 'word1 word2 score' lines)")
    return pairs


# --- analogies -----------------------------------------------------------------------------------

def solve_analogies(unit: np.ndarray, canonical: np.ndarray, questions: np.ndarray,
                    method: str = "3cosadd", raw: np.ndarray | None = None) -> np.ndarray:
    """Answer ``a : b :: c : ?`` for rows ``questions[:, :3]`` of the unit-normalised ``unit``.

    Returns the answer's canonical row per question (-1: no candidate). As in
    gensim, a, b and c themselves are never candidates, and of the best 5
    candidates the first whose canonical row (the word up to case) is not a, b
    or c is the answer; if all 5 are case variants of them, the 5th stands.
    Works in batches of questions, each scored by matrix products over all rows.

    With ``raw`` (the same rows before normalisation) and 3CosAdd, the rare
    question whose top candidates are nearer than float32 rounding can tell
    apart is solved again in gensim's own arithmetic, so that counts match
    gensim's exactly rather than almost always.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    questions = np.asarray(questions, dtype=np.int64)
    rows_total = len(unit)
    answers = np.full(len(questions), -1, dtype=np.int64)
    if rows_total == 0:
        return answers
    exact = _GensimArithmetic(raw) if raw is not None and method == "3cosadd" else None
    batch = max(1, _BATCH_SCORES // rows_total)
    for start in range(0, len(questions), batch):
        block = questions[start:start + batch]
        a, b, c = (unit[block[:, i]] for i in range(3))
        if method == "3cosadd":
            # Cosine with b - a + c, which ranks as gensim's normalised mean of b, c and -a does.
            query = b + c - a
            norms = np.linalg.norm(query, axis=1, keepdims=True)
            scores = (query / np.where(norms > 0, norms, 1)) @ unit.T
        else:
            # Levy & Goldberg's 3CosMul with cosines shifted to [0, 1], exactly as gensim's most_similar_cosmul.
            scores = b @ unit.T
            scores += 1
            scores *= (c @ unit.T + 1) / 2
            scores /= 2
            scores /= (a @ unit.T + 1) / 2 + _COSMUL_EPSILON
        local = np.arange(len(block))
        scores[local[:, None], block[:, :3]] = -np.inf
        # Successive argmaxes: much faster than a partition of every row, and ties go to the frequent word.
        # One candidate more than gensim looks at, to see whether the 5th was a near tie.
        ranked = min(_CANDIDATES + 1, rows_total)
        candidates = np.empty((len(block), ranked), dtype=np.int64)
        best_scores = np.empty((len(block), ranked), dtype=np.float64)
        for rank in range(ranked):
            best = np.argmax(scores, axis=1)
            candidates[:, rank] = best
            best_scores[:, rank] = scores[local, best]
            scores[local, best] = -np.inf
        found, position = _choose(candidates[:, :_CANDIDATES], np.isfinite(best_scores[:, :_CANDIDATES]),
                                  canonical, canonical[block[:, :3]])
        if exact is not None and ranked > 1:
            # Only a near tie between the answer and the candidate after it can change the answer
            # (a swap with a skipped variant of a question word cannot); if all 5 were skipped, any can.
            with np.errstate(invalid="ignore"):  # -inf minus -inf: no candidate there, no tie either
                gaps = -np.diff(best_scores, axis=1)
                after = np.minimum(np.maximum(position, 0), ranked - 2)
                near_tie = gaps[local, after] < _NEAR_TIE
                all_skipped = position == min(_CANDIDATES, ranked) - 1
                near_tie |= all_skipped & (gaps < _NEAR_TIE).any(axis=1)
            for i in np.flatnonzero(near_tie):
                found[i] = exact.answer(block[i], canonical)
        answers[start:start + len(block)] = found
    return answers


def _choose(candidates: np.ndarray, valid: np.ndarray, canonical: np.ndarray,
            asked: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """gensim's pick among ranked candidates: the first not a case variant of a question word, else the last.

    Returns the answers' canonical rows and their positions among the candidates (-1: none).
    """
    words = canonical[candidates]
    acceptable = valid & (words != asked[:, 0:1]) & (words != asked[:, 1:2]) & (words != asked[:, 2:3])
    chosen = np.where(acceptable.any(axis=1), np.argmax(acceptable, axis=1), valid.sum(axis=1) - 1)
    answers = np.full(len(candidates), -1, dtype=np.int64)
    found = chosen >= 0
    answers[found] = words[np.flatnonzero(found), chosen[found]]
    return answers, chosen


class _GensimArithmetic:
    """One question scored step by step as gensim's most_similar does (same float32/float64 operations).

    Used only for near ties, where the order of two candidates comes down to
    rounding: a vectorised sum rounds differently from gensim's matrix-vector
    product, and exact agreement on counts needs the same rounding.
    """

    def __init__(self, raw: np.ndarray):
        self.raw = raw
        self.norms = np.linalg.norm(raw, axis=1)  # gensim's fill_norms, in float32

    def answer(self, question: np.ndarray, canonical: np.ndarray) -> int:
        from scipy.linalg.blas import dnrm2, dscal  # what gensim's matutils.unitvec calls

        a, b, c = (int(row) for row in question[:3])
        weights = np.concatenate((np.ones(2), -1.0 * np.ones(1)))
        mean = np.zeros(self.raw.shape[1], self.raw.dtype)
        total_weight = 0
        for weight, row in zip(weights, (b, c, a)):  # positive b, c, then negative a, as in most_similar
            mean += weight * (self.raw[row] / self.norms[row])
            total_weight += abs(weight)
        mean = mean / total_weight
        length = dnrm2(mean)
        if length > 0.0:
            mean = dscal(1.0 / length, mean).astype(mean.dtype)
        mean = mean.astype(np.float32)
        distances = np.dot(self.raw, mean) / self.norms
        excluded = [b, c, a]
        wanted = _CANDIDATES + len(excluded)
        if wanted >= distances.size:
            best = np.argsort(-distances)[:wanted]
        else:  # gensim's matutils.argsort(..., reverse=True)
            negated = -distances
            best = np.argpartition(negated, wanted)[:wanted]
            best = best.take(np.argsort(negated.take(best)))
        ranked = np.array([row for row in best if row not in excluded][:_CANDIDATES], dtype=np.int64)
        if not len(ranked):
            return -1
        answers, _ = _choose(ranked[None, :], np.ones((1, len(ranked)), dtype=bool), canonical,
                             canonical[np.array([[a, b, c]])])
        return int(answers[0])


def evaluate_analogies(vectors: Vectors, path: str, restrict_vocab: int = ANALOGY_RESTRICT_VOCAB,
                       method: str = "3cosadd", case_insensitive: bool = True) -> AnalogyResult:
    """Accuracy on a questions-words.txt file, per section and in total (gensim's evaluate_word_analogies).

    ``method`` is ``3cosadd`` (b - a + c, gensim's default) or ``3cosmul``.
    Only the ``restrict_vocab`` most frequent words are answers or known words;
    a question using any other word is counted in its section's ``oov``.
    """
    method = method.lower()
    if method not in METHODS:
        raise FastembError(f"unknown analogy method {method!r}: use one of {', '.join(METHODS)}")
    known = _KnownWords(vectors, restrict_vocab, case_insensitive)
    sections = []
    asked, asked_section, asked_words = [], [], []
    for name, questions in read_analogies(path):
        section = AnalogySection(name)
        sections.append(section)
        for _, words in questions:
            rows = [known.lookup(word) for word in words]
            if min(rows) < 0:
                section.oov += 1
                continue
            asked.append(rows)
            asked_section.append(len(sections) - 1)
            asked_words.append(words)
    if asked:
        questions = np.array(asked, dtype=np.int64)
        answers = solve_analogies(known.unit, known.canonical, questions, method,
                                  raw=vectors.matrix[:known.size])
        right = answers == questions[:, 3]
        for is_right, index, words in zip(right.tolist(), asked_section, asked_words):
            section = sections[index]
            if is_right:
                section.correct += 1
                section.correct_questions.append(words)
            else:
                section.incorrect += 1
                section.incorrect_questions.append(words)
    return AnalogyResult(path, method, known.size, sections)


# --- word pairs ----------------------------------------------------------------------------------

def evaluate_similarity(vectors: Vectors, path: str, restrict_vocab: int = SIMILARITY_RESTRICT_VOCAB,
                        case_insensitive: bool = True) -> SimilarityResult:
    """Spearman and Pearson correlation of cosine similarity with a word-pair file's human scores.

    As gensim's evaluate_word_pairs: pairs with a word outside the
    ``restrict_vocab`` most frequent are skipped and counted in ``oov``. With
    fewer than two pairs left (or constant scores) the correlations are NaN.
    """
    from scipy import stats

    known = _KnownWords(vectors, restrict_vocab, case_insensitive)
    gold, first_rows, second_rows = [], [], []
    pairs = read_word_pairs(path)
    for _, first, second, score in pairs:
        row_a, row_b = known.lookup(first), known.lookup(second)
        if row_a >= 0 and row_b >= 0:
            gold.append(score)
            first_rows.append(row_a)
            second_rows.append(row_b)
    # One float32 dot per pair, as gensim's similarity(): a vectorised sum rounds differently, and in a
    # file of thousands of pairs two near-equal cosines then swap ranks often enough to move Spearman by 1e-5.
    unit = known.unit
    model = np.array([np.dot(unit[a], unit[b]) for a, b in zip(first_rows, second_rows)], dtype=np.float64)
    spearman = pearson = (math.nan, math.nan)
    if len(gold) >= 2:
        with warnings.catch_warnings():  # constant input: scipy warns and returns NaN, which we report
            warnings.simplefilter("ignore")
            spearman = tuple(map(float, stats.spearmanr(gold, model)))
            pearson = tuple(map(float, stats.pearsonr(gold, model)))
    return SimilarityResult(path, known.size, len(pairs), len(pairs) - len(gold),
                            spearman[0], spearman[1], pearson[0], pearson[1])


# --- text output ---------------------------------------------------------------------------------

def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def format_analogies(result: AnalogyResult) -> str:
    name_width = max([len(s.name) for s in result.sections] + [len("section"), len("syntactic")])
    header = (f"{'section':<{name_width}}  {'correct':>8}  {'answered':>8}  {'accuracy':>8}  "
              f"{'OOV':>6}  {'acc. (OOV wrong)':>16}")
    lines = [f"Analogies: {os.path.basename(result.path)} ({result.method}, the {result.restrict_vocab:,} "
             "most frequent words)", header, "-" * len(header)]

    def row(section: AnalogySection) -> str:
        return (f"{section.name:<{name_width}}  {section.correct:>8,}  {section.answered:>8,}  "
                f"{_percent(section.accuracy):>8}  {section.oov:>6,}  {_percent(section.accuracy_all):>16}")

    lines += [row(s) for s in result.sections]
    lines.append("-" * len(header))
    lines += [row(s) for s in result.subtotals()]
    lines.append(row(result.total))
    return "\n".join(lines)


def format_similarity(results: list[SimilarityResult]) -> str:
    if not results:
        return ""
    name_width = max([len(os.path.basename(r.path)) for r in results] + [len("file")])
    header = f"{'file':<{name_width}}  {'pairs':>6}  {'OOV':>6}  {'Spearman':>8}  {'Pearson':>8}"
    lines = [f"Word-pair similarity (the {results[0].restrict_vocab:,} most frequent words)", header,
             "-" * len(header)]
    for r in results:
        lines.append(f"{os.path.basename(r.path):<{name_width}}  {r.pairs:>6,}  {r.oov:>6,}  "
                     f"{r.spearman:>8.4f}  {r.pearson:>8.4f}")
    return "\n".join(lines)
