"""Where a pattern can match in a text: candidate spans from necessary conditions, so no match is missed.

Stock Presidio runs every recognizer's every regex over the whole text, runs libphonenumber on every number for every
region, and pays per-call overhead (registry lookups, explanations, deep copies). Most documents hold no personal
data, so `FastAnalyzer` first asks, per pattern, where a match could possibly be, and runs Presidio's pattern logic
(regex, `validate_result`, `invalidate_result`, scores, de-duplication) only there. The candidate spans come from
necessary conditions derived from each regex's parse tree, so no match can be missed:

- every match contains at least `k` characters of an "anchor" class (digits, "@", ":", ".", and A-Z for patterns
  compiled without IGNORECASE); a text with fewer has no match at all;
- a match that can never consume whitespace lies inside one whitespace-delimited token at least as long as the
  pattern's shortest match and holding the anchors ("tokens"); one that consumes only digits and Latin letters lies
  inside one run of them ("words");
- otherwise, a match of at most `width` characters lies around a group of anchors less than `width` apart, at most
  `lead` characters before the first and `tail` after the last ("windows", intersected over the anchor classes);
- or, for a case-sensitive pattern whose every match starts with letters and digits in a fixed order (an IBAN's
  "[A-Z]{2}[0-9]{2}"), within `width` after a place where that start occurs ("prefix").

Each span ends where a match could end at the latest; it is scanned with `regex.finditer(text, start, end + look)`:
matching starts at the span (look-behinds still see the real text before it) and `look` covers the pattern's
look-ahead, so every attempt that can succeed sees exactly what it would see in the whole text. An attempt that
succeeds only because it saw the scan's end would end past the span; then the span is scanned again with room for
the widest match. Spans are disjoint and no match can straddle two of them, so the matches found are exactly those
of a whole-text scan. A pattern without a usable condition is scanned whole (behind its anchor counts, if any).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cache

import regex

from filters.pii.regex_shape import regex_shape

# Every `regex` scan here passes concurrent=False: by default `regex` releases the GIL while it matches, and in a
# runner's worker (gRPC and progress threads alive) taking it back costs more than the scan (docs/benchmarks.md).
_ANCHOR_RUNS = {"digit": regex.compile(r"\d+"), "upper": regex.compile(r"[A-Z]+")}
_WS = regex.compile(r"\s")
_WS_BEFORE = regex.compile(r"\s", flags=regex.REVERSE)
_NONWORD = regex.compile(r"[^\dA-Za-z\u017f\u212a]")
_NONWORD_BEFORE = regex.compile(r"[^\dA-Za-z\u017f\u212a]", flags=regex.REVERSE)
_WIDTH_BUCKETS = (8, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128, 192, 256)
# Characters a "word-only" pattern can consume, case-insensitive equivalents included (U+017F long s ~ s,
# U+212A Kelvin sign ~ k): such a match lies inside one maximal run of them.
WORD_RUN = regex.compile(r"[\dA-Za-z\u017f\u212a]+")


@dataclass(frozen=True)
class PatternPlan:
    """Where one pattern can match: in candidate tokens, words or windows, behind a whole-text gate, or anywhere.

    reqs: (anchor class, minimum count, lead, tail) for every anchor class the pattern always holds.
    checks: (statistic of the text, minimum) pairs, all necessary, cheap to test before computing any span.
    key: plans with the same key have the same candidate spans in every text.
    """

    compiled: regex.Pattern
    mode: str  # "tokens", "words", "windows", "prefix", "gate" (whole scan if the checks pass) or "always"
    reqs: tuple[tuple[str, int, int, int], ...] = ()
    min_width: int = 0
    width: int = 0  # maximum match width ("windows", "prefix")
    look: int = 0  # how far past a match's end the pattern may look, plus 2 for \b and $
    checks: tuple[tuple[tuple, int], ...] = ()
    key: tuple = ()
    trigger: regex.Pattern | None = None  # matches where every match starts ("prefix"; a gate when unbounded)


def _bucket(width: int) -> int:
    return next((b for b in _WIDTH_BUCKETS if b >= width), width)


def _make_plan(compiled, mode, reqs=(), min_width=0, width=0, look=0, trigger=None) -> PatternPlan:
    checks: list[tuple[tuple, int]] = [(("count", a), k) for a, k, _, _ in reqs]
    if mode == "windows":
        checks += [(("cluster", a, _bucket(width)), k) for a, k, _, _ in reqs]
    elif mode in ("tokens", "words"):
        checks += [(("piece", a, mode), k) for a, k, _, _ in reqs] or [(("long", mode, min_width), 1)]
    if trigger is not None:
        checks.append((("trigger", trigger), 1))
    key = (mode, reqs, min_width, width, trigger.pattern if trigger is not None else None)
    return PatternPlan(compiled, mode, reqs, min_width, width, look, tuple(checks), key, trigger)


@cache
def plan_pattern(pattern: str, flags: int) -> PatternPlan:
    """The scan plan for one regex compiled with `flags` (the recognizer's global regex flags)."""
    compiled = regex.compile(pattern, flags=flags)
    shape = regex_shape(pattern, flags)
    if shape is None or shape.min_width == 0:
        return _make_plan(compiled, "always")
    look = shape.max_lookahead
    width = shape.max_width
    reqs = []
    for a, k in shape.min_anchors.items():
        if k:
            # without a bound of its own, an edge is bounded by the match width
            edge = width - 1 if width is not None else 0
            lead = shape.lead[a] if shape.lead[a] is not None else edge
            tail = shape.tail[a] if shape.tail[a] is not None else edge
            reqs.append((a, k, lead, tail))
    reqs = tuple(reqs)
    trigger = None
    if len(shape.prefix) >= 2:
        trigger = regex.compile("".join(shape.prefix), flags=regex.IGNORECASE if shape.caseless else 0)
    # A start trigger beats anchors when the anchors alone would mean a whole scan, or when it is case-sensitive and
    # mixes letters and digits (an IBAN's "[A-Z]{2}[0-9]{2}" is rarer than a capital or two digits; scanning for a
    # case-insensitive trigger costs about as much as scanning for the pattern itself).
    mixed = not shape.caseless and "digit" in shape.prefix_kinds and "letter" in shape.prefix_kinds
    if trigger is not None and look is not None and width is not None and (mixed or not reqs):
        return _make_plan(compiled, "prefix", (), shape.min_width, width, look + 2, trigger)
    if look is not None and shape.word_only:
        return _make_plan(compiled, "words", reqs, shape.min_width, 0, look + 2)
    if look is not None and not shape.consumes_whitespace:
        return _make_plan(compiled, "tokens", reqs, shape.min_width, 0, look + 2)
    if look is not None and width is not None and reqs:
        return _make_plan(compiled, "windows", reqs, shape.min_width, width, look + 2)
    if trigger is not None:
        return _make_plan(compiled, "gate", reqs, trigger=trigger)
    return _make_plan(compiled, "gate" if reqs else "always", reqs)


def _intersect(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


_WHOLE = [(-1, -1)]  # marker: scan the whole text


class DocumentIndex:
    """Anchor runs, groups, tokens and candidate spans of one text, computed lazily and cached."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._runs: dict[str, list[tuple[int, int]]] = {}
        self._counts: dict[str, int] = {}
        self._positions: dict[str, list[int]] = {}
        self._clusters: dict[tuple[str, int], tuple[int, list[tuple[int, int, int, int, int]]]] = {}
        self._spans: dict[tuple, list[tuple[int, int]]] = {}
        self._pieces: dict[tuple[str, str], tuple[int, list[tuple[int, int, int]]]] = {}
        self._long: dict[tuple[str, int], list[tuple[int, int]]] = {}
        self._stats: dict[tuple, int] = {}
        self._starts: dict[regex.Pattern, list[int]] = {}

    def runs(self, anchor: str) -> list[tuple[int, int]]:
        """Maximal runs of the anchor class, in text order."""
        found = self._runs.get(anchor)
        if found is None:
            pattern = _ANCHOR_RUNS.get(anchor)
            if pattern is not None:
                found = [m.span() for m in pattern.finditer(self.text, concurrent=False)]
            else:
                found, find = [], self.text.find
                i = find(anchor)
                while i >= 0:
                    found.append((i, i + 1))
                    i = find(anchor, i + 1)
            self._runs[anchor] = found
        return found

    def count(self, anchor: str) -> int:
        found = self._counts.get(anchor)
        if found is None:
            found = self._counts[anchor] = sum(hi - lo for lo, hi in self.runs(anchor))
        return found

    def positions(self, anchor: str) -> list[int]:
        found = self._positions.get(anchor)
        if found is None:
            found = self._positions[anchor] = [i for lo, hi in self.runs(anchor) for i in range(lo, hi)]
        return found

    def count_in(self, anchor: str, lo: int, hi: int) -> int:
        pos = self.positions(anchor)
        return bisect.bisect_left(pos, hi) - bisect.bisect_left(pos, lo)

    def clusters(self, anchor: str, width: int) -> tuple[int, list[tuple[int, int, int, int, int]]]:
        """(largest anchor count of a group, groups): groups of anchor runs whose consecutive anchors are less
        than `width` apart, as (first position, last position, anchor count, longest run, index of the first
        position). The anchors of a match of at most `width` characters all lie in one group."""
        key = (anchor, width)
        found = self._clusters.get(key)
        if found is None:
            groups = []
            first = last = count = longest = start_index = -1
            index = 0
            for lo, hi in self.runs(anchor):
                n = hi - lo
                if count > 0 and lo - last < width:
                    last, count, longest = hi - 1, count + n, max(longest, n)
                else:
                    if count > 0:
                        groups.append((first, last, count, longest, start_index))
                    first, last, count, longest, start_index = lo, hi - 1, n, n, index
                index += n
            if count > 0:
                groups.append((first, last, count, longest, start_index))
            found = self._clusters[key] = (max((g[2] for g in groups), default=0), groups)
        return found

    def windows(self, anchor: str, k: int, width: int, lead: int, tail: int) -> list[tuple[int, int]]:
        """Merged spans holding every match of <= width characters with >= k anchors of the class, at most
        `lead` characters before its first and `tail` after its last; a span ends where such a match could end."""
        bucket = next((b for b in _WIDTH_BUCKETS if b >= width), width)
        most, groups = self.clusters(anchor, bucket)
        if most < k:
            return []
        n = len(self.text)
        merged: list[list[int]] = []
        pos = None
        for first, last, count, longest, start in groups:
            if count < k:
                continue
            if longest < k:  # k anchors within `width` somewhere in the group? (a run of k always is)
                pos = pos or self.positions(anchor)
                if not any(pos[i + k - 1] - pos[i] < bucket for i in range(start, start + count - k + 1)):
                    continue
            lo, hi = max(first - lead, 0), min(last + 1 + tail, n)
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        return [(lo, hi) for lo, hi in merged]

    def pieces(self, anchor: str, kind: str) -> tuple[int, list[tuple[int, int, int]]]:
        """(largest anchor count, pieces): the whitespace-delimited tokens ("tokens") or maximal runs of digits
        and Latin letters ("words") that hold anchors, as (start, end, anchor count), in text order."""
        key = (anchor, kind)
        found = self._pieces.get(key)
        if found is None:
            text, n = self.text, len(self.text)
            before_re, after_re = (_WS_BEFORE, _WS) if kind == "tokens" else (_NONWORD_BEFORE, _NONWORD)
            pieces: list[list[int]] = []
            for lo, hi in self.runs(anchor):
                if pieces and lo < pieces[-1][1]:
                    pieces[-1][2] += hi - lo
                    continue
                before = before_re.search(text, 0, lo, concurrent=False)
                after = after_re.search(text, hi, concurrent=False)
                pieces.append([before.end() if before else 0, after.start() if after else n, hi - lo])
            found = self._pieces[key] = (max((p[2] for p in pieces), default=0), [tuple(p) for p in pieces])
        return found

    def long_pieces(self, kind: str, min_len: int) -> list[tuple[int, int]]:
        """Whitespace-delimited tokens, or runs of digits and Latin letters, of at least `min_len` characters."""
        key = (kind, min_len)
        found = self._long.get(key)
        if found is None:
            found = []
            text = self.text
            cursor = 0
            # str.split() splits on str.isspace() characters, all of which count as whitespace in the analysis
            for word in text.split():
                if len(word) >= min_len:
                    cursor = text.find(word, cursor)
                    if kind == "tokens":
                        found.append((cursor, cursor + len(word)))
                    else:
                        found.extend(
                            w.span() for w in WORD_RUN.finditer(text, cursor, cursor + len(word), concurrent=False)
                            if w.end() - w.start() >= min_len
                        )  # fmt: skip
                    cursor += len(word)
            self._long[key] = found
        return found

    def _stat(self, key: tuple) -> int:
        kind = key[0]
        if kind == "count":
            value = self.count(key[1])
        elif kind == "cluster":
            value = self.clusters(key[1], key[2])[0]
        elif kind == "piece":
            value = self.pieces(key[1], key[2])[0]
        elif kind == "trigger":
            value = len(self.starts(key[1]))
        else:
            value = len(self.long_pieces(key[1], key[2]))
        self._stats[key] = value
        return value

    def feasible(self, plan: PatternPlan) -> bool:
        """False when a necessary condition of the plan fails on this text (then the pattern has no match)."""
        stats = self._stats
        for key, k in plan.checks:
            value = stats.get(key)
            if value is None:
                value = self._stat(key)
            if value < k:
                return False
        return True

    def starts(self, trigger: regex.Pattern) -> list[int]:
        """Every position where `trigger` matches, overlapping ones included."""
        found = self._starts.get(trigger)
        if found is None:
            found = self._starts[trigger] = [
                m.start() for m in trigger.finditer(self.text, overlapped=True, concurrent=False)
            ]
        return found

    def spans(self, plan: PatternPlan) -> list[tuple[int, int]]:
        """Where `plan`'s pattern can match: [] (nowhere), _WHOLE, or disjoint spans in text order."""
        key = plan.key
        found = self._spans.get(key)
        if found is None:
            found = self._spans[key] = self._compute_spans(plan)
        return found

    def _compute_spans(self, plan: PatternPlan) -> list[tuple[int, int]]:
        reqs = plan.reqs
        for anchor, k, _, _ in reqs:
            if self.count(anchor) < k:
                return []
        mode = plan.mode
        if mode == "always" or mode == "gate":
            return _WHOLE
        if mode == "prefix":  # every match starts where the trigger matches and is at most `width` long
            n, width = len(self.text), plan.width
            merged: list[list[int]] = []
            for p in self.starts(plan.trigger):
                if merged and p <= merged[-1][1]:
                    merged[-1][1] = min(p + width, n)
                else:
                    merged.append([p, min(p + width, n)])
            return [(lo, hi) for lo, hi in merged]
        if mode == "windows":
            spans = None
            for anchor, k, lead, tail in sorted(reqs, key=lambda r: self.count(r[0])) if len(reqs) > 1 else reqs:
                w = self.windows(anchor, k, plan.width, lead, tail)
                spans = w if spans is None else _intersect(spans, w)
                if not spans:
                    return []
            return spans
        m = plan.min_width
        if not reqs:
            return self.long_pieces(mode, m)
        anchor, k, _, _ = min(reqs, key=lambda r: len(self.runs(r[0]))) if len(reqs) > 1 else reqs[0]
        most, pieces = self.pieces(anchor, mode)
        if most < k:
            return []
        others = [r for r in reqs if r[0] != anchor]
        return [
            (lo, hi)
            for lo, hi, c in pieces
            if c >= k and hi - lo >= m and all(self.count_in(a, lo, hi) >= n for a, n, _, _ in others)
        ]

    def matches(self, plan: PatternPlan) -> list:
        """The matches a whole-text `plan.compiled.finditer(text)` gives, found where they can be."""
        if not self.feasible(plan):
            return []
        spans = self.spans(plan)
        if not spans:
            return []
        text = self.text
        if spans is _WHOLE:
            return list(plan.compiled.finditer(text, concurrent=False))
        n = len(text)
        found = []
        finditer = plan.compiled.finditer
        for lo, hi in spans:
            # No match in the span ends after hi, and an attempt only sees beyond hi through a look-ahead:
            # scanning up to hi + look gives the whole-text matches. One exception: an attempt that fails in the
            # whole text but succeeds because it saw the scan's end; such a match ends after hi, and then the
            # span is scanned again with room for the widest match.
            got = list(finditer(text, lo, min(n, hi + plan.look), concurrent=False))
            if got and got[-1].end() > hi:
                limit = min(n, hi + plan.width + plan.look) if plan.mode in ("windows", "prefix") else n
                got = [m for m in finditer(text, lo, limit, concurrent=False) if m.start() < hi]
            found.extend(got)
        return found

    def could_match(self, plan: PatternPlan) -> bool:
        """False only when the plan proves the pattern has no match in the text."""
        return self.feasible(plan) and bool(self.spans(plan))
