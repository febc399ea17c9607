"""Presidio's analysis, run only where a candidate exists: the same findings as `AnalyzerEngine.analyze`, faster.

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

Phone numbers go through libphonenumber's own `PhoneNumberMatcher`, which is skipped when no run of digits and phone
punctuation holds enough digits for a valid number, and which skips a candidate that has fewer digits than the
shortest valid number it could parse to (both from libphonenumber's metadata). The one difference from stock: the
matcher gives up after 65,535 rejected candidates per text, and skipped candidates do not count towards that limit,
so on such a text the fast path can only find more, never less.

Context words raise scores through `PrecedingWordsContextEnhancer`, which reads the raw text (no NLP model); the
stock engine used for comparison is given the same enhancer, so both paths score alike.
"""

from __future__ import annotations

import bisect
import re
import re._constants as sre_c
import re._parser as sre_parse
import unicodedata
from dataclasses import dataclass
from functools import cache

import regex
from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

ANCHORS = ("digit", "@", ":", ".", "upper")
_ANCHOR_LITERAL = {"@": ord("@"), ":": ord(":"), ".": ord(".")}
# Every `regex` scan here passes concurrent=False: by default `regex` releases the GIL while it matches, and in a
# runner's worker (gRPC and progress threads alive) taking it back costs more than the scan (docs/benchmarks.md).
_ANCHOR_RUNS = {"digit": regex.compile(r"\d+"), "upper": regex.compile(r"[A-Z]+")}
_WS = regex.compile(r"\s")
_WS_BEFORE = regex.compile(r"\s", flags=regex.REVERSE)
_NONWORD = regex.compile(r"[^\dA-Za-z\u017f\u212a]")
_NONWORD_BEFORE = regex.compile(r"[^\dA-Za-z\u017f\u212a]", flags=regex.REVERSE)
# Whitespace as any of the splitters used here sees it (`regex`'s \s, str.split()'s str.isspace(), which also
# counts U+001C-U+001F): all lie below U+3001, so enumerating them once lets the parse-tree analysis decide whether a
# character class can match whitespace without guessing.
_WHITESPACE = frozenset(i for i in range(0x3001) if _WS.match(chr(i)) or chr(i).isspace())
_UNBOUNDED = sre_c.MAXREPEAT
_WIDTH_BUCKETS = (8, 12, 16, 20, 24, 32, 40, 48, 64, 96, 128, 192, 256)
_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT)
# Characters a "word-only" pattern can consume, case-insensitive equivalents included (U+017F long s ~ s,
# U+212A Kelvin sign ~ k): such a match lies inside one maximal run of them.
WORD_RUN = regex.compile(r"[\dA-Za-z\u017f\u212a]+")
_INLINE_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")
_CASE_FLAG = re.compile(r"\(\?[aiLmsux]*i[aiLmsux]*(?:-[imsx]+)?[:)]|\(\?[aiLmsux]*-[msx]*i")


# ---------------------------------------------------------------------------------------------------------------
# What a regex needs: anchor counts, widths, look-ahead, whitespace (read from Python's own regex parser)


@dataclass(frozen=True)
class RegexShape:
    """Necessary conditions on any match of one regex (None where the analysis cannot bound it).

    lead[a] / tail[a]: the most characters a match can hold before its first / after its last anchor of class a.
    """

    min_anchors: dict[str, int]
    min_width: int
    max_width: int | None  # None: unbounded
    max_lookahead: int | None  # None: unbounded
    consumes_whitespace: bool
    lead: dict[str, int | None]
    tail: dict[str, int | None]
    word_only: bool  # consumes only digits and Latin letters (WORD_RUN characters)
    prefix: tuple[str, ...] = ()  # the character classes every match starts with, as regex sources
    caseless: bool = False
    prefix_kinds: tuple[str, ...] = ()  # per prefix class: "digit" (digits only), "letter" (no digit) or "mixed"


