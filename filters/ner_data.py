"""Labelled NER data a nation already has, read into one form: texts with character spans and mapped labels.

Two formats:

- CoNLL / IOB2: one token per line, its tag in the last column (`B-PER`, `I-PER`, `O`; IOB1 `I-` starting a span
  is accepted), sentences separated by blank lines, documents by `-DOCSTART-` lines. A document's text is its
  tokens joined by spaces, sentences by newlines.
- BRAT standoff, MEDDOCAN style: `NAME.txt` with `NAME.ann` beside it; text-bound annotations
  `T1<TAB>LABEL START END<TAB>covered text` (a discontinuous span `START END;START END` gives one span per
  fragment). Other annotation kinds (relations, notes) are ignored.

A label-mapping file (YAML) names, for each of Terroir's labels, the source labels that become it:

    PERSON: [NOMBRE_SUJETO_ASISTENCIA, NOMBRE_PERSONAL_SANITARIO]
    LOCATION: [TERRITORIO, CALLE, PAIS]
    ORGANIZATION: [HOSPITAL]
    OTHER: [PROFESION]      # trained as OTHER (helps the model tell entities apart), never redacted as a name

Source labels not listed are ignored (counted). Bad input never stops a read: a malformed line, a span outside
its text or an `.ann` without its `.txt` is skipped and counted in `ReadReport.problems` (file name, line number
and what was wrong; never the covered text).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

TARGET_LABELS = ("PERSON", "LOCATION", "ORGANIZATION", "OTHER")
CONLL_SUFFIXES = (".conll", ".conllu", ".iob", ".iob2", ".bio", ".tsv")


class LabelMapError(ValueError):
    """The label-mapping file cannot be used; the message says what to fix."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


@dataclass
class LabelledText:
    """One document: its text and its spans, labels already mapped to TARGET_LABELS."""

    doc_id: str
    text: str
    spans: list[Span]


@dataclass
class ReadReport:
    """What a read found: documents, spans kept per label, source labels ignored, problems (no text quoted)."""

    documents: int = 0
    spans: Counter = field(default_factory=Counter)
    ignored_labels: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "documents": self.documents,
            "spans": dict(sorted(self.spans.items())),
            "ignored_labels": dict(sorted(self.ignored_labels.items())),
            "problems": len(self.problems),
            "first_problems": self.problems[:20],
        }


def load_label_map(path: str | Path) -> dict[str, str]:
    """{source label: target label} from a YAML mapping file; LabelMapError when it is unusable."""
    import yaml

    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LabelMapError(f"label mapping {p}: cannot be read ({type(exc).__name__})") from None
    except yaml.YAMLError:
        raise LabelMapError(f"label mapping {p}: not valid YAML") from None
    if not isinstance(doc, dict) or not doc:
        raise LabelMapError(f"label mapping {p}: expected a mapping of {list(TARGET_LABELS)} to lists of labels")
    mapping: dict[str, str] = {}
    for target, sources in doc.items():
        if target not in TARGET_LABELS:
            raise LabelMapError(f"label mapping {p}: unknown target {target!r}; allowed are {list(TARGET_LABELS)}")
        if sources is None:
            continue
        if not isinstance(sources, list) or not all(isinstance(s, str) and s for s in sources):
            raise LabelMapError(f"label mapping {p}: {target} must list source labels (strings)")
        for s in sources:
            if s in mapping and mapping[s] != target:
                raise LabelMapError(f"label mapping {p}: source label {s!r} is mapped to {mapping[s]} and {target}")
            mapping[s] = target
    if not any(t != "OTHER" for t in mapping.values()):
        raise LabelMapError(f"label mapping {p}: maps no source label to PERSON, LOCATION or ORGANIZATION")
    return mapping


def _non_overlapping(spans: list[Span]) -> list[Span]:
    """Longest first, then earliest: overlapping spans cannot both be entities for spaCy's NER."""
    chosen: list[Span] = []
    for s in sorted(spans, key=lambda s: (-(s.end - s.start), s.start, s.label)):
        if all(s.end <= c.start or s.start >= c.end for c in chosen):
            chosen.append(s)
    return sorted(chosen, key=lambda s: s.start)


