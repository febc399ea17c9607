"""Project Gutenberg's header and licence around a book's text.

A Project Gutenberg plain-text file wraps the book between two marker lines, `*** START OF THE PROJECT GUTENBERG
EBOOK <TITLE> ***` and `*** END OF THE PROJECT GUTENBERG EBOOK <TITLE> ***` (older files: `THIS PROJECT`, no space
after the asterisks, the title wrapped onto a second line). Before the first come the title block and terms of use,
after the second about 3,000 words of licence, the same in every file: kept, they make every short Gutenberg book a
near duplicate of every other and take a copy of a book from a mirror without them below the fuzzy-dedup threshold
(docs/benchmarks.md, measured on Gutenberg 17997).
"""

from __future__ import annotations

import re

# the START line, whose title may wrap onto one more line before the closing asterisks
_START = re.compile(r"(?m)^[ \t]*\*{3}[ \t]*START OF TH(?:E|IS) PROJECT GUTENBERG E-?BOOK\b"
                    r"[^\n]*(?:\n[^\n*]*)?\*{3}[ \t]*\r?$")  # fmt: skip
_END = re.compile(r"(?m)^[ \t]*\*{3}[ \t]*END OF TH(?:E|IS) PROJECT GUTENBERG E-?BOOK\b")


def strip_gutenberg(text: str) -> tuple[str, int] | None:
    """`(body, chars removed)` when `text` holds a START marker line followed later by an END marker line (the
    text between them, stripped), else None: a text without both markers, or with them in the other order, is not
    a Gutenberg file and is left alone. Markers must begin a line; a sentence quoting them is not a marker."""
    start = _START.search(text)
    if start is None:
        return None
    end = _END.search(text, start.end())
    if end is None:
        return None
    body = text[start.end() : end.start()].strip()
    return body, len(text) - len(body)
