"""`terroir train-ner`: train a small spaCy NER (tok2vec + ner, CPU) from labelled data a nation already has.

    terroir train-ner --input ../shared/data/pii/meddocan_es/test_brat --labels policies/ner/meddocan-labels.yaml \\
        --lang es --output models --name meddocan --version 1.0.0 [--seed 0] [--epochs 12] [--eval-fraction 0.2]

Reads CoNLL/IOB2 files and BRAT `.ann` + `.txt` pairs (`filters/ner_data.py`), maps their labels to PERSON,
LOCATION, ORGANIZATION and OTHER by the mapping file, holds out a share of the documents (chosen by the seed),
trains on the rest, and writes `OUTPUT/LANG_NAME-VERSION/`: the spaCy pipeline (a policy names this folder in
`pii.ner`) and `evaluation.json` with precision, recall and F1 per label on the held-out documents (exact
character spans), the share of gold spans a prediction overlaps, and the leak rate (gold strings still present
verbatim after the predicted entities are replaced); its meta.json lists the cue words of the NER cascade
(`filters/ner_windows.py`). The same data, settings and seed give the same weights and
the same evaluation. Nothing is downloaded: the pipeline starts from `spacy.blank(lang)`.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from filters.ner_data import LabelledText, LabelMapError, Span, load_label_map, read_labelled
from filters.ner_windows import CUE_KEY, cue_words

TRAINER_VERSION = 1  # bump when the architecture or the training loop changes
NAME_LABELS = ("PERSON", "LOCATION", "ORGANIZATION")  # the labels whose words become cue words


class TrainNerError(ValueError):
    """Wrong arguments or unusable data; the message says what to fix (the CLI exits 2)."""


@dataclass
class TrainOptions:
    inputs: list[str]
    labels: str
    lang: str
    output: str
    name: str = "ner"
    version: str = "1.0.0"
    seed: int = 0
    epochs: int = 12
    eval_fraction: float = 0.2
    max_docs: int | None = None  # train on at most this many documents (after the held-out split)
    batch_size: int = 8
    dropout: float = 0.1
    width: int = 96
    depth: int = 4
    embed_rows: int = 5000
    hidden_width: int = 64
    use_upper: bool = True  # False drops the parser's hidden layer per step: faster, usually a little less accurate
    overwrite: bool = False


def split(docs: list[LabelledText], fraction: float, seed: int) -> tuple[list[LabelledText], list[LabelledText]]:
    """(train, held-out): documents sorted by id, shuffled by the seed, the first `fraction` held out."""
    order = sorted(docs, key=lambda d: d.doc_id)
    random.Random(seed).shuffle(order)
    n_eval = max(1, round(len(order) * fraction)) if fraction > 0 else 0
    return order[n_eval:], order[:n_eval]


def build_pipeline(lang: str, labels: list[str], opts: TrainOptions):
    """spacy.blank(lang) + tok2vec + ner listening to it: small and CPU-friendly."""
    import spacy

    nlp = spacy.blank(lang)
    nlp.add_pipe("tok2vec", config={"model": {
        "@architectures": "spacy.Tok2Vec.v2",
        "embed": {"@architectures": "spacy.MultiHashEmbed.v2", "width": opts.width,
                  "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
                  "rows": [opts.embed_rows, opts.embed_rows // 5, opts.embed_rows // 2, opts.embed_rows // 2],
                  "include_static_vectors": False},
        "encode": {"@architectures": "spacy.MaxoutWindowEncoder.v2", "width": opts.width, "depth": opts.depth,
                   "window_size": 1, "maxout_pieces": 3},
    }})  # fmt: skip
    ner = nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": opts.hidden_width, "maxout_pieces": 2, "use_upper": opts.use_upper, "nO": None,
        "tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "width": opts.width, "upstream": "tok2vec"},
    }})  # fmt: skip
    for label in labels:
        ner.add_label(label)
    return nlp


def segments(docs: list[LabelledText], max_chars: int = 600) -> list[LabelledText]:
    """Documents cut into pieces of about `max_chars` at line ends that no span crosses: short examples make
    more updates per epoch, so a few epochs suffice."""
    out = []
    for d in docs:
        cuts = [i + 1 for i, ch in enumerate(d.text) if ch == "\n"]
        cuts = [c for c in cuts if not any(s.start < c < s.end for s in d.spans)] + [len(d.text)]
        start = 0
        for c in cuts:
            if c - start >= max_chars or c == len(d.text):
                if c > start:
                    spans = [Span(s.start - start, s.end - start, s.label) for s in d.spans if start <= s.start < c]
                    out.append(LabelledText(f"{d.doc_id}@{start}", d.text[start:c], spans))
                start = c
    return out


def to_examples(nlp, docs: list[LabelledText]) -> tuple[list, int]:
    """spaCy Examples; spans are snapped outwards to token boundaries (count of spans that could not be)."""
    from spacy.training import Example

    out, dropped = [], 0
    for d in docs:
        doc = nlp.make_doc(d.text)
        ents, taken = [], set()
        for s in d.spans:
            span = doc.char_span(s.start, s.end, label=s.label, alignment_mode="expand")
            if span is None or any(i in taken for i in range(span.start, span.end)):
                dropped += 1
                continue
            taken.update(range(span.start, span.end))
            ents.append(span)
        ref = nlp.make_doc(d.text)
        ref.ents = sorted(ents, key=lambda e: e.start)
        out.append(Example(doc, ref))
    return out, dropped


def evaluate(nlp, docs: list[LabelledText], labels: list[str]) -> dict:
    """Per label: gold, predicted, exact matches, precision, recall, F1, overlap recall, leak rate."""
    from filters.ner import LABEL_TO_ENTITY

    tally: dict[str, Counter] = {label: Counter() for label in labels}
    redactable = {label for label in labels if label in LABEL_TO_ENTITY}
    for d, doc in zip(docs, nlp.pipe(d.text for d in docs)):
        pred = [Span(e.start_char, e.end_char, e.label_) for e in doc.ents]
        gold_set = {(s.start, s.end, s.label) for s in d.spans}
        out, pos = [], 0
        for p in pred:
            if p.label in redactable:
                out.append(d.text[pos : p.start] + f"<{p.label}>")
                pos = p.end
        redacted = "".join(out) + d.text[pos:]
        for s in d.spans:
            t = tally.setdefault(s.label, Counter())
            t["gold"] += 1
            t["overlapped"] += any(p.label == s.label and p.start < s.end and s.start < p.end for p in pred)
            value = d.text[s.start : s.end]
            t["leaked"] += bool(value.strip()) and value in redacted
        for p in pred:
            t = tally.setdefault(p.label, Counter())
            t["predicted"] += 1
            t["correct"] += (p.start, p.end, p.label) in gold_set
    per_label = {label: _scores(t) for label, t in sorted(tally.items())}
    total = sum(tally.values(), Counter())
    return {"per_label": per_label, "all": _scores(total), "documents": len(docs)}


def training_cue_words(nlp, docs: list[LabelledText]) -> list[str]:
    """Lower-case words inside the training documents' PERSON, LOCATION and ORGANIZATION spans, in two documents
    or more: the NER cascade's cue words (`filters/ner_windows.py`), kept in the pipeline's meta.json."""
    stop = {w.lower() for w in getattr(nlp.Defaults, "stop_words", ())}
    named = [(d.text, [(x.start, x.end) for x in d.spans if x.label in NAME_LABELS]) for d in docs]
    return cue_words(named, stop)


def _scores(t: Counter) -> dict:
    gold, pred, ok = t["gold"], t["predicted"], t["correct"]
    p = ok / pred if pred else 0.0
    r = ok / gold if gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "gold": gold, "predicted": pred, "correct": ok,
        "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
        "overlap_recall": round(t["overlapped"] / gold, 4) if gold else 0.0,
        "leak_rate": round(t["leaked"] / gold, 4) if gold else 0.0,
    }  # fmt: skip


def _check(opts: TrainOptions) -> dict[str, str]:
    for item in opts.inputs:
        if not Path(item).exists():
            raise TrainNerError(f"input {item} does not exist")
    if not 0 < opts.eval_fraction < 1:
        raise TrainNerError(f"--eval-fraction must be between 0 and 1 (found {opts.eval_fraction})")
    if opts.epochs < 1:
        raise TrainNerError("--epochs must be at least 1")
    try:
        import spacy.util

        spacy.util.get_lang_class(opts.lang)
    except Exception:  # noqa: BLE001 - spaCy raises ImportError or its own error for an unknown code
        raise TrainNerError(f"--lang {opts.lang!r}: spaCy has no tokenizer rules for this language code") from None
    try:
        return load_label_map(opts.labels)
    except LabelMapError as exc:
        raise TrainNerError(str(exc)) from None


def train_ner(opts: TrainOptions, say=None) -> tuple[Path, dict]:
    """Train, evaluate on the held-out split, write the versioned folder → (folder, evaluation)."""
    import spacy
    from spacy.util import fix_random_seed, minibatch

    say = say or (lambda m: None)
    mapping = _check(opts)
    target = Path(opts.output) / f"{opts.lang}_{opts.name}-{opts.version}"
    if target.exists() and any(target.iterdir()) and not opts.overwrite:
        raise TrainNerError(f"{target} already holds a pipeline; choose another --version or pass --overwrite")
    docs, report = read_labelled(opts.inputs, mapping)
    if not docs or not sum(report.spans.values()):
        raise TrainNerError(f"no labelled spans found in {opts.inputs} with the mapping {opts.labels}")
    train_docs, eval_docs = split(docs, opts.eval_fraction, opts.seed)
    if opts.max_docs:
        train_docs = train_docs[: opts.max_docs]
    labels = sorted({s.label for d in docs for s in d.spans})
    fix_random_seed(opts.seed)
    nlp = build_pipeline(opts.lang, labels, opts)
    train_examples, dropped = to_examples(nlp, segments(train_docs))
    optimizer = nlp.initialize(lambda: train_examples)
    rng = random.Random(opts.seed)
    started = time.process_time()
    losses_per_epoch = []
    for epoch in range(opts.epochs):
        order = list(train_examples)
        rng.shuffle(order)
        losses: dict = {}
        for batch in minibatch(order, size=opts.batch_size):
            nlp.update(batch, drop=opts.dropout, sgd=optimizer, losses=losses)
        losses_per_epoch.append(round(float(losses.get("ner", 0.0)), 3))
        say(f"epoch {epoch + 1}/{opts.epochs}: ner loss {losses_per_epoch[-1]:.1f}")
    train_cpu = time.process_time() - started
    evaluation = evaluate(nlp, eval_docs, labels)
    nlp.meta.update({
        "name": opts.name, "version": opts.version, "lang": opts.lang,
        "description": f"Terroir train-ner: tok2vec + ner trained on {len(train_docs)} documents",
        "labels": {"ner": labels},
        CUE_KEY: training_cue_words(nlp, train_docs),
    })  # fmt: skip
    settings = {k: v for k, v in asdict(opts).items() if k not in ("inputs", "output", "overwrite", "labels")}
    result = {
        "pipeline": target.name,
        "trainer_version": TRAINER_VERSION,
        "spacy_version": spacy.__version__,
        "settings": settings,
        "label_mapping": dict(sorted(mapping.items())),
        "data": report.as_dict(),
        "train_documents": sorted(d.doc_id for d in train_docs),
        "heldout_documents": sorted(d.doc_id for d in eval_docs),
        "spans_not_aligned_to_tokens": dropped,
        "losses": losses_per_epoch,
        "evaluation": evaluation,
    }
    target.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(target)
    (target / "evaluation.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (target / "training_time.json").write_text(json.dumps({"train_cpu_seconds": round(train_cpu, 1)}) + "\n")
    return target, result


# -- command line ---------------------------------------------------------------------------------------------


def add_train_ner_command(sub) -> None:
    t = sub.add_parser("train-ner", help="train a small spaCy NER pipeline from CoNLL/IOB2 or BRAT data",
                       description="Trains tok2vec + ner on CPU from labelled data, holds out a share for "
                       "evaluation, and writes OUTPUT/LANG_NAME-VERSION/ (the pipeline a policy names in pii.ner, "
                       "plus evaluation.json with precision, recall and F1 per label).")  # fmt: skip
    t.add_argument("--input", action="append", required=True, metavar="PATH",
                   help="BRAT folder (.txt + .ann) or CoNLL/IOB2 file or folder; repeat for several")  # fmt: skip
    t.add_argument("--labels", required=True, metavar="YAML", help="label mapping: PERSON/LOCATION/ORGANIZATION/OTHER")
    t.add_argument("--lang", required=True, help="language code of the texts (ISO 639-1, as in the policy)")
    t.add_argument("--output", required=True, metavar="DIR", help="folder that receives LANG_NAME-VERSION/")
    t.add_argument("--name", default="ner")
    t.add_argument("--version", default="1.0.0")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--epochs", type=int, default=12)
    t.add_argument("--eval-fraction", type=float, default=0.2, help="share of documents held out (default 0.2)")
    t.add_argument("--max-docs", type=int, help="train on at most this many documents")
    t.add_argument("--width", type=int, default=96, help="tok2vec width (smaller is faster)")
    t.add_argument("--depth", type=int, default=4, help="tok2vec convolution layers")
    t.add_argument("--hidden-width", type=int, default=64, help="NER hidden layer width")
    t.add_argument("--no-upper", action="store_true", help="no hidden layer per transition step (faster)")
    t.add_argument("--overwrite", action="store_true", help="replace an existing folder of the same version")


def run_train_ner_command(args) -> int:
    opts = TrainOptions(inputs=args.input, labels=args.labels, lang=args.lang, output=args.output, name=args.name,
                        version=args.version, seed=args.seed, epochs=args.epochs, eval_fraction=args.eval_fraction,
                        max_docs=args.max_docs, width=args.width, depth=args.depth, hidden_width=args.hidden_width,
                        use_upper=not args.no_upper, overwrite=args.overwrite)  # fmt: skip
    try:
        folder, result = train_ner(opts, say=lambda m: print(m, file=sys.stderr, flush=True))
    except TrainNerError as exc:
        print(f"terroir train-ner: {exc}", file=sys.stderr)
        return 2
    ev = result["evaluation"]
    print(f"pipeline:  {folder}")
    print(f"held out:  {ev['documents']} documents; trained on {len(result['train_documents'])}")
    print(f"{'label':<14}{'gold':>7}{'pred':>7}{'P':>8}{'R':>8}{'F1':>8}{'leak':>8}")
    for label, s in list(ev["per_label"].items()) + [("all", ev["all"])]:
        print(f"{label:<14}{s['gold']:>7}{s['predicted']:>7}{s['precision']:>8.3f}{s['recall']:>8.3f}"
              f"{s['f1']:>8.3f}{s['leak_rate']:>8.3f}")  # fmt: skip
    return 0
