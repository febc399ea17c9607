"""The NER cascade: the model reads only a few words around each word that can be or announce a name.

A trained pipeline costs about 30 µs a word here; most words of a text are neither a name nor next to one. For each
text, `name_windows` finds the trigger words: capitalised words that are not stop words of the language ("Pierre",
"Lyon", "ACME", the "Italie" of "l'Italie"; not "Le" or "Nous"), and the pipeline's cue words, lower-case words its
training data labelled inside names ("madre", "hijo", "familiares" in MEDDOCAN: relatives are PERSON there). Each
trigger opens a window of WINDOW_WORDS words either side; overlapping or touching windows merge. `join_windows`
puts a text's windows into one text, separated by a blank line, so the pipeline still runs once per document (many
small spaCy docs cost more than they save); `map_back` returns the entities to the original text's offsets, cut at
the joins. A text with no trigger is not analysed at all.

Measured in docs/pii.md ("The word-window cascade"): on MEDDOCAN it leaks no more names than whole-text NER and
finds the same PERSON spans; on the benchmark corpus's pages the model reads about half the text.
"""

from __future__ import annotations

import bisect
import copy
import functools
import json
import re
from pathlib import Path

import regex

WINDOW_WORDS = 4  # words either side of a trigger
JOIN = "\n\n"  # between two windows in the text the model reads
CUE_KEY = "terroir_cue_words"  # meta.json key where `terroir train-ner` stores a pipeline's cue words
# Scripts without letter case: a capital letter says nothing there, so such texts are always analysed whole.
CASELESS = frozenset({"ja", "zh", "ko", "th", "lo", "km", "my", "ar", "fa", "ur", "he", "yi", "hi", "mr", "ne", "bn",
                      "ta", "te", "kn", "ml", "gu", "pa", "si", "ka", "am", "ti", "bo"})  # fmt: skip
_CAPITALISED = regex.compile(r"(?<![\p{L}\p{M}\p{N}])\p{Lu}[\p{L}\p{M}'’\-]*")
_LOWER_WORD = regex.compile(r"(?<![\p{L}\p{M}\p{N}])\p{Ll}[\p{L}\p{M}]*")
_WORD = re.compile(r"\S+")  # the standard library's engine: faster for this simple pattern


def cue_words_of(pipeline_dir: Path | None) -> frozenset[str]:
    """The cue words a pipeline folder's meta.json lists (`terroir train-ner` writes them); none for other pipelines."""
    if pipeline_dir is None or not (pipeline_dir / "meta.json").is_file():
        return frozenset()
    try:
        meta = json.loads((pipeline_dir / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    words = meta.get(CUE_KEY) or []
    return frozenset(w for w in words if isinstance(w, str))


def cue_words(texts_and_spans, stop_words, min_documents: int = 2) -> list[str]:
    """Lower-case words found inside labelled name spans of at least `min_documents` training documents.

    texts_and_spans: (text, [(start, end), ...]) per document. A word of one document only is left out: a name a
    nation's data happens to write in lower case stays out of the list; kinship and role words ("madre") remain.
    """
    seen: dict[str, set[int]] = {}
    for i, (text, spans) in enumerate(texts_and_spans):
        for start, end in spans:
            for m in _LOWER_WORD.finditer(text, start, end):
                w = m.group(0)
                if len(w) > 1 and w not in stop_words:
                    seen.setdefault(w, set()).add(i)
    return sorted(w for w, docs in seen.items() if len(docs) >= min_documents)


@functools.lru_cache(maxsize=32)
def _cue_pattern(cues: frozenset[str]):
    """One pattern for a pipeline's cue words, as whole words (one regex scan instead of a look-up per word)."""
    alternatives = "|".join(regex.escape(w) for w in sorted(cues, key=lambda w: (-len(w), w)))
    return regex.compile(rf"(?<![\p{{L}}\p{{M}}\p{{N}}])(?:{alternatives})(?![\p{{L}}\p{{M}}])")


def _triggers(text: str, stop_words, cues: frozenset[str]) -> list[int]:
    """Character offsets of the trigger words of `text` (capitalised non-stop words, cue words)."""
    found = [m.start() for m in _CAPITALISED.finditer(text) if m.group(0).lower() not in stop_words]
    if cues:
        found += [m.start() for m in _cue_pattern(frozenset(cues)).finditer(text)]
    return sorted(found)


def name_windows(text: str, stop_words, cues=frozenset(), width: int = WINDOW_WORDS) -> list[tuple[int, int]]:
    """(start, end) character spans of `text` the model must read: `width` words either side of each trigger."""
    words = [m.span() for m in _WORD.finditer(text)]
    if not words:
        return []
    starts = [s for s, _ in words]
    runs: list[list[int]] = []
    for pos in _triggers(text, stop_words, cues):
        i = bisect.bisect_right(starts, pos) - 1  # the word holding the trigger
        a, b = max(0, i - width), min(len(words) - 1, i + width)
        if runs and a <= runs[-1][1] + 1:
            runs[-1][1] = max(runs[-1][1], b)
        else:
            runs.append([a, b])
    return [(words[a][0], words[b][1]) for a, b in runs]


def join_windows(text: str, windows: list[tuple[int, int]]) -> tuple[str, list[tuple[int, int, int]]]:
    """(the text the model reads, [(offset there, offset in `text`, length), ...]) for `windows` of `text`."""
    parts, segments, pos = [], [], 0
    for start, end in windows:
        segments.append((pos, start, end - start))
        parts.append(text[start:end])
        pos += end - start + len(JOIN)
    return JOIN.join(parts), segments


def map_back(results: list, segments: list[tuple[int, int, int]]) -> list:
    """Results found in the joined text, at their offsets in the original text; one that crosses a join is cut
    into its parts on either side (each redacted), never dropped."""
    out = []
    for r in results:
        for joined_at, start, length in segments:
            a, b = max(r.start, joined_at), min(r.end, joined_at + length)
            if a < b:
                part = copy.copy(r)
                part.start, part.end = start + a - joined_at, start + b - joined_at
                out.append(part)
    return out
