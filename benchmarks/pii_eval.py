"""Score Terroir and stock Presidio side by side on labelled PII: precision, recall, leak rate per type, and docs/s.

    .venv/bin/python benchmarks/pii_eval.py [--sets meddocan,meddocan-long,generated,generated-long]
        [--data ../shared/data/pii/meddocan_es/test_brat] [--limit N] [--detectors terroir,presidio-default,presidio-all]
        [--terroir-countries set|all] [--ner es=PATH] [--heldout PATH/evaluation.json] [--markdown-only]

Sets (one table each):

- `meddocan`: the Spanish clinical cases of MEDDOCAN (BRAT `.txt` + `.ann`, read in place from `--data`);
  `meddocan-long`: the same cases joined eight at a time (about 15-30 KB: the long-document speed case);
- `generated`, `generated-long`: documents from `benchmarks/pii_synth.py` (planted, labelled personal data of seven
  policy countries, in their languages, with unlabelled lookalikes), short and joined twenty at a time.

Detectors, all run offline in this process on the same documents:

- `terroir`: `filters.pii.engine.PiiRedactor` with every pattern entity type it has (`PATTERN_ENTITIES`, except Presidio's
  general `URL`, which `PERSONAL_URL` replaces here) and the set's countries (`--terroir-countries all`: every
  supported country), at the stage's threshold 0.5, given the document's language and jurisdiction;
- `presidio-default`: Presidio's `AnalyzerEngine` with the recognizers its default configuration enables, each
  registered for the document's language (stock Presidio registers most of them for English only, which would find
  almost nothing in Spanish text), `NoOpNlpEngine`, its default threshold 0;
- `presidio-all`: every predefined Presidio recognizer that needs no model or service, registered the same way.

Labels are mapped explicitly (`GOLD_CATEGORY`, `PREDICTED_CATEGORY`). A MEDDOCAN date (FECHAS) counts as
DATE_OF_BIRTH when "nacimiento" or "naci…" occurs before it on its line, else as DATE; a TERRITORIO span shaped like
a postcode (4-6 digits, "E-28006", "1269-052") is a POSTCODE, other TERRITORIO and PAIS spans are LOCATION. Per row (gold category C):

- recall: gold spans of C overlapped by a finding whose category is compatible with C (`COMPATIBLE`: a DATE
  finding covers a DATE_OF_BIRTH and the other way round, a LOCATION covers an ADDRESS or POSTCODE);
- precision: of the findings of C (`CLAIMS`: a date and a birth-date finding claim each other's row), those
  overlapping a gold span of C (for DATE, the dates that are not birth dates, one on a birth date is correct too);
- leak rate: gold strings of C still present, verbatim, in the text with every finding masked.

The ALL row counts every scored gold span against every finding (a finding on any labelled span, scored or not,
is correct). PERSON, LOCATION and ORGANIZATION rows are printed so NER (`--ner`) can be scored; without NER no
detector here finds them. Figures go to stdout; nothing is written.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "pii" / "meddocan_es" / "test_brat"

from pii_synth import Labelled, concatenate, generate

# MEDDOCAN's PHI types → evaluation categories (None: not scored); FECHAS and TERRITORIO are split in read_brat_set
GOLD_CATEGORY = {
    "CORREO_ELECTRONICO": "EMAIL", "NUMERO_TELEFONO": "PHONE", "NUMERO_FAX": "PHONE",
    "ID_SUJETO_ASISTENCIA": "ID", "ID_ASEGURAMIENTO": "ID", "ID_CONTACTO_ASISTENCIAL": "ID",
    "ID_TITULACION_PERSONAL_SANITARIO": "ID", "ID_EMPLEO_PERSONAL_SANITARIO": "ID",
    "IDENTIF_VEHICULOS_NRSERIE_PLACAS": "ID", "IDENTIF_DISPOSITIVOS_NRSERIE": "ID",
    "URL_WEB": "URL", "DIREC_PROT_INTERNET": "IP", "CALLE": "ADDRESS", "PAIS": "LOCATION",
    "NOMBRE_SUJETO_ASISTENCIA": "PERSON", "NOMBRE_PERSONAL_SANITARIO": "PERSON", "FAMILIARES_SUJETO_ASISTENCIA": "PERSON",
    "HOSPITAL": "ORGANIZATION", "INSTITUCION": "ORGANIZATION", "CENTRO_SALUD": "ORGANIZATION",
    "EDAD_SUJETO_ASISTENCIA": None, "SEXO_SUJETO_ASISTENCIA": None, "PROFESION": None, "OTROS_SUJETO_ASISTENCIA": None,
}  # fmt: skip
# Terroir's and Presidio's entity types → categories; any other type is a national or document identifier: "ID"
PREDICTED_CATEGORY = {
    "EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "DATE_OF_BIRTH": "DATE_OF_BIRTH", "DATE_TIME": "DATE",
    "STREET_ADDRESS": "ADDRESS", "POSTCODE": "POSTCODE", "DE_PLZ": "POSTCODE", "CA_POSTAL_CODE": "POSTCODE",
    "UK_POSTCODE": "POSTCODE", "PERSONAL_URL": "URL", "URL": "URL", "IBAN_CODE": "IBAN", "CREDIT_CARD": "CARD",
    "IP_ADDRESS": "IP", "PERSON": "PERSON", "LOCATION": "LOCATION", "ORGANIZATION": "ORGANIZATION",
    "NRP": "OTHER", "CRYPTO": "OTHER", "MAC_ADDRESS": "OTHER", "UUID": "OTHER",
}  # fmt: skip
COMPATIBLE = {
    "DATE_OF_BIRTH": {"DATE_OF_BIRTH", "DATE"},
    "DATE": {"DATE", "DATE_OF_BIRTH"},
    "ADDRESS": {"ADDRESS", "LOCATION"},
    "POSTCODE": {"POSTCODE", "LOCATION", "ADDRESS"},
}
# findings that claim a row's type, for its precision: a date finding is a claim of a birth date and the other way
CLAIMS = {"DATE_OF_BIRTH": {"DATE_OF_BIRTH", "DATE"}, "DATE": {"DATE", "DATE_OF_BIRTH"}}
# gold a finding of the row may overlap to be correct: a date finding on a birth date is right in the DATE row
ROW_GOLD = {"DATE": {"DATE", "DATE_OF_BIRTH"}}
ROWS = ("PHONE", "DATE_OF_BIRTH", "DATE", "ADDRESS", "POSTCODE", "URL", "IBAN", "CARD", "EMAIL", "IP", "ID",
        "PERSON", "LOCATION", "ORGANIZATION")  # fmt: skip
_POSTCODE_GOLD = re.compile(r"(?:[A-Z]{1,2}-)?\d{4,6}(?:-\d{3})?")
_BIRTH_BEFORE = re.compile(r"nacimiento|naci", re.IGNORECASE)
_NER_SKIP = ("Spacy", "Stanza", "Transformers", "HuggingFace", "Azure", "LangExtract", "GLiNER", "MedicalNER")


def category_of(entity: str) -> str:
    return PREDICTED_CATEGORY.get(entity, "ID")


def compatible(gold: str) -> set[str]:
    return COMPATIBLE.get(gold, {gold})


# -- sets -----------------------------------------------------------------------------------------------------


def read_brat(ann: Path) -> list[tuple[int, int, str]]:
    """Text-bound annotations of one .ann file as (start, end, label); a discontinuous span gives one per fragment."""
    spans = []
    for line in ann.read_text(encoding="utf-8").splitlines():
        if not line.startswith("T"):
            continue
        _, info, *_ = line.split("\t")
        label, _, offsets = info.partition(" ")
        for fragment in offsets.split(";"):
            start, end = fragment.split()
            spans.append((int(start), int(end), label))
    return spans


def meddocan_category(text: str, start: int, end: int, label: str) -> str | None:
    if label == "FECHAS":
        line_start = text.rfind("\n", 0, start) + 1
        return "DATE_OF_BIRTH" if _BIRTH_BEFORE.search(text, line_start, start) else "DATE"
    if label == "TERRITORIO":
        return "POSTCODE" if _POSTCODE_GOLD.fullmatch(text[start:end].strip()) else "LOCATION"
    return GOLD_CATEGORY.get(label, "OTHER")


def read_brat_set(data: Path, lang: str, region: str, limit: int | None,
                  only: set[str] | None = None) -> tuple[list[Labelled], list[list]]:  # fmt: skip
    """(documents with scored gold, every labelled span per document) of a BRAT folder, read in place; `only`: the
    document names (file stems) to keep, e.g. a `terroir train-ner` pipeline's held-out documents."""
    docs, labelled = [], []
    for txt in sorted(data.glob("*.txt"))[:limit]:
        ann = txt.with_suffix(".ann")
        if not ann.is_file() or (only is not None and txt.stem not in only):
            continue
        text = txt.read_text(encoding="utf-8")
        spans = [s for s in read_brat(ann) if s[1] <= len(text)]
        gold = [(s, e, c) for s, e, lab in spans if (c := meddocan_category(text, s, e, lab))]
        docs.append(Labelled(text, lang, region, gold, txt.stem))
        labelled.append([(s, e) for s, e, _ in spans])
    return docs, labelled


