"""Presidio's analysis, run only where a candidate exists: the same findings as `AnalyzerEngine.analyze`, faster.

Stock Presidio runs every recognizer's every regex over the whole text, runs libphonenumber on every number for every
region, and pays per-call overhead (registry lookups, explanations, deep copies). Most documents hold no personal
data, so `FastAnalyzer` first asks, per pattern, where a match could possibly be (`filters.pii.prescan`, from each
regex's parse tree, so no match can be missed), and runs Presidio's pattern logic (regex, `validate_result`,
`invalidate_result`, scores, de-duplication) only there.

Phone numbers go through libphonenumber's own `PhoneNumberMatcher`, which is skipped when no run of digits and phone
punctuation holds enough digits for a valid number, and which skips a candidate that has fewer digits than the
shortest valid number it could parse to (both from libphonenumber's metadata). The one difference from stock: the
matcher gives up after 65,535 rejected candidates per text, and skipped candidates do not count towards that limit,
so on such a text the fast path can only find more, never less.

Context words raise scores through `filters.pii.context.PrecedingWordsContextEnhancer`, which reads the raw text (no
NLP model); the stock engine used for comparison is given the same enhancer, so both paths score alike.
"""

from __future__ import annotations

from dataclasses import dataclass

from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from filters.pii.prescan import DocumentIndex, plan_pattern


def _kind(rec) -> str:
    """How the fast path runs a recognizer: its own pattern logic, libphonenumber, IBAN's logic, or as is."""
    from presidio_analyzer.predefined_recognizers import IbanRecognizer

    if isinstance(rec, PatternRecognizer) and type(rec).analyze is PatternRecognizer.analyze:
        return "pattern"
    if isinstance(rec, PhoneRecognizer) and type(rec).analyze is PhoneRecognizer.analyze:
        return "phone"
    if isinstance(rec, IbanRecognizer) and type(rec).analyze is IbanRecognizer.analyze:
        return "iban"
    return "call"


@dataclass
class _Prepared:
    rec: object
    kind: str
    entity: str
    plans: list  # (Presidio Pattern, PatternPlan)
    meta: dict
    unreachable: tuple = ()  # patterns whose score cannot reach the analyzer's threshold (set by FastAnalyzer)


class PreparedRecognizers:
    """A fixed list of recognizers with their scan plans, ready for `FastAnalyzer.analyze`."""

    def __init__(self, recognizers: list) -> None:
        self.recognizers = list(recognizers)
        self.entities = sorted({e for r in self.recognizers for e in r.supported_entities})
        self.items = []
        for rec in self.recognizers:
            kind = _kind(rec)
            plans = []
            if kind in ("pattern", "iban") or (kind == "call" and isinstance(rec, PatternRecognizer)):
                plans = [(p, plan_pattern(p.regex, rec.global_regex_flags)) for p in rec.patterns]
            meta = {RecognizerResult.RECOGNIZER_NAME_KEY: rec.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id}
            self.items.append(_Prepared(rec, kind, rec.supported_entities[0], plans, meta))
        base = EntityRecognizer.enhance_using_context
        self.overriding = any(type(r).enhance_using_context is not base for r in self.recognizers)
        self.threshold_for: tuple | None = None  # (threshold, enhancer) the `unreachable` sets were computed for


