"""Edition duplicates and full-length books measured on real public texts kept in a cache folder outside the
repository (third-party texts are never committed; `DIR/manifest.json` names each file's repository, path, commit,
licence and size, and docs/dedup.md says how the folder was filled).

    python -m benchmarks.edition_pairs --real DIR        # pairs found with and without normalisation
    python -m benchmarks.bench_sources ../shared/data --books DIR --only books

Layout of DIR: `grimm/khm-NNN.{1812,1857,2020}.md` (Grimm tales in the 1812 and 1857 editions from Wikisource and a
modernised 2020 edition, as acoli-repo/acoli-corpora holds them), `books/alice-gutenberg-11.txt`,
`books/parts/alice-eltec-00.xml` (the first 16,000 characters of ELTeC's TEI of the same book),
`books/janitschek-amazonenschlacht-DEU060.xml` (ELTeC-deu TEI) and `books/fewkes-passamaquoddy-pg17997.txt` (a
Project Gutenberg file with its header and licence, judged as extraction leaves it: without them), `books/bronte-wuthering-heights-pg768.txt` (a full novel over Gopher's 100,000 words). A missing file is left out; a missing folder is reported by
the callers, not an error.
"""

from __future__ import annotations

import html
import itertools
import re
from pathlib import Path

_META = re.compile(r"^# [\w-]+:")  # acoli-corpora's `# key: value` lines above a tale
_ALICE_END = "which way she put it."


def tale_text(path: Path) -> str:
    """A tale as a corpus would take it in: the file without the corpus's metadata lines at the top."""
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines) and _META.match(lines[i]):
        i += 1
    return "\n".join(lines[i:]).strip()


def _alice_pair(books: Path) -> tuple[str, str] | None:
    """Chapter I of Alice up to one sentence, from ELTeC's TEI (tags dropped) and from the Gutenberg text."""
    eltec, gut = books / "parts" / "alice-eltec-00.xml", books / "alice-gutenberg-11.txt"
    if not (eltec.exists() and gut.exists()):
        return None
    x = eltec.read_text(encoding="utf-8")
    x = html.unescape(re.sub(r"<[^>]+>", " ", x[x.index("<body>") :]))
    g = gut.read_text(encoding="utf-8")
    g = g[g.index("CHAPTER I.\nDown") :]  # the chapter, not its line in the table of contents
    return x[: x.index(_ALICE_END) + len(_ALICE_END)], g[: g.index(_ALICE_END) + len(_ALICE_END)]


def documents(root: Path) -> list[tuple[str, str, str]]:
    """(work, edition, text) of every document in `root`: each Grimm tale in every edition present, and the two
    Alice chapters (work `alice`, editions `eltec` and `gutenberg`)."""
    docs = []
    for p in sorted((root / "grimm").glob("khm-*.md")):
        work, edition = p.name.split(".")[:2]
        docs.append((work, edition, tale_text(p)))
    alice = _alice_pair(root / "books")
    if alice:
        docs += [("alice", "eltec", alice[0]), ("alice", "gutenberg", alice[1])]
    return docs


def pair_kind(a: tuple[str, str, str], b: tuple[str, str, str]) -> str:
    """`edition` (two transcriptions of one text: Grimm 1857 / 2020, Alice ELTeC / Gutenberg), `revision` (the
    Grimms' own rewriting, 1812 against a later edition: related, not the same text) or `other` (two works)."""
    if a[0] != b[0]:
        return "other"
    return "revision" if "1812" in (a[1], b[1]) else "edition"


