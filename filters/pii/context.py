"""Context words without an NLP model: a score boost from the words just before a hit, read from the raw text."""

from __future__ import annotations

import regex
from presidio_analyzer import RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer


class PrecedingWordsContextEnhancer(ContextAwareEnhancer):
    """Raises a result's score when a context word of its recognizer occurs in the words just before it.

    Presidio's default enhancer needs spaCy lemmas; this one reads the raw text, so it works with `NoOpNlpEngine`.
    It lower-cases the `prefix_words` words before the hit (at most `max_chars` characters back) and looks for each
    context word as a substring, as Presidio's default "substring" mode does: inflected forms ("fødselsnummeret"),
    phrases ("social security") and text without spaces (Japanese, Chinese) all match. A match adds
    `context_similarity_factor` to the score, lifts it to at least `min_score_with_context_similarity` and caps it
    at 1.0. Results are changed in place and returned; nothing is logged.
    """

    _WORD = regex.compile(r"\w+", flags=regex.REVERSE)

    def __init__(
        self,
        context_similarity_factor: float = 0.35,
        min_score_with_context_similarity: float = 0.4,
        prefix_words: int = 5,
        max_chars: int = 80,
    ) -> None:
        super().__init__(
            context_similarity_factor=context_similarity_factor,
            min_score_with_context_similarity=min_score_with_context_similarity,
            context_prefix_count=prefix_words,
            context_suffix_count=0,
        )
        self.max_chars = max_chars
        self._lowered: dict[str, tuple[str, ...]] = {}

    def preceding_text(self, text: str, start: int) -> str:
        """The lower-cased text of the words before `start`, at most `context_prefix_count` words."""
        lo = max(0, start - self.max_chars)
        cut = lo
        for i, m in enumerate(self._WORD.finditer(text, lo, start, concurrent=False)):
            cut = m.start()
            if i + 1 >= self.context_prefix_count:
                break
        return text[cut:start].lower()

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        by_id = {r.id: r for r in recognizers}
        extra = tuple(w.lower() for w in context) if context else ()
        for result in raw_results:
            meta = result.recognition_metadata or {}
            rec = by_id.get(meta.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            if rec is None or not rec.context or meta.get(RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY):
                continue
            words = self._lowered.get(rec.id)
            if words is None:
                words = self._lowered[rec.id] = tuple(w.lower() for w in rec.context)
            before = self.preceding_text(text, result.start)
            if any(w in before for w in words) or any(w in e for w in words for e in extra):
                score = max(result.score + self.context_similarity_factor, self.min_score_with_context_similarity)
                result.score = min(score, ContextAwareEnhancer.MAX_SCORE)
        return raw_results