def build_sets(names: list[str], args) -> dict[str, tuple[list[Labelled], list[list]]]:
    sets = {}
    if any(n.startswith("meddocan") for n in names):
        if not args.data.is_dir():
            raise SystemExit(f"--data {args.data}: not a folder (the MEDDOCAN test set, BRAT .txt + .ann)")
        only = set(json.loads(args.heldout.read_text())["heldout_documents"]) if args.heldout else None
        med, spans = read_brat_set(args.data, "es", "ES", args.limit, only)
        if "meddocan" in names:
            sets["meddocan"] = (med, spans)
        if "meddocan-long" in names:
            long = concatenate(med, 8)
            sets["meddocan-long"] = (long, [[(s, e) for s, e, _ in d.gold] for d in long])
    if any(n.startswith("generated") for n in names):
        gen = generate(args.limit or 350, seed=args.seed)
        if "generated" in names:
            sets["generated"] = (gen, [[(s, e) for s, e, _ in d.gold] for d in gen])
        if "generated-long" in names:
            by_country = defaultdict(list)
            for d in gen:
                by_country[d.region].append(d)
            long = [x for docs in by_country.values() for x in concatenate(docs, 20)]
            sets["generated-long"] = (long, [[(s, e) for s, e, _ in d.gold] for d in long])
    return sets


