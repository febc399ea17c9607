"""The PII evaluation harness: label mapping, the generated sets, and scoring with the real detectors."""

from __future__ import annotations

import argparse
import sys

import pytest

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import pii_eval
from pii_synth import concatenate, generate


def test_generated_documents_are_deterministic_and_their_gold_is_the_planted_text():
    a, b = generate(30, seed=5), generate(30, seed=5)
    assert [d.text for d in a] == [d.text for d in b]
    assert generate(30, seed=6)[0].text != a[0].text
    categories = {c for d in a for _, _, c in d.gold}
    assert categories <= {"PHONE", "DATE_OF_BIRTH", "ADDRESS", "POSTCODE", "URL", "IBAN", "CARD", "EMAIL"}
    assert len(categories) == 8
    for d in a:
        for s, e, _ in d.gold:
            assert d.text[s:e].strip() == d.text[s:e] and e > s
    joined = concatenate([d for d in a if d.region == "ES"], 2)
    first, second = a[0], next(d for d in a[1:] if d.region == "ES")
    assert joined[0].text.startswith(first.text) and second.text in joined[0].text
    assert [joined[0].text[s:e] for s, e, _ in joined[0].gold] == [
        d.text[s:e] for d in (first, second) for s, e, _ in d.gold
    ]


def test_meddocan_labels_are_mapped_explicitly(shared):
    data = shared / "pii" / "meddocan_es" / "test_brat"
    if not data.is_dir():
        pytest.skip("MEDDOCAN is not in ../shared/data")
    docs, spans = pii_eval.read_brat_set(data, "es", "ES", 20)
    assert len(docs) == 20 and all(len(s) >= len(d.gold) for d, s in zip(docs, spans, strict=True))
    by_category = {}
    for d in docs:
        for s, e, c in d.gold:
            by_category.setdefault(c, []).append(d.text[s:e])
    assert {"DATE_OF_BIRTH", "DATE", "ADDRESS", "POSTCODE", "EMAIL", "PERSON", "LOCATION", "ID"} <= set(by_category)
    assert all(v.strip().replace("E-", "").replace("-", "").isdigit() for v in by_category["POSTCODE"])
    text = "Fecha de nacimiento: 11/02/1970.\nFecha de Ingreso: 28/05/2016."
    assert pii_eval.meddocan_category(text, 21, 31, "FECHAS") == "DATE_OF_BIRTH"
    assert pii_eval.meddocan_category(text, 51, 61, "FECHAS") == "DATE"
    assert pii_eval.category_of("DATE_TIME") == "DATE" and pii_eval.category_of("ES_NIF") == "ID"


def test_scoring_terroir_and_presidio_on_generated_documents():
    args = argparse.Namespace(data=None, limit=21, seed=3)
    docs, labelled = pii_eval.build_sets(["generated"], args)["generated"]
    terroir = pii_eval.TerroirDetector(sorted({d.lang for d in docs}), sorted({d.region for d in docs}), {})
    rows, seconds = pii_eval.score_set(docs, labelled, terroir)
    assert seconds > 0
    total = rows["ALL"]
    assert total["gold"] == sum(len(d.gold) for d in docs)
    assert total["hit"] / total["gold"] > 0.9 and total["leak"] <= total["gold"] - total["hit"]
    presidio = pii_eval.PresidioDetector("presidio-default", sorted({d.lang for d in docs}), everything=False)
    stock, _ = pii_eval.score_set(docs, labelled, presidio)
    assert stock["ADDRESS"]["hit"] == 0  # Presidio has no address recognizer without NER
    table = pii_eval.table("generated", docs, {"terroir": (rows, seconds), "presidio-default": (stock, 1.0)})
    assert "| PHONE |" in table and "docs/s" in table and "Terroir / Presidio default speed" in table
