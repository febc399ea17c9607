"""Evaluate the PII stage on labelled BRAT data: precision, recall and leak rate per entity category.

    .venv/bin/python benchmarks/pii_eval.py [--data ../shared/data/pii/meddocan_es/test_brat] [--lang es]
        [--countries ES] [--region ES] [--ner es=PATH] [--heldout PATH/evaluation.json] [--markdown]

Each document is a `.txt` with a `.ann` of BRAT text-bound annotations (`T1<TAB>TYPE start end<TAB>text`), read in
place. Gold types are mapped to categories Terroir can find (MEDDOCAN's e-mail, phone, fax and identifier types by
default; everything else, such as names and places, needs NER and is left out unless `--ner` is given), and so are
Terroir's entity types. Per category:

- recall: gold spans overlapped by a finding of the same category / gold spans;
- redacted: gold spans overlapped by any finding (what a reader of the output no longer sees) / gold spans;
- precision: findings overlapping a gold span of the same category / findings of the category;
- leak rate: gold strings still present, verbatim, anywhere in the redacted document / gold spans.

A finding overlapping gold personal data of another category counts against precision but is reported separately
("other PII"), as it is still personal data. Nothing is written; figures go to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pii" / "meddocan_es" / "test_brat"

# MEDDOCAN's PHI types → categories (types not listed are not scored)
GOLD_CATEGORY = {
    "CORREO_ELECTRONICO": "EMAIL",
    "NUMERO_TELEFONO": "PHONE",
    "NUMERO_FAX": "PHONE",
    "ID_SUJETO_ASISTENCIA": "ID",
    "ID_ASEGURAMIENTO": "ID",
    "ID_CONTACTO_ASISTENCIAL": "ID",
    "ID_TITULACION_PERSONAL_SANITARIO": "ID",
    "ID_EMPLEO_PERSONAL_SANITARIO": "ID",
    "IDENTIF_VEHICULOS_NRSERIE_PLACAS": "ID",
    "IDENTIF_DISPOSITIVOS_NRSERIE": "ID",
    "URL_WEB": "URL",
    "DIREC_PROT_INTERNET": "IP",
}
NER_GOLD_CATEGORY = {
    "NOMBRE_SUJETO_ASISTENCIA": "PERSON",
    "NOMBRE_PERSONAL_SANITARIO": "PERSON",
    "FAMILIARES_SUJETO_ASISTENCIA": "PERSON",
    "TERRITORIO": "LOCATION",
    "CALLE": "LOCATION",
    "PAIS": "LOCATION",
    "HOSPITAL": "ORGANIZATION",
    "INSTITUCION": "ORGANIZATION",
    "CENTRO_SALUD": "ORGANIZATION",
}
PREDICTED_CATEGORY = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "URL": "URL",
    "IP_ADDRESS": "IP",
    "IBAN_CODE": "FINANCIAL",
    "CREDIT_CARD": "FINANCIAL",
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
    "ORGANIZATION": "ORGANIZATION",
}  # any other entity type is a national or document identifier: "ID"


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


def read_brat(ann: Path) -> list[Span]:
    """Text-bound annotations of one .ann file; a discontinuous span becomes one span per fragment."""
    spans = []
    for line in ann.read_text(encoding="utf-8").splitlines():
        if not line.startswith("T"):
            continue
        _, info, *_ = line.split("\t")
        label, _, offsets = info.partition(" ")
        for fragment in offsets.split(";"):
            start, end = fragment.split()
            spans.append(Span(int(start), int(end), label))
    return spans


def evaluate(data: Path, redactor, lang: str, region: str | None, gold_map: dict[str, str], only=None) -> dict:
    """Counts per category (gold, recall hits, redacted, leaked; findings, correct, other PII) and per gold type.

    only: document names (file stems) to score, e.g. a train-ner pipeline's held-out documents; None scores all."""
    per_cat: dict[str, Counter] = defaultdict(Counter)
    per_type: dict[str, Counter] = defaultdict(Counter)
    per_entity: dict[str, Counter] = defaultdict(Counter)
    docs = misaligned = 0
    for txt in sorted(data.glob("*.txt")):
        ann = txt.with_suffix(".ann")
        if not ann.is_file() or (only is not None and txt.stem not in only):
            continue
        text = txt.read_text(encoding="utf-8")
        gold_all = read_brat(ann)
        misaligned += sum(1 for g in gold_all if g.end > len(text))
        docs += 1
        redaction = redactor.redact_detail(text, lang, region)
        found = [Span(h.start, h.end, h.entity_type) for h in redaction.hits]
        gold = [g for g in gold_all if g.label in gold_map]
        for g in gold:
            cat = gold_map[g.label]
            value = text[g.start : g.end]
            same = any(f.overlaps(g) and PREDICTED_CATEGORY.get(f.label, "ID") == cat for f in found)
            anything = any(f.overlaps(g) for f in found)
            leaked = bool(value.strip()) and value in redaction.text
            for bucket in (per_cat[cat], per_type[g.label]):
                bucket["gold"] += 1
                bucket["recall_hits"] += same
                bucket["redacted"] += anything
                bucket["leaked"] += leaked
        for f in found:
            cat = PREDICTED_CATEGORY.get(f.label, "ID")
            correct = any(f.overlaps(g) and gold_map[g.label] == cat for g in gold)
            other = not correct and any(f.overlaps(g) for g in gold_all)
            for bucket in (per_cat[cat], per_entity[f.label]):
                bucket["found"] += 1
                bucket["correct"] += correct
                bucket["other_pii"] += other
    return {"docs": docs, "misaligned": misaligned, "category": per_cat, "gold_type": per_type, "entity": per_entity}


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "–"


