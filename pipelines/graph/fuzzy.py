"""Fuzzy dedup in the Beam graph, over documents that stay on disk.

The per-document stages leave each input file's documents in its checkpoint (`pipelines/graph/checkpoint.py`); a document
is named by its global id `gid = file_no << 32 | position` and ordered by `(doc_id, gid)`. Only arrays of ids,
band hashes and pairs travel between steps, a few hundred bytes per document, so the local runner's memory does not
grow with the texts and every step's work is vectorized per element:

1. **sign** (per input file): the file's surviving documents → MinHash signatures → band entries (band, hash, gid,
   doc_id), one element per (file, hash partition); signatures are spilled for estimated verification.
2. **buckets** (per hash partition): band buckets → candidate pairs (every pair, or a star to the lowest doc_id
   above `BIG_BUCKET` members: `filters.dedup.lsh.bucket_pairs`, shared with `terroir dedup`), keyed by the input
   file of the lower document.
3. **verify** (per file of the lower document, then per file of the higher one): each side's text or signature is
   read from its file once, and each pair keeps its exact or estimated Jaccard if it reaches the threshold.
4. **components** (all verified edges in one place, 40 bytes each): union-find; every member but the lowest doc_id
   of a component is removed. Decisions go back keyed by input file.

Uses only ParDo, GroupByKey and Flatten, so it runs on every runner (the work folder must be shared storage on a
cluster, as the staging folder is).
"""

from __future__ import annotations

import os

import apache_beam as beam
import numpy as np

from filters.dedup.lsh import bucket_pairs, components_by_rank, set_jaccard

_POS = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)
SIGN_SLICE = 4096  # documents hashed together: big enough to vectorize, small enough to bound memory


def gids(file_no: int, positions) -> np.ndarray:
    return (np.uint64(file_no) << _SHIFT) | np.asarray(positions, dtype=np.uint64)


def id_array(doc_ids) -> np.ndarray:
    """doc_ids as a fixed-width bytes array: its byte order is the str order of the (ASCII) ids."""
    return np.array([d.encode("utf-8") for d in doc_ids], dtype=np.bytes_) if len(doc_ids) else np.array([], "S1")


def node_ranks(ids: np.ndarray, gid: np.ndarray):
    """Rank every entry by (doc_id, gid), equal entries equally → (rank per entry, node gids, node ids)."""
    order = np.lexsort((gid, ids))
    g_s, i_s = gid[order], ids[order]
    new = np.ones(len(order), dtype=bool)
    new[1:] = (g_s[1:] != g_s[:-1]) | (i_s[1:] != i_s[:-1])
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.cumsum(new) - 1
    return rank, g_s[new], i_s[new]


def sig_paths(spill_dir: str, file_no: int) -> tuple[str, str]:
    base = os.path.join(spill_dir, "sig", f"{file_no:06d}")
    return base + ".npy", base + ".pos.npy"


def _rows(out) -> int:
    """Rows in (key, (array, ...)) outputs."""
    return sum(len(o[1][0]) for o in out)


def tagged_rows(out) -> int:
    """Rows in (key, (tag, (list, ...))) outputs."""
    return sum(len(o[1][1][0]) for o in out)


def survivors(parts) -> np.ndarray | None:
    """The positions of a file that fuzzy dedup looks at: every document (None), or the exact-dedup survivors."""
    keep = []
    for kind, payload in parts:
        if kind == "all":
            return None
        pos, keeper, _size = payload
        keep.extend(p for p, k in zip(pos, keeper) if k is None)
    return np.array(sorted(keep), dtype=np.int64)


