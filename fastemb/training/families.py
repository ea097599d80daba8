"""The model families, one class each: what differs between word vectors (skip-gram and CBOW, with or
without fastText's subwords) and the classifier. The run, the API, the CLI and the cluster driver call
this interface; each family's steps are small functions of its own module (word2vec.py, supervised.py)
over the one trainer, as fastText's skipgram, cbow and supervised are over one training thread."""
from __future__ import annotations

from ..base.config import OBJECTIVES, SupervisedConfig, Word2VecConfig
from ..base.errors import FastembError
from ..base.limits import check_supervised_tables, check_word2vec_tables
from ..base.progress import plural
from ..models import supervised as supervised_model
from ..models import word2vec as word2vec_model
from . import supervised, word2vec


class Family:
    """A model family: its settings, how a run reads, prepares and finishes, and its model file."""

    name: str                 # the family's word in reports and errors
    config_class: type        # its settings (config.OBJECTIVES: the objectives it trains)
    magic: str                # the marker of its own model file
    _steps = None             # the module with prepare, finish_report, save_outputs, warm_up

    def prepare(self, inputs, config, progress=None, **given):
        """Read ``inputs``, build (or take from ``given``: a checkpoint's vocabulary...) the dictionary,
        compile; returns (trainer, report)."""
        self.check_memory(config)
        return self._steps.prepare(inputs, config, progress, **given)

    def check_memory(self, config) -> None:
        """Refuse, before reading, tables that cannot fit whatever the vocabulary (the n-gram buckets)."""
        raise NotImplementedError

    def finish(self, trainer, report):
        """The trained model, its report completed."""
        return self._steps.finish_report(trainer, report)

    def save_outputs(self, model, run_info: dict) -> None:
        """Write the outputs ``run_info`` names (output, and the family's extra files)."""
        self._steps.save_outputs(model, run_info)

    def config_from(self, stored: dict):
        return self.config_class(**stored)

    def warm_up(self) -> float:
        """Compile (or load from Numba's cache) the family's kernels; returns seconds spent."""
        return self._steps.warm_up()

    def load(self, path: str):
        raise NotImplementedError

    def summary(self, report: dict, config, threads: str) -> str:
        """The line a finished run prints: what was trained, on how much (``threads``: who trained it)."""
        raise NotImplementedError


class WordVectors(Family):
    name, config_class, magic = "word2vec", Word2VecConfig, word2vec_model.WORD2VEC_MAGIC
    _steps = word2vec

    def load(self, path: str):
        return word2vec_model.load_word2vec_model(path)

    def check_memory(self, config) -> None:
        check_word2vec_tables(0, config.buckets if config.subwords else 0, config.dim)

    def summary(self, report: dict, config, threads: str) -> str:
        return (f"Trained {report['words']:,} words ({report['corpus_tokens']:,} tokens x "
                f"{plural(config.epochs, 'epoch')}), {report['objective']}, loss {config.loss}, vocabulary "
                f"{report['vocab_size']:,}, dim {config.dim}, {threads}")


class Classifier(Family):
    name, config_class, magic = "supervised", SupervisedConfig, supervised_model.MODEL_MAGIC
    _steps = supervised

    def load(self, path: str):
        return supervised_model.load_model(path)

    def check_memory(self, config) -> None:
        check_supervised_tables(0, config.n_buckets, 0, config.dim)

    def summary(self, report: dict, config, threads: str) -> str:
        skipped = report["skipped_no_label"] + report["skipped_no_words"]
        return (f"Trained {report['words']:,} words ({report['examples']:,} examples x "
                f"{plural(config.epochs, 'epoch')}), vocabulary {report['vocab_size']:,}, {report['labels']:,} "
                f"labels, dim {config.dim}, loss {config.loss}, {threads}"
                + (f"; skipped {report['skipped_no_label']:,} lines without a label and "
                   f"{report['skipped_no_words']:,} without a known word" if skipped else ""))


WORD2VEC, SUPERVISED = WordVectors(), Classifier()
FAMILIES = (WORD2VEC, SUPERVISED)


def family_of(what) -> Family:
    """The family of an objective name (a checkpoint's or a job's), a config or a config class."""
    config_class = OBJECTIVES.get(what) if isinstance(what, str) else what if isinstance(what, type) else type(what)
    for family in FAMILIES:
        if isinstance(config_class, type) and issubclass(config_class, family.config_class):
            return family
    raise FastembError(f"no model family trains {what!r}")


def family_of_magic(magic: str | None) -> Family | None:
    """The family whose model files carry the marker ``magic``."""
    return next((family for family in FAMILIES if family.magic == magic), None)