def _class_items_subset(items, anchor: str) -> bool:
    """Whether every character a class (list of sre items) can match belongs to the anchor class."""
    if not items:
        return False
    for op, av in items:
        if op is sre_c.NEGATE:
            return False
        if anchor == "digit":
            if op is sre_c.CATEGORY:
                if av is not sre_c.CATEGORY_DIGIT:
                    return False
            elif op is sre_c.LITERAL:
                if unicodedata.category(chr(av)) != "Nd":
                    return False
            elif op is sre_c.RANGE:
                lo, hi = av
                if hi - lo > 64 or any(unicodedata.category(chr(c)) != "Nd" for c in range(lo, hi + 1)):
                    return False
            else:
                return False
        elif anchor == "upper":
            if op is sre_c.LITERAL:
                if not 65 <= av <= 90:
                    return False
            elif op is sre_c.RANGE:
                if not (65 <= av[0] and av[1] <= 90):
                    return False
            else:
                return False
        elif op is not sre_c.LITERAL or av != _ANCHOR_LITERAL[anchor]:
            return False
    return True


def _class_items_match_space(items) -> bool:
    """Whether a class (list of sre items) could match a whitespace character (when unsure: yes)."""
    for op, av in items:
        if op is sre_c.LITERAL:
            if av in _WHITESPACE:
                return True
        elif op is sre_c.RANGE:
            if any(av[0] <= w <= av[1] for w in _WHITESPACE):
                return True
        elif op is sre_c.CATEGORY:
            if av not in (sre_c.CATEGORY_DIGIT, sre_c.CATEGORY_WORD):
                return True
        else:  # NEGATE and anything unexpected
            return True
    return False


def _items_of(op, av):
    """A one-character node as a list of class items (None for other nodes)."""
    if op is sre_c.LITERAL:
        return [(sre_c.LITERAL, av)]
    if op is sre_c.IN:
        return av
    return None


def _min_anchors(seq, anchor: str) -> int:
    total = 0
    for op, av in seq:
        items = _items_of(op, av)
        if items is not None:
            total += 1 if _class_items_subset(items, anchor) else 0
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
            total += av[0] * _min_anchors(av[2], anchor)
        elif op is sre_c.SUBPATTERN:
            total += _min_anchors(av[3], anchor)
        elif op is sre_c.ATOMIC_GROUP:
            total += _min_anchors(av, anchor)
        elif op is sre_c.BRANCH:
            total += min(_min_anchors(b, anchor) for b in av[1])
        elif op is sre_c.GROUPREF_EXISTS:
            total += min(_min_anchors(av[1], anchor), _min_anchors(av[2], anchor) if av[2] else 0)
        # ANY, NOT_LITERAL, AT, ASSERT, ASSERT_NOT, GROUPREF consume no guaranteed anchor
    return total


def _consumes_space(seq) -> bool:
    for op, av in seq:
        items = _items_of(op, av)
        if items is not None:
            if _class_items_match_space(items):
                return True
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
            if av[1] > 0 and _consumes_space(av[2]):
                return True
        elif op is sre_c.SUBPATTERN:
            if _consumes_space(av[3]):
                return True
        elif op is sre_c.ATOMIC_GROUP:
            if _consumes_space(av):
                return True
        elif op is sre_c.BRANCH:
            if any(_consumes_space(b) for b in av[1]):
                return True
        elif op is sre_c.GROUPREF_EXISTS:
            if _consumes_space(av[1]) or (av[2] and _consumes_space(av[2])):
                return True
        elif op not in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):  # ANY, NOT_LITERAL, GROUPREF, unknown
            return True
    return False


def _word_items(items) -> bool:
    """Whether a class only matches WORD_RUN characters: decimal digits and A-Z, a-z (whose case-insensitive
    equivalents are ASCII letters, U+017F and U+212A, all in WORD_RUN)."""
    for op, av in items:
        if op is sre_c.LITERAL:
            c = chr(av)
            if not (unicodedata.category(c) == "Nd" or ("a" <= c <= "z") or ("A" <= c <= "Z")):
                return False
        elif op is sre_c.RANGE:
            lo, hi = av
            if not (48 <= lo and hi <= 57 or 65 <= lo and hi <= 90 or 97 <= lo and hi <= 122):
                return False
        elif op is sre_c.CATEGORY:
            if av is not sre_c.CATEGORY_DIGIT:
                return False
        else:
            return False
    return True