class SignFile(beam.DoFn):
    """(file_no, requests) → (hash partition, (band, hash, gid, doc_id arrays)) for the file's documents."""

    def __init__(self, fuzzy, partitions: int, checkpoints: tuple[str, ...], spill_dir: str,
                 work_dir: str | None = None) -> None:  # fmt: skip
        self.fuzzy = fuzzy
        self.partitions = max(1, partitions)
        self.checkpoints = checkpoints
        self.spill_dir = spill_dir
        self.work_dir = work_dir

    def setup(self):
        from filters.dedup import MinHasher

        self._hasher = MinHasher.from_settings(self.fuzzy)

    def process(self, kv):
        from pipelines.graph.checkpoint import run_timed

        bands = max(1, self.fuzzy.bands)
        yield from run_timed(self.work_dir, "fuzzy: signatures", self._sign(*kv), lambda o: _rows(o) // bands)

    def _sign(self, file_no, parts):
        from filters.dedup.lsh import band_hashes
        from pipelines.graph.checkpoint import load_columns

        keep = survivors(parts)
        cols = load_columns(self.checkpoints[file_no], ["doc_id", "text"])
        texts = cols["text"]
        pos = np.arange(len(texts)) if keep is None else keep
        if not len(pos):
            return
        fz = self.fuzzy
        sigs = np.concatenate([self._hasher.signatures([texts[k] for k in pos[s : s + SIGN_SLICE]])
                               for s in range(0, len(pos), SIGN_SLICE)])  # fmt: skip
        if fz.verify == "estimated":
            sig_file, pos_file = sig_paths(self.spill_dir, file_no)
            os.makedirs(os.path.dirname(sig_file), exist_ok=True)
            np.save(pos_file, pos)
            np.save(sig_file, sigs)
        hv = band_hashes(sigs, fz.bands, fz.rows).ravel()  # document-major: entry i * bands + b
        doc = np.repeat(np.arange(len(pos)), fz.bands)
        band = np.tile(np.arange(fz.bands, dtype=np.uint16), len(pos))
        gid = gids(file_no, pos)[doc]
        ids = id_array([cols["doc_id"][k] for k in pos])[doc]
        part = hv % np.uint64(self.partitions)
        order = np.argsort(part, kind="stable")
        cuts = np.flatnonzero(np.diff(part[order])) + 1
        for sel in np.split(order, cuts):
            yield int(part[sel[0]]), (band[sel], hv[sel], gid[sel], ids[sel])


def bucket_partition(kv, work_dir: str | None = None):
    """One hash partition of band entries → candidate pairs (lower, higher by doc_id), keyed by the lower one's file."""
    from pipelines.graph.checkpoint import run_timed

    yield from run_timed(work_dir, "fuzzy: buckets", _bucket_partition(kv), _rows)


def _bucket_partition(kv):
    _, chunks = kv
    chunks = list(chunks)
    band = np.concatenate([c[0] for c in chunks])
    hv = np.concatenate([c[1] for c in chunks])
    gid = np.concatenate([c[2] for c in chunks])
    ids = np.concatenate([c[3] for c in chunks])
    rank, node_gid, node_id = node_ranks(ids, gid)
    pairs = bucket_pairs(band, hv, rank)
    if not len(pairs):
        return
    a, b = (pairs >> _SHIFT).astype(np.int64), (pairs & _POS).astype(np.int64)
    yield from _by_file(node_gid[a], (node_gid[a], node_gid[b], node_id[a], node_id[b]))


def _by_file(gid: np.ndarray, arrays: tuple):
    """Split parallel arrays by the input file of `gid`: one element per file."""
    f = gid >> _SHIFT
    order = np.argsort(f, kind="stable")
    cuts = np.flatnonzero(np.diff(f[order])) + 1
    for sel in np.split(order, cuts):
        yield int(f[sel[0]]), tuple(x[sel] for x in arrays)


class _Payloads:
    """What verification compares, read from one input file: texts (exact Jaccard) or signatures (estimated)."""

    def __init__(self, fuzzy, checkpoints, spill_dir) -> None:
        self.fuzzy, self.checkpoints, self.spill_dir = fuzzy, checkpoints, spill_dir

    def of(self, file_no: int, positions: np.ndarray):
        if self.fuzzy.verify == "estimated":
            sig_file, pos_file = sig_paths(self.spill_dir, file_no)
            known = np.load(pos_file)
            return np.load(sig_file, mmap_mode="r")[np.searchsorted(known, positions)]
        from pipelines.graph.checkpoint import load_columns

        texts = load_columns(self.checkpoints[file_no], ["text"])["text"]
        return [texts[int(p)] for p in positions]


class VerifyLeft(beam.DoFn):
    """(file of the lower documents, pair chunks) → unique pairs with the lower side's texts or signatures, keyed by
    the file of the higher documents. With `verify: none` the unique pairs are the edges."""

    def __init__(self, fuzzy, checkpoints, spill_dir, work_dir: str | None = None) -> None:
        self.fuzzy = fuzzy
        self.payloads = _Payloads(fuzzy, checkpoints, spill_dir)
        self.work_dir = work_dir

    def process(self, kv):
        from pipelines.graph.checkpoint import run_timed

        yield from run_timed(self.work_dir, "fuzzy: pairs, lower side", self._pairs(*kv), _rows)

    def _pairs(self, file_no, chunks):
        chunks = list(chunks)
        ga, gb, ia, ib = (np.concatenate([c[k] for c in chunks]) for k in range(4))
        _, first = np.unique(np.stack([ga, gb], axis=1), axis=0, return_index=True)
        ga, gb, ia, ib = ga[first], gb[first], ia[first], ib[first]
        if self.fuzzy.verify not in ("true", "estimated"):
            yield 0, (ga, gb, ia, ib, np.ones(len(ga)))
            return
        needed = np.unique(ga & _POS)
        payload = self.payloads.of(file_no, needed)  # this file is read once, whatever the number of higher files
        for fb, (sa, sb, xa, xb) in _by_file(gb, (ga, gb, ia, ib)):
            left = np.unique(sa & _POS)
            at = np.searchsorted(needed, left)
            part = payload[at] if isinstance(payload, np.ndarray) else [payload[k] for k in at.tolist()]
            yield fb, (sa, sb, xa, xb, left, part)


class _Shingles(dict):
    """Shingle sets of a list of texts, computed on first use: `shingles[k]` for `texts[k]`."""

    def __init__(self, texts: list[str], fuzzy) -> None:
        super().__init__()
        self.texts, self.fuzzy = texts, fuzzy

    def __missing__(self, k: int) -> set:
        from filters.dedup import shingle_strings

        fz = self.fuzzy
        s = self[k] = shingle_strings(self.texts[k], fz.mode, fz.width, fz.ngrams, fz.normalize)
        return s


class VerifyRight(beam.DoFn):
    """(file of the higher documents, pairs with the lower side's payload) → verified edges
    (gid_a, gid_b, doc_id_a, doc_id_b, similarity) at or above the threshold."""

    def __init__(self, fuzzy, checkpoints, spill_dir, work_dir: str | None = None) -> None:
        self.fuzzy = fuzzy
        self.payloads = _Payloads(fuzzy, checkpoints, spill_dir)
        self.work_dir = work_dir

    def process(self, kv):
        from pipelines.graph.checkpoint import run_timed

        yield from run_timed(self.work_dir, "fuzzy: verify", self._verify(*kv), _rows)

    def _verify(self, file_no, chunks):
        chunks = list(chunks)
        fz = self.fuzzy
        right = np.unique(np.concatenate([c[1] & _POS for c in chunks]))
        rp = self.payloads.of(file_no, right)
        right_shingles = _Shingles(rp, fz)  # a higher document meets several lower ones: its shingles are kept
        for ga, gb, ia, ib, left, lp in chunks:
            ka = np.searchsorted(left, ga & _POS)
            kb = np.searchsorted(right, gb & _POS)
            if fz.verify == "estimated":
                sims = np.mean(np.asarray(lp)[ka] == np.asarray(rp)[kb], axis=1)
            else:
                left_shingles = _Shingles(lp, fz)
                sims = np.array([round(set_jaccard(left_shingles[x], right_shingles[y]), 4)
                                 for x, y in zip(ka.tolist(), kb.tolist())], dtype=np.float64)  # fmt: skip
            ok = sims >= fz.threshold
            if ok.any():
                yield 0, (ga[ok], gb[ok], ia[ok], ib[ok], sims[ok])


def components(kv, work_dir: str | None = None):
    """All verified edges → per input file: (positions, representative doc_id, component size, best similarity,
    is the representative). The representative is the component's lowest (doc_id, gid)."""
    from pipelines.graph.checkpoint import run_timed

    yield from run_timed(work_dir, "fuzzy: components", _components(kv), tagged_rows)


def _components(kv):
    _, chunks = kv
    chunks = list(chunks)
    ga, gb, ia, ib, sims = (np.concatenate([c[k] for c in chunks]) for k in range(5))
    if not len(ga):
        return
    rank, node_gid, node_id = node_ranks(np.concatenate([ia, ib]), np.concatenate([ga, gb]))
    ra, rb = rank[: len(ga)], rank[len(ga) :]
    n = len(node_gid)
    rep = components_by_rank(n, ra, rb)
    size = np.bincount(rep, minlength=n)[rep]
    best = np.zeros(n)
    np.maximum.at(best, ra, sims)
    np.maximum.at(best, rb, sims)
    rep_id = node_id[rep]
    is_rep = rep == np.arange(n)
    for file_no, (g, r, s, b, k) in _by_file(node_gid, (node_gid, rep_id, size, best, is_rep)):
        yield file_no, ("fuzzy", ((g & _POS).tolist(), [x.decode() for x in r], s.tolist(), b.tolist(), k.tolist()))


class FuzzyDedup(beam.PTransform):
    """(file_no, ("all", None) | ("exact", exact decisions)) → (file_no, ("fuzzy", decisions)) for every file with
    a document in a near-duplicate component; documents of other files have no near duplicate."""

    def __init__(self, fuzzy, partitions: int, checkpoints: tuple[str, ...], spill_dir: str,
                 work_dir: str | None = None) -> None:  # fmt: skip
        super().__init__()
        self.fuzzy = fuzzy
        self.partitions = max(1, partitions)
        self.checkpoints = checkpoints
        self.spill_dir = spill_dir
        self.work_dir = work_dir  # step timings go to its events file; None records none

    def expand(self, requests):
        fz, cps, spill, work = self.fuzzy, self.checkpoints, self.spill_dir, self.work_dir
        edges = (
            requests
            | "GroupSignRequests" >> beam.GroupByKey()
            | "SignFiles" >> beam.ParDo(SignFile(fz, self.partitions, cps, spill, work))
            | "GroupBandPartitions" >> beam.GroupByKey()
            | "BucketPairs" >> beam.FlatMap(bucket_partition, work)
            | "GroupAtLowerFile" >> beam.GroupByKey()
            | "VerifyLowerSide" >> beam.ParDo(VerifyLeft(fz, cps, spill, work))
        )
        if fz.verify in ("true", "estimated"):
            edges = (
                edges
                | "GroupAtHigherFile" >> beam.GroupByKey()
                | "VerifyHigherSide" >> beam.ParDo(VerifyRight(fz, cps, spill, work))
            )
        return edges | "AllEdgesOneKey" >> beam.GroupByKey() | "Components" >> beam.FlatMap(components, work)
