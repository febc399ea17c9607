"""Quality heuristics from datatrove (Gopher quality, Gopher repetition, FineWeb), applied where they fit a language.

Gopher's stop-word rule counts English stop words, so it is applied to English only; languages for which datatrove
has no word tokenizer installed are passed with a recorded reason rather than judged by the wrong tokenizer.

Words are found by a Unicode regex tokenizer for space-delimited scripts (`tokenizer="fast"`, the default) or by
datatrove's own tokenizers (`"datatrove"`, spaCy-based, roughly 20× slower); unspaced scripts always use datatrove's.
`benchmarks/bench_quality_tokenizer.py` measures how often the two lead to the same decision.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import regex

KEEP = (True, "passed")

# Scripts written without spaces between words: a regex cannot find their words, datatrove's tokenizers can.
_UNSPACED = {"ja", "zh", "th", "ko", "lo", "km", "my", "bo", "dz", "wuu", "yue"}
# letters with their combining marks (Devanagari vowel signs are marks, not `\w`), digits; apostrophes inside words
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}_]+(?:['’][\p{L}\p{M}\p{N}_]+)*|[^\p{L}\p{M}\p{N}_\s]")
_SPACE = re.compile(r"\s")
_SENT_END = re.compile(r"(?<=[.!?。！？])\s+")


@lru_cache(maxsize=1)
def fast_tokenizer_class():
    from datatrove.utils.word_tokenizers import WordTokenizer

    class FastWordTokenizer(WordTokenizer):
        """Unicode word/punctuation regex: words, numbers and each punctuation mark are tokens, as in datatrove's
        spaCy tokenizers for space-delimited scripts, at a fraction of the cost."""

        _last: tuple[str | None, list[str]] = (None, [])

        def word_tokenize(self, text: str) -> list[str]:
            # the three filters tokenize the same text object one after another: tokenize it once
            last_text, last_words = self._last
            if text is not last_text:
                last_words = _WORD.findall(text, concurrent=False)  # keep the GIL: see filters/pii/prescan.py
                self._last = (text, last_words)
            return list(last_words)

        def sent_tokenize(self, text: str) -> list[str]:
            return [s for s in _SENT_END.split(text) if s]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            spans, pos = [], 0
            for s in self.sent_tokenize(text):
                start = text.index(s, pos)
                spans.append((start, start + len(s)))
                pos = start + len(s)
            return spans

    return FastWordTokenizer


@lru_cache(maxsize=1)
def fast_repetition_class():
    """datatrove's Gopher repetition rules, same decisions and reasons, with n-grams taken as slices of one joined
    string instead of building a list and joining it for every position (the filter's hot spot).

    Shortcuts: the most common 2/3/4-gram is counted on integer word ids (exact: same gram, same first-seen
    tie-break as `Counter.most_common`); the duplicated 5..10-gram scan stops at the first n without any repeated
    n-gram, since a longer repeated n-gram contains a repeated shorter one, and whether an n-gram repeats is first
    asked of the integer ids (one `numpy.unique`), the string scan running only when one does. The one case where
    datatrove could still reject is a text whose n-grams only collide when joined without spaces across different
    word boundaries, over more than a tenth of the text: never seen on the corpora in tests/ and benchmarks/.
    """
    from collections import Counter

    from datatrove.pipeline.filters import GopherRepetitionFilter
    from datatrove.pipeline.filters.gopher_repetition_filter import find_duplicates
    from datatrove.utils.text import split_into_words

    class FastGopherRepetitionFilter(GopherRepetitionFilter):
        def filter(self, doc):
            text = doc.text
            if not text:
                return False, "empty"
            paragraphs = self.paragraph_exp.split(text.strip())
            para_dups, char_dups = find_duplicates(paragraphs)
            if self.dup_para_frac and para_dups / len(paragraphs) > self.dup_para_frac:
                return False, "dup_para_frac"
            if self.dup_para_char_frac and char_dups / len(text) > self.dup_para_char_frac:
                return False, "dup_para_char_frac"
            lines = self._line_splitter.split(text)
            line_dups, char_dups = find_duplicates(lines)
            if self.dup_line_frac and line_dups / len(lines) > self.dup_line_frac:
                return False, "dup_line_frac"
            if self.dup_line_char_frac and char_dups / len(text) > self.dup_line_char_frac:
                return False, "dup_line_char_frac"
            words = split_into_words(text, self.language)
            n_words = len(words)
            # offsets of each word in " ".join(words) and in "".join(words)
            spaced, packed = " ".join(words), "".join(words)
            lengths = np.fromiter(map(len, words), dtype=np.int64, count=n_words)
            pk_start = np.zeros(n_words + 1, dtype=np.int64)
            np.cumsum(lengths, out=pk_start[1:])
            sp_start = (pk_start + np.arange(n_words + 1)).tolist()
            pk_start = pk_start.tolist()
            # words as integers: an n-gram is then one exact integer key (while the vocabulary is small enough), and
            # two spaced n-grams are equal iff their words are, as long as no word holds whitespace
            wid = None
            if n_words and not _SPACE.search(packed):
                if n_words * int(lengths.max()) <= 1 << 22:  # a fixed-width array of at most 16 MB: sort it in C
                    _, wid = np.unique(np.array(words), return_inverse=True)
                else:  # a few very long "words" (a data blob): a dict, not a padded array
                    vocab: dict[str, int] = {}
                    wid = np.fromiter((vocab.setdefault(w, len(vocab)) for w in words), np.int64, count=n_words)
                v = max(int(wid.max()) + 1, 2)

            def gram_keys(n: int, m: int):
                if wid is None or v**n >= 2**62:
                    return None
                key = np.zeros(m, dtype=np.int64)
                for k in range(n):
                    key = key * v + wid[k : k + m]
                return key

            for n, n_frac in self.top_n_grams:
                m = n_words - n + 1
                if m <= 0:
                    continue
                key = gram_keys(n, m)
                if key is not None:
                    _, first, counts = np.unique(key, return_index=True, return_counts=True)
                    count = int(counts.max())
                    i = int(first[counts == count].min())  # Counter.most_common(1): the first-seen of the most common
                    gram_len = sp_start[i + n] - 1 - sp_start[i]
                else:
                    counts = Counter(spaced[sp_start[i] : sp_start[i + n] - 1] for i in range(m))
                    gram, count = counts.most_common(1)[0]
                    gram_len = len(gram)
                if gram_len * count / len(text) > n_frac:
                    return False, f"top_{n}_gram"
            for n, n_frac in sorted(self.dup_n_grams):
                # no repeated n-gram means no repeated longer one (each would contain a repeated n-gram): with
                # n ascending, the first n without repetition decides the rest, exactly as scanning them would
                m = n_words - n + 1
                key = gram_keys(n, m) if m > 0 else None
                if key is not None and len(np.unique(key)) == m:
                    break  # no word n-gram occurs twice: the scan below would find nothing (see the class doc)
                seen: set[str] = set()
                repeated, idx = 0, 0
                while idx < n_words - n + 1:
                    gram = packed[pk_start[idx] : pk_start[idx + n]]
                    if gram in seen:
                        repeated += len(gram)
                        idx += n
                    else:
                        seen.add(gram)
                        idx += 1
                if repeated / len(text) > n_frac:
                    return False, f"duplicated_{n}_n_grams"
                if not repeated:
                    break
            return True

    return FastGopherRepetitionFilter


@lru_cache(maxsize=1)
def fast_gopher_quality_class():
    """datatrove's Gopher quality rules, same decisions and reasons, with the per-word tests (has a non-punctuation
    character, has a letter) done once per distinct word, remembered across documents, instead of once per
    occurrence (its per-word comprehensions were a third of the quality stage, docs/benchmarks.md)."""
    from collections import Counter

    from datatrove.pipeline.filters import GopherQualityFilter
    from datatrove.utils.text import PUNCTUATION_SET, split_into_words

    flags: dict[str, tuple[bool, bool]] = {}

    def word_flags(w: str) -> tuple[bool, bool]:
        f = flags.get(w)
        if f is None:
            if len(flags) > 1_000_000:
                flags.clear()
            f = flags[w] = (not set(w) <= PUNCTUATION_SET, any(c.isalpha() for c in w))
        return f

    class FastGopherQualityFilter(GopherQualityFilter):
        name = "Gopher Quality (fast)"

        def __init__(self, *args, alpha_over_words: bool = False, **kwargs):
            super().__init__(*args, **kwargs)
            # Gopher's rule is "80% of words contain a letter"; datatrove counts every punctuation token as a word,
            # so prose with dialogue or verse fails it: with `alpha_over_words` only tokens that are not all
            # punctuation are counted (the one deliberate difference from datatrove; docs/benchmarks.md)
            self.alpha_over_words = alpha_over_words

        def filter(self, doc):
            text = doc.text
            words = split_into_words(text, self.language)
            n_words = len(words)
            counts = Counter(words)
            n_symbolless = chars_symbolless = n_alpha = 0
            for w, c in counts.items():
                symbolless, alpha = word_flags(w)
                if symbolless:
                    n_symbolless += c
                    chars_symbolless += c * len(w)
                if alpha:
                    n_alpha += c
            if self.min_doc_words and n_symbolless < self.min_doc_words:
                return False, "gopher_short_doc"
            if self.max_doc_words and n_symbolless > self.max_doc_words:
                return False, "gopher_long_doc"
            # the mean length of words with a non-punctuation character (NaN when there is none, as numpy gives)
            avg = chars_symbolless / n_symbolless if n_symbolless else float("nan")
            if self.min_avg_word_length and avg < self.min_avg_word_length:
                return False, "gopher_below_avg_threshold"
            if self.max_avg_word_length and avg > self.max_avg_word_length:
                return False, "gopher_above_avg_threshold"
            if self.max_symbol_word_ratio and text.count("#") / n_words > self.max_symbol_word_ratio:
                return False, "gopher_too_many_hashes"
            ellipses = text.count("...") + text.count("…")
            if self.max_symbol_word_ratio and ellipses / n_words > self.max_symbol_word_ratio:
                return False, "gopher_too_many_ellipsis"
            lines = text.splitlines()
            if self.max_bullet_lines_ratio:
                bullets = sum(1 for line in lines if line.lstrip().startswith(("•", "-")))
                if bullets / len(lines) > self.max_bullet_lines_ratio:
                    return False, "gopher_too_many_bullets"
            if self.max_ellipsis_lines_ratio:
                trailing = sum(1 for line in lines if line.rstrip().endswith(("...", "…")))
                if trailing / len(lines) > self.max_ellipsis_lines_ratio:
                    return False, "gopher_too_many_end_ellipsis"
            alpha_base = n_symbolless if self.alpha_over_words else n_words
            if self.max_non_alpha_words_ratio and (n_alpha / alpha_base if alpha_base else 0.0) < (
                self.max_non_alpha_words_ratio
            ):
                return False, "gopher_below_alpha_threshold"
            if self.min_stop_words and len(self.stop_words.intersection(counts)) < self.min_stop_words:
                return False, "gopher_enough_stop_words"
            return True

    return FastGopherQualityFilter


@lru_cache(maxsize=256)
def _filters_for(names: tuple[str, ...], lang: str, tokenizer: str = "fast", alpha_over: str = "tokens"):
    from datatrove.pipeline.filters import FineWebQualityFilter, GopherQualityFilter, GopherRepetitionFilter
    from datatrove.utils.word_tokenizers import load_word_tokenizer

    if tokenizer == "fast" and lang not in _UNSPACED:
        tok = fast_tokenizer_class()(lang)
    else:
        try:
            tok = load_word_tokenizer(lang)
            tok.word_tokenize("probe")
        except Exception:  # noqa: BLE001 - missing optional tokenizer package or unassigned language
            return None
    out = []
    for name in names:
        if name == "gopher_quality":
            stop = 2 if lang == "en" else None
            if tokenizer == "fast" or alpha_over == "words":
                f = fast_gopher_quality_class()(language=tok, min_stop_words=stop, alpha_over_words=alpha_over == "words")
            else:
                f = GopherQualityFilter(language=tok, min_stop_words=stop)
            out.append((name, f))
        elif name == "gopher_repetition":
            cls = fast_repetition_class() if tokenizer == "fast" else GopherRepetitionFilter
            out.append((name, cls(language=tok)))
        elif name == "fineweb":
            out.append((name, FineWebQualityFilter(language=tok)))
    return out


ALPHA_OVER = ("words", "tokens")
LONG_DOCUMENTS = ("split", "exempt", "judge")
_PARA = re.compile(r"\n\s*\n")


def split_words(text: str, limit: int) -> list[str]:
    """`text` cut into consecutive parts of at most about `limit` whitespace-separated words, at paragraph breaks
    where there are any, else at line breaks, else between words; the parts joined back give the text's words."""
    parts: list[str] = []
    last = 0  # words in parts[-1], kept as a running count: re-splitting it per paragraph is quadratic on a book
    for para in _PARA.split(text):
        units = para.split("\n") if len(para.split()) > limit else [para]
        for unit in units:
            words = unit.split()
            chunks = [" ".join(words[i : i + limit]) for i in range(0, len(words), limit)] if len(words) > limit \
                else [unit]  # fmt: skip
            for chunk in chunks:
                n = len(chunk.split())
                if parts and last + n <= limit:
                    sep = "\n\n" if unit is units[0] and chunk is chunks[0] else "\n"
                    parts[-1] = parts[-1] + sep + chunk
                    last += n
                else:
                    parts.append(chunk)
                    last = n
    return [p for p in parts if p.strip()]