# -- detectors ------------------------------------------------------------------------------------------------


class TerroirDetector:
    name = "terroir"

    def __init__(self, languages, countries, ner: dict[str, str], ner_prefilter: bool = True) -> None:
        from filters.pii.engine import PiiRedactor
        from filters.pii.registry import PATTERN_ENTITIES

        entities = tuple(e for e in PATTERN_ENTITIES if e != "URL")
        self.redactor = PiiRedactor(tuple(languages), entities, tuple(countries), 0.5, ner_models=ner,
                                    ner_prefilter=ner_prefilter)  # fmt: skip

    def find(self, doc: Labelled) -> list[tuple[int, int, str]]:
        return [(h.start, h.end, h.entity_type) for h in self.redactor.find(doc.text, doc.lang, doc.region)]


class PresidioDetector:
    """Stock Presidio, offline: `NoOpNlpEngine`, recognizers registered for each language, threshold 0."""

    def __init__(self, name: str, languages, everything: bool) -> None:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NoOpNlpEngine

        from filters.residency import offline_tldextract

        offline_tldextract()
        self.name = name
        classes = presidio_classes(everything)
        recognizers = []
        for lang in languages:
            for cls in classes:
                try:
                    recognizers.append(cls(supported_language=lang))
                except Exception:  # noqa: BLE001, S112 - a recognizer that needs more arguments is left out
                    continue
        registry = RecognizerRegistry(recognizers=recognizers, supported_languages=list(languages))
        nlp = NoOpNlpEngine(models=[{"lang_code": lang, "model_name": "none"} for lang in languages])
        nlp.load()
        self.engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=list(languages))
        self.recognizer_count = len(classes)

    def find(self, doc: Labelled) -> list[tuple[int, int, str]]:
        return [(r.start, r.end, r.entity_type) for r in self.engine.analyze(doc.text, language=doc.lang)]


def presidio_classes(everything: bool) -> list[type]:
    """Predefined recognizer classes: those Presidio's default configuration enables, or all without a model."""
    import inspect

    import yaml
    from presidio_analyzer import EntityRecognizer, predefined_recognizers

    if everything:
        names = [n for n, c in inspect.getmembers(predefined_recognizers, inspect.isclass)
                 if issubclass(c, EntityRecognizer) and not any(s in n for s in _NER_SKIP)]  # fmt: skip
    else:
        import presidio_analyzer

        conf = Path(presidio_analyzer.__file__).parent / "conf" / "default_recognizers.yaml"
        entries = yaml.safe_load(conf.read_text(encoding="utf-8"))["recognizers"]
        names = [e["name"] for e in entries if e.get("enabled", True) and e.get("type") == "predefined"]
        names = [n for n in names if not any(s in n for s in _NER_SKIP)]
    return [getattr(predefined_recognizers, n) for n in names if hasattr(predefined_recognizers, n)]


# -- scoring --------------------------------------------------------------------------------------------------


def _masked(text: str, found: list[tuple[int, int, str]]) -> str:
    chars = list(text)
    for s, e, _ in found:
        chars[s:e] = ["\x00"] * (e - s)
    return "".join(chars)