def read_brat_pair(txt: Path, mapping: dict[str, str], report: ReadReport) -> LabelledText | None:
    """One BRAT document (`txt` and its `.ann`); None when it cannot be read (a problem is recorded)."""
    ann = txt.with_suffix(".ann")
    try:
        text = txt.read_text(encoding="utf-8")
        lines = ann.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        report.problems.append(f"{txt.name}: unreadable ({type(exc).__name__})")
        return None
    spans = []
    for n, line in enumerate(lines, 1):
        if not line.startswith("T"):
            continue
        parts = line.split("\t")
        label, _, offsets = parts[1].partition(" ") if len(parts) >= 2 else ("", "", "")
        try:
            fragments = [tuple(int(x) for x in frag.split()) for frag in offsets.split(";")]
            if not fragments or any(len(f) != 2 or not 0 <= f[0] < f[1] <= len(text) for f in fragments):
                raise ValueError
        except ValueError:
            report.problems.append(f"{ann.name} line {n}: malformed or out-of-range text-bound annotation")
            continue
        target = mapping.get(label)
        if target is None:
            report.ignored_labels[label] += 1
            continue
        spans.extend(Span(a, b, target) for a, b in fragments)
    kept = _non_overlapping(spans)
    report.documents += 1
    report.spans.update(s.label for s in kept)
    return LabelledText(txt.stem, text, kept)


def _conll_documents(path: Path, report: ReadReport):
    """(doc index, [[(token, tag), ...] per sentence]) per document of a CoNLL/IOB2 file."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        report.problems.append(f"{path.name}: unreadable ({type(exc).__name__})")
        return
    doc: list[list[tuple[str, str]]] = []
    sent: list[tuple[str, str]] = []
    index = 0
    for n, line in enumerate(lines, 1):
        cols = line.split()
        if cols and cols[0] == "-DOCSTART-":
            if sent:
                doc.append(sent)
                sent = []
            if doc:
                yield index, doc
                index += 1
                doc = []
            continue
        if not cols or line.startswith("#"):
            if sent:
                doc.append(sent)
                sent = []
            continue
        tag = cols[-1] if len(cols) >= 2 else ""
        if not (tag == "O" or tag[:2] in ("B-", "I-", "E-", "S-") and len(tag) > 2):
            report.problems.append(f"{path.name} line {n}: expected a token and an IOB2 tag in the last column")
            continue
        sent.append((cols[0], tag))
    if sent:
        doc.append(sent)
    if doc:
        yield index, doc


def read_conll(path: Path, mapping: dict[str, str], report: ReadReport) -> list[LabelledText]:
    """The documents of one CoNLL/IOB2 file, tokens joined by spaces (sentences by newlines)."""
    out = []
    for index, sentences in _conll_documents(path, report):
        pieces: list[str] = []
        spans: list[Span] = []
        pos = 0
        for s_no, sent in enumerate(sentences):
            if s_no:
                pieces.append("\n")
                pos += 1
            open_span: tuple[int, str] | None = None
            last_end = pos
            for t_no, (token, tag) in enumerate(sent):
                if t_no:
                    pieces.append(" ")
                    pos += 1
                start, end = pos, pos + len(token)
                kind, label = (tag[:1], tag[2:]) if tag != "O" else ("O", "")
                continues = open_span is not None and kind in ("I", "E") and open_span[1] == label
                if open_span is not None and not continues:
                    spans.append(Span(open_span[0], last_end, open_span[1]))
                    open_span = None
                if kind != "O" and not continues:
                    open_span = (start, label)  # B-, S-, or an I- that starts a span (IOB1)
                pieces.append(token)
                pos, last_end = end, end
            if open_span is not None:
                spans.append(Span(open_span[0], last_end, open_span[1]))
        mapped = []
        for s in spans:
            target = mapping.get(s.label)
            if target is None:
                report.ignored_labels[s.label] += 1
            else:
                mapped.append(Span(s.start, s.end, target))
        report.documents += 1
        report.spans.update(s.label for s in mapped)
        out.append(LabelledText(f"{path.stem}#{index}", "".join(pieces), mapped))
    return out


def read_labelled(inputs: list[str | Path], mapping: dict[str, str]) -> tuple[list[LabelledText], ReadReport]:
    """Every document under `inputs` (files or folders, in sorted order): BRAT pairs and CoNLL/IOB2 files."""
    report = ReadReport()
    docs: list[LabelledText] = []
    for item in inputs:
        p = Path(item)
        files = sorted(f for f in p.rglob("*") if f.is_file()) if p.is_dir() else [p]
        for f in files:
            if f.suffix == ".txt" and f.with_suffix(".ann").is_file():
                d = read_brat_pair(f, mapping, report)
                if d is not None:
                    docs.append(d)
            elif f.suffix == ".ann" and not f.with_suffix(".txt").is_file():
                report.problems.append(f"{f.name}: no .txt beside it")
            elif f.suffix.lower() in CONLL_SUFFIXES:
                docs.extend(read_conll(f, mapping, report))
    return docs, report