def _consumes_only(seq, allowed) -> bool:
    """Whether every character any match consumes belongs to classes accepted by `allowed(items)`."""
    for op, av in seq:
        items = _items_of(op, av)
        if items is not None:
            if not allowed(items):
                return False
        elif op in _REPEATS:
            if av[1] > 0 and not _consumes_only(av[2], allowed):
                return False
        elif op is sre_c.SUBPATTERN:
            if not _consumes_only(av[3], allowed):
                return False
        elif op is sre_c.ATOMIC_GROUP:
            if not _consumes_only(av, allowed):
                return False
        elif op is sre_c.BRANCH:
            if not all(_consumes_only(b, allowed) for b in av[1]):
                return False
        elif op not in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
            return False
    return True


def _fixed_prefix(seq) -> tuple[list, bool]:
    """(classes every match starts with, whether they are the whole pattern): zero-width nodes are skipped."""
    out: list = []
    for op, av in seq:
        if op in (sre_c.AT, sre_c.ASSERT, sre_c.ASSERT_NOT):
            continue
        items = _items_of(op, av)
        if items is not None:
            out.append(items)
            continue
        if op is sre_c.SUBPATTERN:
            if av[1] or av[2]:  # local flags: stop rather than reason about them
                return out, False
            inner, whole = _fixed_prefix(av[3])
            out += inner
            if not whole:
                return out, False
            continue
        if op in _REPEATS:
            lo, hi, sub = av
            if lo == 0:
                return out, False
            inner, whole = _fixed_prefix(sub)
            if not whole:
                return out + inner, False
            out += inner * min(lo, 8)
            if hi != lo:
                return out, False
            continue
        return out, False
    return out, True


_CATEGORY_SOURCE = {
    sre_c.CATEGORY_DIGIT: r"\d", sre_c.CATEGORY_NOT_DIGIT: r"\D", sre_c.CATEGORY_SPACE: r"\s",
    sre_c.CATEGORY_NOT_SPACE: r"\S", sre_c.CATEGORY_WORD: r"\w", sre_c.CATEGORY_NOT_WORD: r"\W",
}  # fmt: skip


def _class_kind(items) -> str:
    """The class kind: "digit" (digits only), "letter" (letters only) or "mixed"."""
    if _class_items_subset(items, "digit"):
        return "digit"
    for op, av in items:
        if op is sre_c.LITERAL and chr(av).isalpha():
            continue
        if op is sre_c.RANGE and all(chr(c).isalpha() for c in range(av[0], min(av[1], av[0] + 400) + 1)):
            continue
        return "mixed"
    return "letter"


def _class_source(items) -> str | None:
    """A class (list of sre items) as a `regex` character class, or None when it cannot be written back."""
    parts, negate = [], ""
    for op, av in items:
        if op is sre_c.NEGATE:
            negate = "^"
        elif op is sre_c.LITERAL:
            parts.append(f"\\U{av:08x}")
        elif op is sre_c.RANGE:
            parts.append(f"\\U{av[0]:08x}-\\U{av[1]:08x}")
        elif op is sre_c.CATEGORY and av in _CATEGORY_SOURCE:
            parts.append(_CATEGORY_SOURCE[av])
        else:
            return None
    return f"[{negate}{''.join(parts)}]"