def measure_real(root: Path, threshold: float = 0.8, levels=(False, True, "spelling")) -> dict:
    """For each normalisation level: the exact Jaccard of every edition and revision pair, the edition pairs found
    by MinHash-LSH (200 permutations, 20 bands × 10 rows, 5-character shingles, 64 bits, seed 42) and verified at
    `threshold`, and the verified pairs between different works (false pairs), with the highest Jaccard of any
    two different works."""
    from filters.dedup import MinHasher, band_keys, candidate_pairs, true_jaccard

    docs = documents(root)
    ids = [f"d{i:04d}" for i in range(len(docs))]
    kinds = {(ids[i], ids[j]): pair_kind(docs[i], docs[j]) for i, j in itertools.combinations(range(len(docs)), 2)}
    out: dict = {"documents": len(docs), "threshold": threshold,
                 "edition_pairs": sum(k == "edition" for k in kinds.values()),
                 "revision_pairs": sum(k == "revision" for k in kinds.values()),
                 "other_pairs": sum(k == "other" for k in kinds.values()), "levels": {}}  # fmt: skip
    for level in levels:
        mh = MinHasher(200, mode="char", width=5, bits=64, seed=42, backend="cpu", normalize=level)
        texts = [d[2] for d in docs]
        cand = set(candidate_pairs(ids, band_keys(mh.signatures(texts), bands=20, rows=10)))
        jac = {}
        for (x, y), kind in kinds.items():
            if kind != "other" or (x, y) in cand:
                jac[(x, y)] = true_jaccard(texts[int(x[1:])], texts[int(y[1:])], normalize=level)
        other_max = max(true_jaccard(texts[int(x[1:])], texts[int(y[1:])], normalize=level)
                        for (x, y), k in kinds.items() if k == "other")  # fmt: skip
        verified = {p for p in cand if jac.get(p, 0.0) >= threshold}
        per_pair = []
        for (x, y), kind in kinds.items():
            if kind == "other":
                continue
            a, b = docs[int(x[1:])], docs[int(y[1:])]
            per_pair.append({"work": a[0], "editions": f"{a[1]}/{b[1]}", "kind": kind,
                             "jaccard": round(jac[(x, y)], 3), "found": (x, y) in verified})  # fmt: skip
        name = {False: "none", True: "basic"}.get(level, level)
        ed = [p["jaccard"] for p in per_pair if p["kind"] == "edition"]
        out["levels"][name] = {
            "pairs": per_pair,
            "edition_found": sum(p["found"] for p in per_pair if p["kind"] == "edition"),
            "revision_found": sum(p["found"] for p in per_pair if p["kind"] == "revision"),
            "false_pairs": sum(1 for p in verified if kinds[p] == "other"),
            "edition_jaccard_min": min(ed) if ed else None,
            "edition_jaccard_median": sorted(ed)[len(ed) // 2] if ed else None,
            "other_jaccard_max": round(other_max, 3),
        }  # fmt: skip
    return out


def print_real(result: dict) -> None:
    print(
        f"{result['documents']} documents: {result['edition_pairs']} edition pairs, {result['revision_pairs']} "
        f"revision pairs, {result['other_pairs']} pairs of different works; verified at {result['threshold']}"
    )
    for name, r in result["levels"].items():
        print(f"normalize {name:>8}: {r['edition_found']} of {result['edition_pairs']} edition pairs found, "
              f"{r['revision_found']} revision pairs, {r['false_pairs']} false pairs; edition Jaccard min "
              f"{r['edition_jaccard_min']} median {r['edition_jaccard_median']}; highest between works "
              f"{r['other_jaccard_max']}")  # fmt: skip
        print("    " + ", ".join(f"{p['work']} {p['editions']} {p['jaccard']}{'' if p['found'] else ' (missed)'}"
                                 for p in r["pairs"]))  # fmt: skip


def books(root: Path) -> list[dict]:
    """The full-length books in `root/books`: name, language, how it is read, and its text."""
    from filters.extract import tei_text

    b = root / "books"
    out = []
    for name, file, lang in (("Alice's Adventures in Wonderland (Gutenberg 11)", "alice-gutenberg-11.txt", "en"),
                             ("Die Amazonenschlacht (ELTeC-deu DEU060, TEI)", "janitschek-amazonenschlacht-DEU060.xml",
                              "de"),
                             ("Contribution to Passamaquoddy Folk-Lore (Gutenberg 17997, with its licence)",
                              "fewkes-passamaquoddy-pg17997.txt", "en"),
                             ("Wuthering Heights (Gutenberg 768, over 100,000 words)", "bronte-wuthering-heights-pg768.txt",
                              "en")):  # fmt: skip
        p = b / file
        if not p.exists():
            continue
        text = tei_text(p.read_bytes())[0] if file.endswith(".xml") else p.read_text(encoding="utf-8")
        out.append({"book": name, "lang": lang, "text": text})
    return out


def measure_books(root: Path) -> list[dict]:
    """Quality decisions on each book under every `quality.long_documents` mode (all three filters, alpha ratio
    over words), the rule behind each part's decision under `split`, datatrove's own alpha ratio on the whole
    book, and for a Gutenberg file the words of its header and licence and the Jaccard of the whole file against its
    body (a copy from a mirror that dropped them) — what fuzzy dedup saw before extraction cut them off
    (`extraction.strip_gutenberg`). Books are judged as extraction leaves them: a Gutenberg file by its body."""
    from filters.dedup import true_jaccard
    from filters.extract import strip_gutenberg
    from filters.quality import QualityFilter, split_words

    names = ("gopher_quality", "gopher_repetition", "fineweb")
    out = []
    for bk in books(root):
        text, lang = bk["text"], bk["lang"]
        row: dict = {"book": bk["book"], "lang": lang}
        cut = strip_gutenberg(text.strip())
        if cut is not None:
            body = cut[0]
            row["gutenberg_boilerplate_words"] = len(text.split()) - len(body.split())
            row["jaccard_file_vs_body"] = {str(lv): round(true_jaccard(text, body, normalize=lv), 3)
                                           for lv in (False, True)}  # fmt: skip
            text = body
        n = row["words"] = len(text.split())
        for mode in ("judge", "split", "exempt"):
            ok, why = QualityFilter(names, long_documents=mode).check(text, lang)
            row[mode] = {"kept": ok, "reason": why, "words_kept": n if ok else 0}
        judge = QualityFilter(names, long_documents="judge")
        row["split_parts"] = [{"words": len(p.split()), "reason": judge.check(p, lang)[1]}
                              for p in split_words(text, 10_000)]  # fmt: skip
        row["judge_alpha_over_tokens"] = QualityFilter(names, long_documents="judge",
                                                       alpha_over="tokens").check(text, lang)[1]  # fmt: skip
        out.append(row)
    return out


def print_books(rows: list[dict]) -> None:
    for r in rows:
        print(f"{r['book']} [{r['lang']}], {r['words']} words")
        for mode in ("judge", "split", "exempt"):
            d = r[mode]
            print(f"    {mode:>6}: {'kept' if d['kept'] else 'dropped'} ({d['reason']}), {d['words_kept']} words kept")
        print("    split parts: " + "; ".join(f"{p['words']} words {p['reason']}" for p in r["split_parts"]))
        print(f"    judged whole with the alpha ratio over tokens (datatrove): {r['judge_alpha_over_tokens']}")
        if "gutenberg_boilerplate_words" in r:
            print(
                f"    Gutenberg header and licence cut off at extraction: {r['gutenberg_boilerplate_words']} words; "
                f"Jaccard of the whole file against its body (raw, normalised): {r['jaccard_file_vs_body']}"
            )