def score_set(docs: list[Labelled], labelled: list[list], detector) -> tuple[dict[str, Counter], float]:
    """(counts per row, seconds spent finding) for one detector on one set."""
    rows: dict[str, Counter] = defaultdict(Counter)
    seconds = 0.0
    for doc, any_spans in zip(docs, labelled, strict=True):
        t = time.perf_counter()
        found = detector.find(doc)
        seconds += time.perf_counter() - t
        masked = _masked(doc.text, found)
        cats = [(s, e, category_of(t)) for s, e, t in found]
        for s, e, c in doc.gold:
            value = doc.text[s:e]
            for row, ok in ((c, compatible(c)), ("ALL", None)):
                rows[row]["gold"] += 1
                rows[row]["hit"] += any(fs < e and s < fe and (ok is None or fc in ok) for fs, fe, fc in cats)
                rows[row]["leak"] += bool(value.strip()) and value in masked
        for fs, fe, fc in cats:
            for row in ROWS:
                if fc in CLAIMS.get(row, {row}):
                    rows[row]["found"] += 1
                    good = ROW_GOLD.get(row, {row})
                    rows[row]["correct"] += any(s < fe and fs < e and c in good for s, e, c in doc.gold)
            rows["ALL"]["found"] += 1
            rows["ALL"]["correct"] += any(s < fe and fs < e for s, e in any_spans)
    return rows, seconds


def _r(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "–"


def table(name: str, docs: list[Labelled], results: dict[str, tuple[dict, float]]) -> str:
    kb = sum(len(d.text) for d in docs) / max(1, len(docs)) / 1000
    dets = list(results)
    lines = [f"### {name}: {len(docs)} documents, {kb:.1f} KB on average", ""]
    lines.append("| type | gold | " + " | ".join(f"{d} R / P / leak" for d in dets) + " |")
    lines.append("|---|---:|" + "---:|" * len(dets))
    first = results[dets[0]][0]
    for row in (*ROWS, "ALL"):
        gold = first.get(row, Counter())["gold"]
        if not gold and row not in ("PERSON", "LOCATION"):
            continue
        cells = []
        for d in dets:
            c = results[d][0].get(row, Counter())
            cells.append(f"{_r(c['hit'], c['gold'])} / {_r(c['correct'], c['found'])} / {_r(c['leak'], c['gold'])}")
        label = f"**{row}**" if row == "ALL" else row
        lines.append(f"| {label} | {gold} | " + " | ".join(cells) + " |")
    speeds = [f"{len(docs) / s:,.1f}" if s else "–" for _, s in results.values()]
    lines.append("| docs/s | | " + " | ".join(speeds) + " |")
    base = results.get("presidio-default")
    if base and "terroir" in results and results["terroir"][1]:
        lines += ["", f"Terroir / Presidio default speed: {base[1] / results['terroir'][1]:.1f}×"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sets", default="meddocan,meddocan-long,generated,generated-long")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="MEDDOCAN folder of .txt and .ann (read in place)")
    ap.add_argument("--limit", type=int, default=None, help="documents per source set (default: all; generated: 350)")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--detectors", default="terroir,presidio-default,presidio-all",
                    help="terroir, terroir-whole (NER without the word-window cascade), presidio-default, presidio-all")
    ap.add_argument("--terroir-countries", default="set", help="'set' (the set's countries) or 'all'")
    ap.add_argument("--ner", action="append", default=[], metavar="LANG=PIPELINE", help="spaCy NER for Terroir")
    ap.add_argument("--heldout", type=Path, metavar="EVALUATION_JSON",
                    help="MEDDOCAN sets: only the held-out documents of a train-ner pipeline (its evaluation.json)")
    args = ap.parse_args(argv)
    names = [n for n in args.sets.split(",") if n]
    unknown = set(names) - {"meddocan", "meddocan-long", "generated", "generated-long"}
    if unknown:
        ap.error(f"--sets: unknown {sorted(unknown)}")
    sets = build_sets(names, args)
    ner = dict(item.split("=", 1) for item in args.ner)
    from filters.pii.policy import supported_countries

    print(f"# PII evaluation (seed {args.seed}; Terroir countries: {args.terroir_countries}; NER: {ner or 'off'})")
    for name, (docs, labelled) in sets.items():
        languages = sorted({d.lang for d in docs})
        countries = supported_countries() if args.terroir_countries == "all" else sorted({d.region for d in docs})
        results = {}
        for det in [d for d in args.detectors.split(",") if d]:
            if det in ("terroir", "terroir-whole"):  # terroir-whole: NER reads every text whole (no cascade)
                detector = TerroirDetector(languages, countries, ner, ner_prefilter=det == "terroir")
            elif det in ("presidio-default", "presidio-all"):
                detector = PresidioDetector(det, languages, det == "presidio-all")
            else:
                ap.error(f"--detectors: unknown {det!r}")
            detector.find(docs[0])  # warm-up: lazy imports and compiled patterns are not the documents' cost
            results[det] = score_set(docs, labelled, detector)
        print()
        print(table(name, docs, results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