def report(result: dict) -> str:
    """The figures as Markdown tables."""
    lines = [f"{result['docs']} documents; {result['misaligned']} annotations outside their text", ""]
    lines += ["| category | gold | recall | redacted | leak rate | findings | precision | other PII |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for cat, c in sorted(result["category"].items()):
        lines.append(
            f"| {cat} | {c['gold']} | {_ratio(c['recall_hits'], c['gold'])} | {_ratio(c['redacted'], c['gold'])} | "
            f"{_ratio(c['leaked'], c['gold'])} | {c['found']} | {_ratio(c['correct'], c['found'])} | "
            f"{c['other_pii']} |"
        )
    lines += ["", "| gold type | gold | recall | redacted | leak rate |", "|---|---:|---:|---:|---:|"]
    for label, c in sorted(result["gold_type"].items()):
        lines.append(
            f"| {label} | {c['gold']} | {_ratio(c['recall_hits'], c['gold'])} | {_ratio(c['redacted'], c['gold'])} "
            f"| {_ratio(c['leaked'], c['gold'])} |"
        )
    lines += ["", "| Terroir entity | findings | precision | other PII |", "|---|---:|---:|---:|"]
    for label, c in sorted(result["entity"].items()):
        lines.append(f"| {label} | {c['found']} | {_ratio(c['correct'], c['found'])} | {c['other_pii']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of .txt and .ann files (read in place)")
    ap.add_argument("--lang", default="es")
    ap.add_argument("--countries", default="ES", help="comma-separated ISO codes for national recognizers")
    ap.add_argument("--region", default="ES", help="the documents' jurisdiction (phone-number region)")
    ap.add_argument("--entities", default="EMAIL_ADDRESS,IBAN_CODE,CREDIT_CARD,IP_ADDRESS,PHONE_NUMBER")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--ner", action="append", default=[], metavar="LANG=PIPELINE", help="score NER types too")
    ap.add_argument("--heldout", type=Path, metavar="EVALUATION_JSON",
                    help="score only the held-out documents of a train-ner pipeline (its evaluation.json)")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from filters.pii import PiiRedactor

    if not args.data.is_dir():
        ap.error(f"--data {args.data}: not a folder")
    ner = dict(item.split("=", 1) for item in args.ner)
    redactor = PiiRedactor(
        (args.lang,),
        tuple(e for e in args.entities.split(",") if e),
        tuple(c for c in args.countries.split(",") if c),
        args.threshold,
        ner_models=ner,
    )
    gold_map = {**GOLD_CATEGORY, **(NER_GOLD_CATEGORY if ner else {})}
    only = set(json.loads(args.heldout.read_text())["heldout_documents"]) if args.heldout else None
    result = evaluate(args.data, redactor, args.lang, args.region or None, gold_map, only)
    print(report(result))
    if ner:
        print(f"\nNER: {redactor.ner_status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
