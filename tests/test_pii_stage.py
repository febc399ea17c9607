"""The PII stage: operators, salt handling, NER with a self-built spaCy pipeline, tiers, the fast path's
equivalence with stock Presidio, and that no raw value reaches outputs, ledger rows, logs or exceptions."""

from __future__ import annotations

import dataclasses
import json
import logging
import random
import re

import pytest

from filters.document import Document
from filters.pii.engine import PiiAnalysisError, PiiRedactor
from filters.pii.policy import check_pii_config, supported_countries
from pipelines.stages.pii import PiiStage
from schemas.policy import load_policy

SALT = "a-test-salt-of-sufficient-length"
PLANTED = {
    "email": "karin.holm@lanstidningen.se",
    "iban": "SE45 5000 0000 0583 9825 7466",
    "card": "4111 1111 1111 1111",
    "personnummer": "19811218-9876",
    "fodselsnummer": "151086 95088",
    "cpr": "211062-5629",
    "phone": "08-123 456 78",
    "ip": "192.168.10.5",
}
TEXT = (
    "Kommunfullmäktige samlades på tisdagskvällen. "
    f"Frågor skickas till {PLANTED['email']} eller ring tel. {PLANTED['phone']} under kontorstid. "
    f"Gåvor sätts in på {PLANTED['iban']}; biljetten betalades med kortet {PLANTED['card']}. "
    f"Hennes personnummer är {PLANTED['personnummer']}, hans norska fødselsnummer {PLANTED['fodselsnummer']} "
    f"och den danska kollegans CPR-nr. {PLANTED['cpr']}. Servern {PLANTED['ip']} loggar allt."
)
ENTITIES = ("EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "IP_ADDRESS", "PHONE_NUMBER")
EXPECTED = {
    "CREDIT_CARD": 1, "DK_CPR": 1, "EMAIL_ADDRESS": 1, "IBAN_CODE": 1, "IP_ADDRESS": 1, "NO_FODSELSNUMMER": 1,
    "PHONE_NUMBER": 1, "SE_PERSONNUMMER": 1,
}  # fmt: skip


def variants(value: str) -> set[str]:
    """The value and the separator-free forms a leak could take."""
    return {value, value.replace(" ", ""), value.replace("-", ""), re.sub(r"[\s\-.]", "", value)}


def assert_no_raw_value(*blobs: str) -> None:
    for blob in blobs:
        for raw in PLANTED.values():
            for v in variants(raw):
                assert v not in blob, "a raw value leaked"


@pytest.fixture(scope="module")
def redactor():
    return PiiRedactor(("sv", "en"), ENTITIES, ("SE", "NO", "DK"))


POLICY = """
policy_id: pii-stage-test
residency:
  regions:
    nordics: {{jurisdictions: [SE, "NO", DK, FI], storage: shards/nordics}}
admission:
  languages: {{sv: 0.5, en: 0.5}}
pii:
  countries: [SE, "NO", DK]  # quoted: YAML reads a bare NO as false
  operator: {operator}
  salt_env: TERROIR_TEST_PII_SALT
{extra}"""


def policy(tmp_path, operator="placeholder", extra=""):
    path = tmp_path / f"policy-{operator}.yaml"
    path.write_text(POLICY.format(operator=operator, extra=extra), encoding="utf-8")
    return load_policy(path)


def document(text: str = TEXT, lang: str = "sv", region: str | None = "SE") -> Document:
    return Document("d1", "intake", "jsonl", "in.jsonl", "1", text=text, lang=lang, origin_jurisdiction=region)


# -- operators ---------------------------------------------------------------------------------------------


def test_placeholder_operator_types_every_value(redactor):
    result = redactor.redact_detail(TEXT, "sv", region="SE")
    assert result.counts == EXPECTED
    for entity in EXPECTED:
        assert f"<{entity}>" in result.text
    assert_no_raw_value(result.text)


def test_hash_operator_is_salted_keyed_and_stable():
    a = PiiRedactor(("sv",), ENTITIES, ("SE", "NO", "DK"), operator="hash", salt=SALT)
    b = PiiRedactor(("sv",), ENTITIES, ("SE", "NO", "DK"), operator="hash", salt=SALT[::-1])
    out_a, counts = a.redact(TEXT, "sv", "SE")
    assert counts["EMAIL_ADDRESS"] == 1 and counts["CREDIT_CARD"] == 1
    assert_no_raw_value(out_a)
    token = re.search(r"<CREDIT_CARD:([0-9a-f]{16})>", out_a)
    assert token
    # same salt: the same value gives the same token, whatever its separators; another salt: another token
    assert a.redact("Kort 4111-1111-1111-1111.", "sv", "SE")[0] == f"Kort <CREDIT_CARD:{token.group(1)}>."
    assert token.group(1) not in b.redact(TEXT, "sv", "SE")[0]
    assert a.replacement("x@example.se", "EMAIL_ADDRESS") != a.replacement("x@example.se", "PERSON")


def test_mask_operator_keeps_only_length_and_punctuation():
    r = PiiRedactor(("sv",), ENTITIES, ("SE",), operator="mask")
    out, counts = r.redact(f"Skriv till {PLANTED['email']} i dag.", "sv")
    assert counts == {"EMAIL_ADDRESS": 1}
    assert out == "Skriv till " + re.sub(r"\w", "*", PLANTED["email"]) + " i dag."
    assert_no_raw_value(out)


def test_unknown_operator_is_refused():
    with pytest.raises(ValueError, match="unknown PII operator"):
        PiiRedactor(("en",), ENTITIES, operator="shuffle")


# -- salt ----------------------------------------------------------------------------------------------------


def test_hash_without_salt_refuses_to_start(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="secret salt"):
        PiiRedactor(("en",), ENTITIES, operator="hash")
    monkeypatch.delenv("TERROIR_TEST_PII_SALT", raising=False)
    p = policy(tmp_path, "hash")
    with pytest.raises(ValueError, match="TERROIR_TEST_PII_SALT") as err:
        check_pii_config(p)
    assert "pii.operator" in str(err.value) and "not set" in str(err.value)
    with pytest.raises(ValueError):
        PiiStage(p).setup()


def test_short_salt_is_refused_without_echoing_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TERROIR_TEST_PII_SALT", "short-secret")
    with pytest.raises(ValueError, match="shorter than 16") as err:
        check_pii_config(policy(tmp_path, "hash"))
    assert "short-secret" not in str(err.value)


def test_stage_hashes_with_the_salt_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TERROIR_TEST_PII_SALT", SALT)
    p = policy(tmp_path, "hash")
    check_pii_config(p)
    stage = PiiStage(p)
    rows = list(stage.process(document()))
    doc = rows[-1][1]
    assert re.search(r"<EMAIL_ADDRESS:[0-9a-f]{16}>", doc.text)
    assert_no_raw_value(doc.text, json.dumps(rows[0][1], ensure_ascii=False))
    assert SALT not in json.dumps(rows[0][1]) + doc.text


# -- preflight -------------------------------------------------------------------------------------------------


def test_preflight_names_unsupported_countries(tmp_path):
    p = policy(tmp_path)
    check_pii_config(p)
    bad = dataclasses.replace(p, pii_countries=("SE", "LV"))
    with pytest.raises(ValueError, match=r"pii.countries: no national-identifier recognizers for \['LV'\]"):
        check_pii_config(bad)
    assert {"JP", "NO", "DK", "FR", "NL", "BR", "TW", "SG", "SE", "GB"} <= set(supported_countries())


def test_preflight_country_table_matches_the_recognizers_without_loading_presidio():
    import subprocess
    import sys

    from filters.national_ids.registry import NATIONAL_ID_RECOGNIZERS
    from filters.pii.policy import NATIONAL_ID_COUNTRIES
    from filters.pii.registry import recognizer_factories

    assert sorted(NATIONAL_ID_COUNTRIES) == sorted(NATIONAL_ID_RECOGNIZERS)
    from filters.pii.policy import NER_ENTITY_NAMES, PATTERN_ENTITY_NAMES
    from filters.pii.registry import NER_ENTITIES, PATTERN_ENTITIES

    assert PATTERN_ENTITY_NAMES == PATTERN_ENTITIES and NER_ENTITY_NAMES == NER_ENTITIES
    assert all(recognizer_factories(c) for c in supported_countries())  # a supported country gets recognizers
    # the run's preflight checks the PII section without paying Presidio's import (seconds, before any work)
    probe = "import sys, filters.pii.policy; print('presidio_analyzer' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_an_unknown_entity_name_fails_preflight_with_a_suggestion(tmp_path):
    import dataclasses

    from schemas.policy import load_policy

    p = tmp_path / "policy.yaml"
    p.write_text("policy_id: e\nresidency:\n  regions:\n    eu: {jurisdictions: [SE], storage: s}\n"
                 "pii:\n  countries: [SE]\n  entities: [EMAIL_ADRESS, IBAN_CODE, SE_PERSONNUMMER]\n")  # fmt: skip
    with pytest.raises(ValueError) as err:
        check_pii_config(load_policy(p))
    assert "unknown entity type 'EMAIL_ADRESS' (did you mean EMAIL_ADDRESS?)" in str(err.value)
    assert "IBAN_CODE" not in str(err.value).split("known types")[0]
    fixed = dataclasses.replace(load_policy(p), pii_entities=("EMAIL_ADDRESS", "IBAN_CODE", "SE_PERSONNUMMER"))
    check_pii_config(fixed)


# -- NER -------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ner_pipeline(tmp_path_factory):
    """A small spaCy pipeline built here: blank English with an entity ruler, saved to a folder."""
    import spacy

    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([
        {"label": "PERSON", "pattern": "Karin Holm"},
        {"label": "GPE", "pattern": "Oslo"},
        {"label": "ORG", "pattern": "Acme Shipping"},
    ])  # fmt: skip
    path = tmp_path_factory.mktemp("spacy") / "en_ruler"
    nlp.to_disk(path)
    return str(path)


def test_ner_finds_people_places_and_organisations(ner_pipeline):
    r = PiiRedactor(("en", "sv"), ENTITIES, (), ner_models={"en": ner_pipeline, "sv": "sv_core_news_missing"})
    assert r.ner_status["en"] == f"on: {ner_pipeline}"
    assert r.ner_status["sv"].startswith("unavailable")
    result = r.redact_detail("Karin Holm moved to Oslo to work for Acme Shipping.", "en")
    assert result.text == "<PERSON> moved to <LOCATION> to work for <ORGANIZATION>."
    assert result.tiers == {"LOCATION": {"ner": 1}, "ORGANIZATION": {"ner": 1}, "PERSON": {"ner": 1}}
    assert result.ner is True
    # no pipeline for Swedish: patterns still run, NER does not, and the result says so
    sv = r.redact_detail("Karin Holm flyttade till Oslo.", "sv")
    assert sv.ner is False and sv.counts == {}
    assert r.status()["ner"] == r.ner_status


def test_require_ner_with_a_missing_pipeline_fails_preflight(tmp_path, ner_pipeline):
    missing = policy(tmp_path, extra=f"  ner: {{sv: sv_core_news_missing, en: {ner_pipeline}}}\n  require_ner: true\n")
    with pytest.raises(ValueError, match=r"pii.ner.sv: spaCy pipeline 'sv_core_news_missing'"):
        check_pii_config(missing)
    uncovered = policy(tmp_path, extra=f"  ner: {{en: {ner_pipeline}}}\n  require_ner: true\n")
    with pytest.raises(ValueError, match=r"no spaCy pipeline for admitted language\(s\) \['sv'\]"):
        check_pii_config(uncovered)
    with pytest.raises(ValueError, match="NER is required"):
        PiiRedactor(("en",), ENTITIES, ner_models={"en": "en_core_web_missing"}, require_ner=True)
    # a pipeline the policy names must load, require_ner or not: a missing one is wrong configuration
    named_missing = policy(tmp_path, extra=f"  ner: {{sv: sv_core_news_missing, en: {ner_pipeline}}}\n")
    with pytest.raises(ValueError, match=r"pii.ner.sv: spaCy pipeline 'sv_core_news_missing'"):
        check_pii_config(named_missing)
    # a language the policy names no pipeline for runs without NER, and the ledger says names were not redacted
    lenient = policy(tmp_path, extra=f"  ner: {{en: {ner_pipeline}}}\n")
    check_pii_config(lenient)
    rows = list(PiiStage(lenient).process(document()))
    detail = json.loads(rows[0][1]["detail"])
    assert detail["ner"] == "off" and detail["names"] == "not redacted"
    assert rows[0][1]["reason"].endswith("; names not redacted")


# -- tiers and ledger --------------------------------------------------------------------------------------------


def test_ledger_detail_counts_per_type_and_tier_without_values(tmp_path):
    rows = list(PiiStage(policy(tmp_path)).process(document()))
    kind, row = rows[0]
    assert kind == "ledger" and row["decision"] == "redacted"
    detail = json.loads(row["detail"])
    assert detail["counts"] == EXPECTED
    assert detail["tiers"]["DK_CPR"] == {"validated": 1}
    assert detail["tiers"]["SE_PERSONNUMMER"] == {"validated": 1}
    assert detail["tiers"]["PHONE_NUMBER"] == {"validated": 1}
    assert sum(sum(t.values()) for t in detail["tiers"].values()) == sum(detail["counts"].values())
    assert_no_raw_value(json.dumps(row, ensure_ascii=False), rows[-1][1].text)


def test_pattern_tier_for_a_recognizer_without_a_check():
    r = PiiRedactor(("en",), ENTITIES, ("GB",))
    result = r.redact_detail("Her National Insurance number is AB 12 34 56 C.", "en")
    assert result.tiers == {"UK_NINO": {"pattern": 1}}


def test_phone_numbers_use_the_documents_jurisdiction(redactor):
    text = "Ring oss på tel. 08-123 456 78 i morgon."
    assert redactor.redact(text, "sv", region="SE")[1] == {"PHONE_NUMBER": 1}
    assert "PHONE_NUMBER" not in redactor.redact(text, "sv", region="US")[1]


# -- no raw value anywhere ----------------------------------------------------------------------------------------


def test_no_raw_value_in_outputs_ledger_or_logs(tmp_path, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    stage = PiiStage(policy(tmp_path))
    rows = list(stage.process(document()))
    r = PiiRedactor(("sv", "en"), ENTITIES, ("SE", "NO", "DK"), operator="mask")
    masked = r.redact(TEXT, "sv", "SE")[0]
    hits = r.find(TEXT, "en", "SE")
    stock = r.analyze_with_presidio(TEXT, "sv", "SE")  # stock Presidio's own logging, at DEBUG
    # Presidio itself logs some values it fails to validate: its records keep their template only
    logging.getLogger("presidio-analyzer").error("Failed to validate text %s", PLANTED["iban"])
    out = capsys.readouterr()
    assert_no_raw_value(
        rows[-1][1].text, json.dumps([row for kind, row in rows if kind == "ledger"], ensure_ascii=False), masked,
        repr(hits), repr(stock), caplog.text, out.out, out.err, json.dumps(stage.status()),
    )  # fmt: skip
    assert "arguments withheld" in caplog.text


def test_analysis_errors_never_carry_the_text(tmp_path, monkeypatch):
    stage = PiiStage(policy(tmp_path))
    stage.setup()
    rec = next(r for r in stage._redactor.recognizers("sv", "SE") if r.supported_entities == ["DK_CPR"])

    def exploding(value):
        raise ValueError(f"cannot check {value}")

    monkeypatch.setattr(rec, "validate_result", exploding)
    with pytest.raises(PiiAnalysisError) as err:
        stage._redactor.find(TEXT, "sv", "SE")
    assert str(err.value) == "PII analysis failed (ValueError)"
    assert err.value.__context__ is None and err.value.__cause__ is None
    # the stage fails closed: an error row, and the document is not passed on
    rows = list(stage.process(document()))
    assert [kind for kind, _ in rows] == ["ledger"] and rows[0][1]["decision"] == "error"
    assert_no_raw_value(json.dumps(rows[0][1]))


# -- the fast path is stock Presidio ---------------------------------------------------------------------------


def _generated_documents(n: int, seed: int) -> list[tuple[str, str, str | None]]:
    """Sentences with planted values, digits in every shape, separators and noise, deterministically."""
    rng = random.Random(seed)
    words = ("tisdag", "kommunen", "Oslo", "the", "report", "år", "nr", "tel", "CPR", "BSN", "IBAN", "e-mail")
    values = [
        *PLANTED.values(),
        "6214 9832 0257",
        "2 95 10 99 126 111 93",
        "1112.22.333",
        "390.533.447-05",
        "A123456789",
        "S1234567D",
        "756.9217.0769.85",
        "DE89 3704 0044 0532 0130 00",
        "2001:db8::1",
        "131052-308T",
        "12345678Z",
        "AB 12 34 56 C",
        "943 476 5919",
        "+47 22 33 44 55",
        "(212) 555-0199",
    ]
    alphabet = "0123456789 -./:@+()ABCxyzÅ,\n"
    docs = []
    for _ in range(n):
        parts = []
        while sum(map(len, parts)) < 1200:
            r = rng.random()
            if r < 0.45:
                parts.append(" ".join(rng.choice(words) for _ in range(rng.randint(2, 9))))
            elif r < 0.75:
                parts.append(f"{rng.choice(words)} {rng.choice(values)}")
            else:
                parts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))))
        docs.append((rng.choice(["", " ", "\n", "."]).join(parts), rng.choice(["sv", "en", "da"]),
                     rng.choice([None, "SE", "NO", "US"])))  # fmt: skip
    return docs


def test_fast_path_finds_exactly_what_stock_presidio_finds():
    countries = ("SE", "NO", "DK", "GB", "DE", "FR", "NL", "JP", "SG", "ES", "BR", "CH", "TW")
    r = PiiRedactor(("sv", "en", "da"), (*ENTITIES, "URL"), countries)
    for text, lang, region in _generated_documents(24, seed=20261123):
        fast = r.analyze(text, lang, region)
        stock = r.analyze_with_presidio(text, lang, region)
        assert {(x.start, x.end, x.entity_type, round(x.score, 6)) for x in fast} == {
            (x.start, x.end, x.entity_type, round(x.score, 6)) for x in stock
        }


def test_labelled_identifiers_need_their_label():
    r = PiiRedactor(("es", "en"), ("LABELLED_ID",), ())
    out, counts = r.redact("NHC: 5467980. NASS: 14 9096265001 02. Episodio: 5267937.", "es")
    assert counts == {"LABELLED_ID": 3} and "5467980" not in out and "9096265001" not in out
    assert r.redact("El año 2016 ingresaron 5467980 pacientes.", "es")[1] == {}
    assert r.redact_detail("Patient ID 004-118-2231 was admitted.", "en").tiers == {"LABELLED_ID": {"pattern": 1}}
