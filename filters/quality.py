"""Quality heuristics from datatrove (Gopher quality, Gopher repetition, FineWeb), applied where they fit a language.

Gopher's stop-word rule counts English stop words, so it is applied to English only; languages for which datatrove
has no word tokenizer installed are passed with a recorded reason rather than judged by the wrong tokenizer.
"""

from __future__ import annotations

from functools import lru_cache

KEEP = (True, "passed")


@lru_cache(maxsize=256)
def _filters_for(names: tuple[str, ...], lang: str):
    from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    try:
        load_word_tokenizer(lang).word_tokenize("probe")
    except Exception:  # noqa: BLE001 - missing optional tokenizer package or unassigned language
        return None
    out = []
    for name in names:
        if name == "gopher_quality":
            out.append((name, GopherQualityFilter(language=lang, min_stop_words=2 if lang == "en" else None)))
        elif name == "gopher_repetition":
            out.append((name, GopherRepetitionFilter(language=lang)))
        elif name == "fineweb":
            out.append((name, FineWebQualityFilter(language=lang)))
    return out


class QualityFilter:
    """`check(text, lang)` → (keep, reason). The reason names the filter and its rule when a document is dropped."""

    def __init__(self, filters: tuple[str, ...]) -> None:
        self.filters = tuple(filters)

    def check(self, text: str, lang: str | None) -> tuple[bool, str]:
        from datatrove.data import Document as DtDocument

        filters = _filters_for(self.filters, lang or "und") if lang else None
        if filters is None:
            return True, f"not assessed: no word tokenizer for language {lang!r}"
        doc = DtDocument(text=text, id="q")
        for name, f in filters:
            res = f.filter(doc)
            ok, why = (res, "") if isinstance(res, bool) else (res[0], res[1] if len(res) > 1 else "")
            if not ok:
                return False, f"{name}: {why or 'rejected'}"
        return KEEP
