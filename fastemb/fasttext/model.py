"""A trained model as fastText's Python module presents it (its ``_FastText``): the same methods, return
types and errors, over fastemb's model of fastText's file (formats.fasttext.FastTextModelFile) and, for a
classifier, fastemb's classifier (models.supervised.SupervisedModel), which predicts and tests."""
from __future__ import annotations

import numpy as np

from ..base.checks import check_text
from ..base.errors import FastembError
from ..formats.fasttext import FastTextModelFile, from_supervised, from_word2vec, label_prefix
from ..formats.quantization import QuantizedMatrix
from ..models.supervised import SupervisedModel
from ..text.labelled import lines_stream, read_words
from ..text.vocab import EOS


def _one_line(text, method: str) -> str:
    """fastText's methods read one line: a newline inside ``text`` is an error, as in fastText."""
    check_text(text, "text")
    if "\n" in text:
        raise FastembError(f"{method} processes one line at a time (remove '\\n')")
    return text


def _first_line(text: str) -> str:
    """``text`` up to a literal ``</s>``: fastText's reader ends the line there (the end token is then its
    last word, as for every line)."""
    tokens = read_words(text)
    return " ".join(tokens[:tokens.index(EOS)]) if EOS in tokens else text


class FastTextModel:
    """fastText's model object: word vectors, subwords, and for a classifier predict, test and quantize."""

    def __init__(self, file: FastTextModelFile, classifier: SupervisedModel | None, prefix: str | None = None,
                 training: dict | None = None):
        self._file = file
        self._classifier = classifier
        self._label_prefix = prefix or label_prefix(file.labels)
        self._training = dict(training or {})  # fastText's arguments of the run, for quantize's retraining
        self._vectors = None

    @classmethod
    def from_trained(cls, model, prefix: str | None = None, training: dict | None = None) -> "FastTextModel":
        """A fastemb model: a SupervisedModel or a Word2VecModel."""
        if isinstance(model, SupervisedModel):
            return cls(from_supervised(model), model, model.config.label_prefix, training)
        return cls(from_word2vec(model), None, prefix, training)

    @classmethod
    def from_file(cls, file: FastTextModelFile) -> "FastTextModel":
        return cls(file, SupervisedModel.from_fasttext(file) if file.supervised else None)

    # -- what the model is -------------------------------------------------------------------

    def is_quantized(self) -> bool:
        return self._file.input_codes is not None

    def get_dimension(self) -> int:
        return self._file.dim

    def _decode(self, blob: bytes, on_unicode_error: str) -> str:
        return blob.decode("utf-8", on_unicode_error)

    def get_words(self, include_freq: bool = False, on_unicode_error: str = "strict"):
        words = self._file.words
        starts = words.starts.tolist()
        found = [self._decode(words.blob[a:b], on_unicode_error) for a, b in zip(starts, starts[1:])]
        return (found, np.asarray(self._file.word_counts, dtype=np.int64)) if include_freq else found

    def get_labels(self, include_freq: bool = False, on_unicode_error: str = "strict"):
        """A classifier's labels; a word model's words, as fastText gives."""
        if not self._file.supervised:
            return self.get_words(include_freq, on_unicode_error)
        labels = list(self._file.labels)
        return (labels, np.asarray(self._file.label_counts, dtype=np.int64)) if include_freq else labels

    @property
    def words(self) -> list[str]:
        return self.get_words()

    @property
    def labels(self) -> list[str]:
        return self.get_labels()

    def get_word_id(self, word: str) -> int:
        """The word's id, a label's id in the whole dictionary (after the words), else -1 (as fastText)."""
        check_text(word, "word")
        found = self._file.word_id(word)
        if found < 0 and self.get_label_id(word) >= 0:
            return self._file.n_words + self.get_label_id(word)
        return found

    def get_label_id(self, label: str) -> int:
        check_text(label, "label")
        try:
            return self._file.labels.index(label)
        except ValueError:
            return -1

    def get_subword_id(self, subword: str) -> int:
        """The input row fastText hashes a character n-gram to."""
        from ..kernels.hashing import fnv1a
        check_text(subword, "subword")
        buckets = int(self._file.args["bucket"])
        if buckets <= 0:
            raise FastembError("the model has no hash buckets (bucket 0): a subword has no row")
        data = np.frombuffer(subword.encode("utf-8", "surrogateescape"), dtype=np.uint8)
        return self._file.n_words + int(fnv1a(data, 0, len(data))) % buckets

    def get_subwords(self, word: str, on_unicode_error: str = "strict"):
        """(subwords, their input rows): the word itself if it is in the vocabulary, then its character
        n-grams."""
        from ..text.subwords import ngram_strings
        check_text(word, "word")
        rows = self._file.subword_rows(word)
        known = [word] if self._file.word_id(word) >= 0 else []
        strings = known + [self._decode(s, on_unicode_error) for s in ngram_strings(word, self._file.subword_settings)]
        return strings, np.asarray(rows, dtype=np.int64)

    # -- vectors -----------------------------------------------------------------------------

    def get_word_vector(self, word: str) -> np.ndarray:
        check_text(word, "word")
        return self._file.word_vector(word)

    def __getitem__(self, word: str) -> np.ndarray:
        return self.get_word_vector(word)

    def __contains__(self, word) -> bool:
        return isinstance(word, str) and self._file.word_id(word) >= 0

    def get_input_vector(self, ind: int) -> np.ndarray:
        return np.array(self._file.input_rows[ind], dtype=np.float32)

    def get_input_matrix(self) -> np.ndarray:
        if self.is_quantized():
            raise FastembError("Can't get quantized Matrix")
        return np.array(self._file.input_rows, dtype=np.float32)

    def get_output_matrix(self) -> np.ndarray:
        if self._file.output_codes is not None:
            raise FastembError("Can't get quantized Matrix")
        return np.array(self._file.output_rows, dtype=np.float32)

    def get_sentence_vector(self, text: str) -> np.ndarray:
        """A classifier's: the mean of the line's input rows (words, </s>, n-grams); a word model's: the mean
        of its words' unit vectors (words with a zero vector left out)."""
        text = _one_line(text, "get_sentence_vector")
        if self._classifier is not None:
            rows = self._classifier.encode(lines_stream([_first_line(text)], True)).rows
            return self._classifier.input_rows[rows].mean(axis=0) if len(rows) else np.zeros(self.get_dimension(),
                                                                                      np.float32)
        vectors = self._file.word_vectors(text.split())
        norms = np.linalg.norm(vectors, axis=1)
        kept = vectors[norms > 0] / norms[norms > 0, None]
        return kept.mean(axis=0).astype(np.float32) if len(kept) else np.zeros(self.get_dimension(), np.float32)

    def _vocabulary_vectors(self):
        from ..models.vectors import Vectors
        if self._vectors is None:
            self._vectors = Vectors(self.get_words(on_unicode_error="replace"), self._file.vocabulary_vectors())
        return self._vectors

    def get_nearest_neighbors(self, word: str, k: int = 10, on_unicode_error: str = "strict"):
        """[(cosine, word)] of the k vocabulary words nearest to ``word``'s vector, the word itself left out."""
        check_text(word, "word")
        found = self._vocabulary_vectors().nearest(self.get_word_vector(word), k, exclude=[word])
        return [(score, found_word) for found_word, score in found]

    def get_analogies(self, wordA: str, wordB: str, wordC: str, k: int = 10, on_unicode_error: str = "strict"):
        """[(cosine, word)] nearest to A - B + C (each a unit vector), the three words left out."""
        query = np.zeros(self.get_dimension(), np.float32)
        for word, sign in ((wordA, 1.0), (wordB, -1.0), (wordC, 1.0)):
            vector = self.get_word_vector(word)
            query += sign * vector / (np.linalg.norm(vector) + 1e-8)
        found = self._vocabulary_vectors().nearest(query, k, exclude=[wordA, wordB, wordC])
        return [(score, found_word) for found_word, score in found]

    # -- lines -------------------------------------------------------------------------------

    def get_line(self, text, on_unicode_error: str = "strict"):
        """(words, labels) of one line, or of each line of a list: every word (known or not, </s> last) and
        the known labels."""
        if isinstance(text, list):
            pairs = [self.get_line(line, on_unicode_error) for line in text]
            return [words for words, _ in pairs], [labels for _, labels in pairs]
        text = _one_line(text, "get_line")
        known_labels = set(self._file.labels)
        words, labels = [], []
        for token in read_words(text + "\n"):
            if not token.startswith(self._label_prefix) or token == EOS:
                words.append(token)
            elif token in known_labels:
                labels.append(token)
            if token == EOS:
                break
        return words, labels

    # -- the classifier ----------------------------------------------------------------------

    def _require_classifier(self, method: str) -> SupervisedModel:
        if self._classifier is None:
            raise FastembError(f"{method} needs a classifier (a model of train_supervised); this is a word model")
        return self._classifier

    def predict(self, text, k: int = 1, threshold: float = 0.0, on_unicode_error: str = "strict"):
        """One line: (labels, probabilities); a list of lines: (a list of labels, a list of probabilities)."""
        classifier = self._require_classifier("predict")
        if isinstance(text, list):
            lines = [_first_line(_one_line(line, "predict")) for line in text]
            found = classifier.predict(lines, k, threshold) if lines else []
            return [list(labels) for labels, _ in found], [np.asarray(probs, np.float32) for _, probs in found]
        labels, probs = classifier.predict(_first_line(_one_line(text, "predict")), k, threshold)
        return labels, np.asarray(probs, dtype=np.float64)

    def test(self, path: str, k: int = 1, threshold: float = 0.0) -> tuple[int, float, float]:
        return self._require_classifier("test").test(path, k, threshold)

    def test_label(self, path: str, k: int = 1, threshold: float = 0.0) -> dict:
        """{label: {"precision", "recall", "f1score"}} over the lines of ``path``."""
        result = self._require_classifier("test_label").evaluate(path, k, threshold)
        return {label: {"precision": p, "recall": r, "f1score": 0.0 if np.isnan(f) else f}
                for label, p, r, f in result.per_label()}

    # -- quantization and saving -------------------------------------------------------------

    def quantize(self, input=None, qout: bool = False, cutoff: int = 0, retrain: bool = False, epoch=None,
                 lr=None, thread=None, verbose=None, dsub: int = 2, qnorm: bool = False) -> None:
        """Product-quantize the input rows (models.quantization), and with ``qout`` the output rows; the
        classifier then predicts from the rows the codes stand for."""
        classifier = self._require_classifier("quantize")
        if retrain and not input:
            raise FastembError("Need input file path if retraining")
        if cutoff or retrain:
            raise FastembError("quantize with cutoff or retrain (pruning the vocabulary) is not supported by "
                               "fastemb; quantize the whole input matrix (cutoff=0)")
        if qout and classifier.config.loss == "hs":
            raise FastembError("qout with loss hs is not supported by fastemb (its output rows are tree nodes)")
        input_codes = QuantizedMatrix.quantize(self._file.input_rows, dsub, qnorm)
        output_codes = QuantizedMatrix.quantize(self._file.output_rows, 2, qnorm) if qout else None
        self._file.input_codes, self._file.output_codes = input_codes, output_codes
        self._file.input_rows = classifier.input_rows = input_codes.decode()
        if output_codes is not None:
            self._file.output_rows = classifier.output_rows = output_codes.decode()
        self._vectors = None

    def save_model(self, path: str) -> None:
        """fastText's ``.bin``, or its quantized ``.ftz`` after ``quantize``: files fastText loads."""
        check_text(path, "path")
        self._file.save(path)
