"""What any match of a regex must look like, read from its parse tree (Python's own regex parser).

`regex_shape(pattern, flags)` gives necessary conditions on every match: how many characters of each "anchor" class
(digits, "@", ":", ".", and A-Z for patterns compiled without IGNORECASE) it holds, its shortest and longest width,
how far its look-aheads reach, whether it can consume whitespace or only digits and Latin letters, how many
characters it can hold before its first and after its last anchor, and the character classes it always starts with.
`filters.pii.prescan` turns these conditions into candidate spans. None means the analysis cannot bound the pattern
(then it is scanned whole).
"""

from __future__ import annotations

import re
import re._constants as sre_c
import re._parser as sre_parse
import unicodedata
from dataclasses import dataclass
from functools import cache

import regex

ANCHORS = ("digit", "@", ":", ".", "upper")
_ANCHOR_LITERAL = {"@": ord("@"), ":": ord(":"), ".": ord(".")}
_WS = regex.compile(r"\s")
# Whitespace as any of the splitters used by the prescan sees it (`regex`'s \s, str.split()'s str.isspace(), which
# also counts U+001C-U+001F): all lie below U+3001, so enumerating them once lets the parse-tree analysis decide
# whether a character class can match whitespace without guessing.
_WHITESPACE = frozenset(i for i in range(0x3001) if _WS.match(chr(i)) or chr(i).isspace())
_UNBOUNDED = sre_c.MAXREPEAT
_REPEATS = (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT)
_INLINE_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")
_CASE_FLAG = re.compile(r"\(\?[aiLmsux]*i[aiLmsux]*(?:-[imsx]+)?[:)]|\(\?[aiLmsux]*-[msx]*i")


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