def _lookahead(seq) -> int | None:
    """Upper bound on how far look-aheads reach past the point where they are tried (None: unbounded)."""
    total = 0
    for op, av in seq:
        subs = ()
        if op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
            direction, body = av
            if direction == 1:
                hi = body.getwidth()[1]
                if hi >= _UNBOUNDED:
                    return None
                total += hi
            subs = (body,)
        elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
            subs = (av[2],)
        elif op is sre_c.SUBPATTERN:
            subs = (av[3],)
        elif op is sre_c.ATOMIC_GROUP:
            subs = (av,)
        elif op is sre_c.BRANCH:
            subs = av[1]
        elif op is sre_c.GROUPREF_EXISTS:
            subs = tuple(x for x in av[1:] if x)
        for sub in subs:
            inner = _lookahead(sub)
            if inner is None:
                return None
            total += inner
    return total


def _edge(seq, anchor: str, state, from_end: bool) -> int | None:
    """Most characters a match of `seq` consumes before its first (after its last) anchor; None: unbounded.

    Only called on sequences that always hold an anchor: the sum of the widths of the nodes before the first node
    that always holds one, plus that node's own edge.
    """
    total = 0
    for op, av in reversed(seq) if from_end else seq:
        if _min_anchors([(op, av)], anchor) >= 1:
            if _items_of(op, av) is not None:
                inner = 0
            elif op in _REPEATS:
                inner = _edge(av[2], anchor, state, from_end)
            elif op is sre_c.SUBPATTERN:
                inner = _edge(av[3], anchor, state, from_end)
            elif op is sre_c.ATOMIC_GROUP:
                inner = _edge(av, anchor, state, from_end)
            elif op is sre_c.BRANCH:
                edges = [_edge(b, anchor, state, from_end) for b in av[1]]
                inner = None if any(e is None for e in edges) else max(edges)
            else:
                inner = None
            return None if inner is None else total + inner
        hi = sre_parse.SubPattern(state, [(op, av)]).getwidth()[1]
        if hi >= _UNBOUNDED:
            return None
        total += hi
    return None


@cache
def regex_shape(pattern: str, flags: int) -> RegexShape | None:
    """The necessary conditions for `pattern` compiled with `flags`, or None when they cannot be derived.

    Python 3.11's parser rejects global inline flags in mid-pattern ("\\b(?i)..."), which the `regex` module accepts:
    they are lifted out first (they do not change widths; IGNORECASE turns the A-Z anchor off).
    """
    lifted = 0
    for m in _INLINE_FLAGS.finditer(pattern):
        lifted |= sum(getattr(re, f.upper()) for f in m.group(1) if f in "imsux")
    try:
        tree = sre_parse.parse(_INLINE_FLAGS.sub("", pattern), (flags | lifted) & re.VERBOSE)
        lo, hi = tree.getwidth()
        look = _lookahead(tree)
        caseless = bool((flags | lifted | tree.state.flags) & re.IGNORECASE) or bool(_CASE_FLAG.search(pattern))
        anchors = {a: 0 if (a == "upper" and caseless) else _min_anchors(tree, a) for a in ANCHORS}
        consumes = _consumes_space(tree)
        lead = {a: _edge(tree, a, tree.state, False) for a, k in anchors.items() if k}
        tail = {a: _edge(tree, a, tree.state, True) for a, k in anchors.items() if k}
        word_only = _consumes_only(tree, _word_items)
        classes = _fixed_prefix(tree)[0][:8]
        prefix = tuple(map(_class_source, classes))
        prefix = prefix[: prefix.index(None)] if None in prefix else prefix
        kinds = tuple(_class_kind(items) for items in classes[: len(prefix)])
    except Exception:  # noqa: BLE001 - regex-module syntax Python's parser lacks, variable look-behinds
        return None
    width = None if hi >= _UNBOUNDED else hi
    return RegexShape(anchors, lo, width, look, consumes, lead, tail, word_only, prefix, caseless, kinds)


# ---------------------------------------------------------------------------------------------------------------
# Per-pattern scan plans and per-document candidate spans


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


# ---------------------------------------------------------------------------------------------------------------
# Context words without an NLP model


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


# ---------------------------------------------------------------------------------------------------------------
# The analyzer


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
            from filters.pii_libphone import phone_results

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