class QualityFilter:
    """`check(text, lang)` → (keep, reason). The reason names the filter and its rule when a document is dropped.

    `alpha_over`: `words` (default) takes Gopher's alphabetic-word ratio over words, `tokens` over every token
    including punctuation, as datatrove does. `long_documents` for a text over `long_document_words` words:
    `split` judges it in consecutive parts of at most that many words and keeps it when at least half of them pass
    (a book is not a web page: its speaker names repeat, its chapters differ), `exempt` passes it unjudged with the
    reason recorded, `judge` applies the rules to it whole (datatrove's behaviour: Gopher drops it above 100,000).
    """

    def __init__(
        self,
        filters: tuple[str, ...],
        tokenizer: str = "fast",
        alpha_over: str = "words",
        long_documents: str = "split",
        long_document_words: int = 10_000,
    ) -> None:
        if alpha_over not in ALPHA_OVER:
            raise ValueError(f"alpha_over must be one of {ALPHA_OVER}, got {alpha_over!r}")
        if long_documents not in LONG_DOCUMENTS:
            raise ValueError(f"long_documents must be one of {LONG_DOCUMENTS}, got {long_documents!r}")
        if long_document_words < 100:
            raise ValueError(f"long_document_words must be 100 or more, got {long_document_words}")
        self.filters = tuple(filters)
        self.tokenizer = tokenizer
        self.alpha_over = alpha_over
        self.long_documents = long_documents
        self.long_document_words = long_document_words

    def check(self, text: str, lang: str | None) -> tuple[bool, str]:
        filters = _filters_for(self.filters, lang or "und", self.tokenizer, self.alpha_over) if lang else None
        if filters is None:
            return True, f"not assessed: no word tokenizer for language {lang!r}"
        limit = self.long_document_words
        if self.long_documents != "judge" and len(text.split()) > limit:
            n = len(text.split())
            if self.long_documents == "exempt":
                return True, f"not assessed: long document ({n} words, over {limit})"
            parts = split_words(text, limit)
            verdicts = [self._judge(filters, part) for part in parts]
            passed = sum(ok for ok, _ in verdicts)
            if 2 * passed >= len(parts):
                return True, f"passed: {passed} of {len(parts)} parts of a long document ({n} words)"
            first = next(why for ok, why in verdicts if not ok)
            return False, f"{first} (in {len(parts) - passed} of {len(parts)} parts of a long document, {n} words)"
        return self._judge(filters, text)

    @staticmethod
    def _judge(filters, text: str) -> tuple[bool, str]:
        from datatrove.data import Document as DtDocument

        doc = DtDocument(text=text, id="q")
        for name, f in filters:
            res = f.filter(doc)
            ok, why = (res, "") if isinstance(res, bool) else (res[0], res[1] if len(res) > 1 else "")
            if not ok:
                return False, f"{name}: {why or 'rejected'}"
        return KEEP
