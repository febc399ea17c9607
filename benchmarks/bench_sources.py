"""Documents read vs records present, words kept, pairs found: the figures of docs/sources.md.

    python -m benchmarks.bench_sources ../shared/data [--json out.json] [--books DIR]

`--books DIR` adds the quality decisions on real full-length books kept in a cache folder (`benchmarks/
real_editions.py`); without it, or when the folder has no books, that part is skipped with a message.

Run it from another checkout (PYTHONPATH=OTHER:. so that `pipelines` and `filters` come from OTHER, the samples
from here) to get the same table for that code: the "before" columns in docs/sources.md come from the commit before
issue 22. Archives: content records present are counted on the decompressed bytes with a regex (WARC-Type
response/resource/conversion headers, ARC URL lines), independently of any reader.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import zlib
from pathlib import Path

_CONTENT = re.compile(rb"(?im)^WARC-Type:[ \t]*(?:response|resource|conversion)\r?$")
_ARC_LINE = re.compile(rb"(?m)^https?://\S+ \d{1,3}(?:\.\d{1,3}){3} \d{12,14} \S+ \d+\r?$")


def _decompressed(data: bytes) -> bytes:
    if data[:2] != b"\x1f\x8b":
        return data
    out, pos = [], 0
    while pos < len(data):
        d = zlib.decompressobj(31)
        try:
            out.append(d.decompress(data[pos:]))
        except zlib.error:
            break
        if not d.eof:
            break
        pos = len(data) - len(d.unused_data)
    return b"".join(out)


def records_present(path: Path) -> int:
    raw = _decompressed(path.read_bytes())
    return len(_CONTENT.findall(raw)) + len(_ARC_LINE.findall(raw))


def _read(path: Path):
    from pipelines.sources.reader import InputFile, read_file, sniff_format

    spec = InputFile(source_id="b", path=str(path), rel=path.name, format=sniff_format(str(path)))
    items = list(read_file(spec))
    return [d for k, d in items if k == "doc"], [r for k, r in items if k == "ledger"]


def archives(shared: Path, tmp: Path) -> list[dict]:
    from benchmarks.archive_samples import cc2008_arc, crawler_log_warc, wayback_merged_warc

    samples = {"sample: 2008 CC ARC, filedesc length +1": ("cc2008.arc.gz", cc2008_arc(145)),
               "sample: Wayback WARC, HTTP headers merged": ("wayback.warc.gz", wayback_merged_warc(128)),
               "sample: wget WARC, logs + one short length": ("wget.warc", crawler_log_warc(20))}  # fmt: skip
    paths = []
    for label, (name, data) in samples.items():
        (tmp / name).write_bytes(data)
        paths.append((label, tmp / name))
    paths += [(p.name, p) for p in sorted((shared / "warc").iterdir())]
    out = []
    for label, p in paths:
        docs, rows = _read(p)
        out.append({"archive": label, "content_records": records_present(p), "documents": len(docs),
                    "error_rows": sum(r["decision"] == "error" for r in rows),
                    "log_or_metadata_documents": sum(1 for d in docs if (d.url or "").startswith("urn:"))})  # fmt: skip
    return out


def library(shared: Path, tmp: Path) -> list[dict]:
    from benchmarks.library_samples import didl_issue, kitodo_issue, nlf_issue

    out = []
    for every in (3, 5):
        mets = nlf_issue(tmp / f"nlf{every}", shared / "alto" / "NLF_379973_Aamulehti_1882_METS.xml", every)
        docs, _ = _read(mets)
        out.append({"package": f"NLF Aamulehti 1882 METS, every {every}th area a ComposedBlock",
                    "documents": len(docs), "words": sum(len(d.text.split()) for d in docs)})  # fmt: skip
        no_cb = nlf_issue(tmp / f"nlf{every}-flat", shared / "alto" / "NLF_379973_Aamulehti_1882_METS.xml", 0)
        out[-1]["words_if_no_composed_blocks"] = sum(len(d.text.split()) for d in _read(no_cb)[0])
    for label, path in (("Kitodo METS, 3 articles by structLink", kitodo_issue(tmp / "kitodo")),
                        ("Delpher DIDL, 3 ALTO pages", didl_issue(tmp / "didl"))):  # fmt: skip
        try:
            docs, rows = _read(path)
        except Exception as exc:  # noqa: BLE001 - an older reader may not know the format
            docs, rows = [], [{"reason": type(exc).__name__}]
        out.append({"package": label, "documents": len(docs), "words": sum(len(d.text.split()) for d in docs),
                    "file_row": next((r["reason"] for r in rows if r.get("stage") == "input"), "")})  # fmt: skip
    return out


def quality(shared: Path) -> dict:
    from filters.extract import tei_text
    from filters.quality import QualityFilter
    from pipelines.sources.reader import InputFile, read_file

    names = ("gopher_quality", "gopher_repetition", "fineweb")
    plays = {p.name: tei_text(p.read_bytes())[0] for p in sorted((shared / "tei").glob("*.xml"))}
    passages = []
    for text in plays.values():
        chunk: list[str] = []
        for line in text.split("\n"):
            chunk.append(line)
            if sum(len(c) for c in chunk) > 3000:
                passages.append("\n".join(chunk))
                chunk = []
    wet = InputFile("b", str(shared / "warc" / "whirlwind.warc.wet.gz"), "w.wet.gz", "warc")
    wiki = next(d for k, d in read_file(wet) if k == "doc").text
    out: dict = {"passages": len(passages)}
    for alpha in ("tokens", "words"):
        q = QualityFilter(names, alpha_over=alpha, long_documents="judge")
        verdicts = [q.check(p, "de") for p in passages]
        out[f"alpha_over_{alpha}"] = {
            "passages_kept": sum(ok for ok, _ in verdicts),
            "passages_dropped_on_alpha": sum("alpha" in why for _, why in verdicts),
            "wikipedia_article": q.check(wiki, "an")[1],
        }  # fmt: skip
        out[f"alpha_over_{alpha}"]["words_kept"] = sum(len(p.split()) for p, (ok, _) in zip(passages, verdicts) if ok)
    for mode in ("judge", "split", "exempt"):
        q = QualityFilter(names, long_documents=mode)
        out[f"whole_plays_{mode}"] = {name: q.check(text, "de")[1] for name, text in plays.items()}
    return out


def web_alpha_changes(shared: Path) -> dict:
    """How many web pages of the real archives change decision between the two alpha-ratio counts."""
    from filters.extract import get_extractor
    from filters.langid import LanguageIdentifier
    from filters.quality import QualityFilter

    ex, lid = get_extractor("resiliparse"), LanguageIdentifier(None)
    names = ("gopher_quality", "gopher_repetition", "fineweb")
    tok, wrd = QualityFilter(names, alpha_over="tokens"), QualityFilter(names)
    pages = changed = 0
    for p in sorted((shared / "warc").iterdir()):
        for d in _read(p)[0]:
            text = d.text or (ex.extract(d.html) if d.html else "")
            if len(text) < 50:
                continue
            lang, _ = lid.predict(text)
            pages += 1
            changed += tok.check(text, lang)[0] != wrd.check(text, lang)[0]
    return {"web_pages": pages, "decisions_changed": changed}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("shared", type=Path)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--only", choices=("archives", "library", "quality", "dedup", "books"), action="append")
    ap.add_argument("--books", type=Path, help="a cache folder with real books (benchmarks/real_editions.py)")
    args = ap.parse_args(argv)
    parts = args.only or ["archives", "library", "quality", "dedup"] + (["books"] if args.books else [])
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        if "archives" in parts:
            result["archives"] = archives(args.shared, Path(tmp))
        if "library" in parts:
            result["library"] = library(args.shared, Path(tmp))
    if "quality" in parts:
        result["quality"] = quality(args.shared)
        result["web_alpha"] = web_alpha_changes(args.shared)
    if "dedup" in parts:
        from benchmarks.edition_pairs import edition_pairs, measure

        result["edition_pairs"] = {n: measure(edition_pairs(args.shared / "tei", n)) for n in (13, 40)}
    if "books" in parts:
        from benchmarks.real_editions import measure_books, print_books

        rows = measure_books(args.books) if args.books and (args.books / "books").is_dir() else []
        if rows:
            print_books(rows)
            result["books"] = rows
        else:
            print(f"no books at {args.books} (see benchmarks/real_editions.py): skipped", file=sys.stderr)
    text = json.dumps(result, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