class FastAnalyzer:
    """`analyze(text, prepared)` returns what `AnalyzerEngine.analyze` returns for the same recognizers.

    Same engine settings as the comparison engine: an explicit `score_threshold`, the given context enhancer, no
    NLP artifacts (NER is run by the caller, separately). Results carry no analysis explanations.
    """

    def __init__(self, context_enhancer: ContextAwareEnhancer, score_threshold: float) -> None:
        self.context_enhancer = context_enhancer
        self.score_threshold = score_threshold

    @staticmethod
    def _pattern_results(item: _Prepared, text: str, index: DocumentIndex) -> list[RecognizerResult]:
        # Mirrors PatternRecognizer.__analyze_patterns: score, validate, invalidate, drop zero scores, de-duplicate.
        rec = item.rec
        results = []
        for pattern, plan in item.plans:
            if pattern in item.unreachable:
                continue
            for m in index.matches(plan):
                start, end = m.span()
                if start == end:
                    continue
                value = text[start:end]
                score = pattern.score
                valid = rec.validate_result(value)
                if valid is not None:
                    score = EntityRecognizer.MAX_SCORE if valid else EntityRecognizer.MIN_SCORE
                invalid = rec.invalidate_result(value)
                if invalid is not None and invalid:
                    score = EntityRecognizer.MIN_SCORE
                if score > EntityRecognizer.MIN_SCORE:
                    results.append(RecognizerResult(item.entity, start, end, score, None, dict(item.meta)))
        return EntityRecognizer.remove_duplicates(results) if results else results

    @staticmethod
    def _iban_results(item: _Prepared, text: str, index: DocumentIndex) -> list[RecognizerResult]:
        # Mirrors IbanRecognizer.__analyze_patterns: per match, the longest group-trimmed span that validates.
        rec = item.rec
        results = []
        for pattern, plan in item.plans:
            for match in index.matches(plan):
                for group in reversed(range(1, len(match.groups()) + 1)):
                    start = match.span(0)[0]
                    end = match.span(group)[1] if match.span(group)[1] > 0 else match.span(0)[1]
                    value = text[start:end]
                    if value == "":
                        continue
                    score = pattern.score
                    valid = rec.validate_result(value)
                    if valid is not None:
                        score = EntityRecognizer.MAX_SCORE if valid else EntityRecognizer.MIN_SCORE
                    if score > EntityRecognizer.MIN_SCORE:
                        results.append(RecognizerResult(item.entity, start, end, score, None, dict(item.meta)))
                        break
        return results

    def _run(self, item: _Prepared, text: str, entities: list[str], index: DocumentIndex) -> list[RecognizerResult]:
        kind = item.kind
        if kind == "pattern":
            return self._pattern_results(item, text, index)
        if kind == "phone":
            from filters.pii.recognizers.libphone import phone_results

            return phone_results(item.rec, text, index)
        if kind == "iban":
            return self._iban_results(item, text, index)
        if item.plans and not any(index.could_match(plan) for _, plan in item.plans):
            return []  # a custom analyze() that finds values with its own patterns: none can match
        results = item.rec.analyze(text=text, entities=entities, nlp_artifacts=None) or []
        for r in results:
            if r.recognition_metadata is None:
                r.recognition_metadata = {}
            for k, v in item.meta.items():
                r.recognition_metadata.setdefault(k, v)
        return results

    def _mark_unreachable(self, prepared: PreparedRecognizers) -> None:
        """Skip patterns that can never reach the threshold: no check can raise their score (validate_result is
        Presidio's default) and context adds at most the enhancer's factor. Dropping them changes no result: a
        lower-scored result never removes another in Presidio's de-duplication, and the threshold drops it later.
        (Presidio's PAN "Low" pattern, score 0.01, has look-aheads that scan to the text's end at every word.)"""
        key = (self.score_threshold, id(self.context_enhancer))
        if prepared.threshold_for == key or prepared.overriding:
            return
        enhancer = self.context_enhancer
        factor = getattr(enhancer, "context_similarity_factor", 1.0)
        floor = getattr(enhancer, "min_score_with_context_similarity", 1.0)
        for item in prepared.items:
            rec = item.rec
            if item.kind != "pattern" or type(rec).validate_result is not PatternRecognizer.validate_result:
                continue
            best = (lambda s: min(max(s + factor, floor), 1.0)) if rec.context else (lambda s: s)
            item.unreachable = tuple(p for p, _ in item.plans if best(p.score) < self.score_threshold)
        prepared.threshold_for = key

    def analyze(self, text: str, prepared: PreparedRecognizers) -> list[RecognizerResult]:
        """Results above the threshold, de-duplicated as Presidio does (highest score first)."""
        self._mark_unreachable(prepared)
        index = DocumentIndex(text)
        results: list[RecognizerResult] = []
        for item in prepared.items:
            found = self._run(item, text, prepared.entities, index)
            if found:
                results.extend(found)
        if not results:
            return []
        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        if prepared.overriding:  # recognizer-level context logic, grouped as AnalyzerEngine does
            regrouped: list[RecognizerResult] = []
            for rec in prepared.recognizers:
                mine = [r for r in results if r.recognition_metadata[key] == rec.id]
                others = [r for r in results if r.recognition_metadata[key] != rec.id]
                regrouped.extend(rec.enhance_using_context(text, mine, others, None, None))
            results = regrouped
        results = self.context_enhancer.enhance_using_context(
            text=text, raw_results=results, nlp_artifacts=None, recognizers=prepared.recognizers, context=None
        )
        results = [r for r in results if r.score >= self.score_threshold]
        return EntityRecognizer.remove_duplicates(results)
