"""Precision and recall at k as fastText's ``test`` counts and prints them, and ``predict``'s output lines."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np


@dataclass
class TestResult:
    """fastText's Meter: counts over the examples that have a known label and a known word."""

    k: int
    labels: list[str]
    examples: int = 0
    gold: int = 0                 # gold labels (with repeats, as fastText counts them)
    predicted: int = 0            # labels predicted
    correct: int = 0              # predicted labels that are gold
    label_gold: np.ndarray = None
    label_predicted: np.ndarray = None
    label_correct: np.ndarray = None
    unknown_label_lines: int = 0  # lines with a label never seen in training (those labels are ignored)
    skipped_lines: int = 0        # non-blank lines not scored: no known label or no input row (no known word nor </s>)

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else math.nan

    @property
    def recall(self) -> float:
        return self.correct / self.gold if self.gold else math.nan

    def per_label(self) -> list[tuple[str, float, float, float]]:
        """(label, precision, recall, F1) for every label of the model; nan where undefined."""
        out = []
        for i, label in enumerate(self.labels):
            p, g, c = self.label_predicted[i], self.label_gold[i], self.label_correct[i]
            out.append((label, c / p if p else math.nan, c / g if g else math.nan,
                        2 * c / (p + g) if p + g else math.nan))
        return out


def score_predictions(gold: Sequence[Sequence[int]], predicted: Sequence[Sequence[int]], labels: list[str],
                      k: int) -> TestResult:
    """Precision and recall at k as fastText's Meter counts them, from label ids per example."""
    n = len(labels)
    result = TestResult(k, labels, label_gold=np.zeros(n, np.int64), label_predicted=np.zeros(n, np.int64),
                        label_correct=np.zeros(n, np.int64))
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold label lists but {len(predicted)} prediction lists")
    for gold_ids, predicted_ids in zip(gold, predicted):
        result.examples += 1
        result.gold += len(gold_ids)
        result.predicted += len(predicted_ids)
        gold_set = set(int(g) for g in gold_ids)
        for label in predicted_ids:
            result.label_predicted[label] += 1
            if int(label) in gold_set:
                result.label_correct[label] += 1
                result.correct += 1
        for label in gold_ids:
            result.label_gold[label] += 1
    return result


def _three_digits(x: float) -> str:
    """C++ ``ostream << setprecision(3)`` (what fastText's test prints)."""
    return "nan" if math.isnan(x) else f"{x:.3g}"


def format_test(result: TestResult, per_label: bool = False) -> str:
    """fastText's ``test`` output; with ``per_label`` its ``test-label`` lines come first."""
    lines = []
    if per_label:
        def metric(name, value):
            return f"{name} : " + (f"{value:.6f}" if math.isfinite(value) else "--------") + "  "
        for label, precision, recall, f1 in result.per_label():
            lines.append(metric("F1-Score", f1) + metric("Precision", precision) + metric("Recall", recall)
                         + " " + label)
    lines += [f"N\t{result.examples}", f"P@{result.k}\t{_three_digits(result.precision)}",
              f"R@{result.k}\t{_three_digits(result.recall)}"]
    return "\n".join(lines)


def format_prediction(labels: Sequence[str], probs: Sequence[float], probabilities: bool) -> str:
    """One line of ``predict`` output, fastText's layout: ``__label__x 0.93 __label__y 0.05``."""
    if probabilities:
        return " ".join(f"{label} {p:.6g}" for label, p in zip(labels, probs))
    return " ".join(labels)
