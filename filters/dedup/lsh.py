"""Locality-sensitive hashing over MinHash signatures: band keys, candidate pairs, Jaccard, clusters.

Documents whose signatures agree on every row of at least one band share that band's key; with `bands` bands of
`rows` rows, a pair of Jaccard similarity s becomes a candidate with probability 1 - (1 - s**rows)**bands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from itertools import combinations

import numpy as np

from filters.dedup.minhash import shingle_strings
from filters.dedup.murmur import _fmix64

_KEY_DTYPE = np.dtype([("band", ">u2"), ("hash", ">u8")])  # 10 bytes: band index, then the band's 64-bit hash
_MIX = np.uint64(0x9E3779B97F4A7C15)

# a band bucket above this many members links every member to its lowest doc_id only (a star), instead of every pair;
# shared by the Beam stage and the out-of-core engine so both find the same candidates
BIG_BUCKET = 200


def band_hashes(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """64-bit hash of every band of every signature: array (n, bands) of uint64, equal iff the band's values are
    equal (up to 64-bit collisions). Uses the first `bands * rows` permutations."""
    sig = np.asarray(signatures)
    if sig.ndim != 2:
        raise ValueError(f"signatures must be a 2-D array (documents x permutations), got shape {sig.shape}")
    if bands < 1 or rows < 1 or bands * rows > sig.shape[1]:
        raise ValueError(f"bands x rows = {bands} x {rows} needs {bands * rows} permutations, have {sig.shape[1]}")
    if bands > 0xFFFF:
        raise ValueError(f"at most 65535 bands, got {bands}")
    v = sig[:, : bands * rows].astype(np.uint64).reshape(len(sig), bands, rows)
    h = np.full((len(sig), bands), rows, dtype=np.uint64)
    for r in range(rows):
        # each step is a bijection of the value for a fixed state, so different bands collide only by chance
        h ^= v[:, :, r]
        h *= _MIX
        h = _fmix64(h)
    return h


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> list[list[bytes]]:
    """For every document, its `bands` LSH keys: 10 bytes each, the band index (big-endian uint16) then the band's
    64-bit hash (big-endian). Two documents share a key iff their signatures agree on that whole band."""
    h = band_hashes(signatures, bands, rows)
    keys = np.empty(h.shape, dtype=_KEY_DTYPE)
    keys["band"] = np.arange(bands, dtype=np.uint16)[None, :]
    keys["hash"] = h
    return keys.view(f"V{_KEY_DTYPE.itemsize}").tolist()


def candidate_pairs(doc_ids: Sequence[Hashable], keys: Iterable[Iterable[bytes]]) -> list[tuple]:
    """Sorted unique pairs (id_a, id_b), id_a < id_b, of documents sharing at least one band key.

    Every pair within a bucket is emitted, so a bucket of k documents costs k*(k-1)/2 pairs.
    """
    buckets: dict[bytes, list] = defaultdict(list)
    for doc_id, ks in zip(doc_ids, keys):
        for k in ks:
            buckets[k].append(doc_id)
    pairs: set[tuple] = set()
    for members in buckets.values():
        if len(members) > 1:
            pairs.update(combinations(sorted(set(members)), 2))
    return sorted(pairs)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float | np.ndarray:
    """Share of permutations on which two signatures agree: the MinHash estimate of their Jaccard similarity.

    1-D inputs give a float; 2-D inputs (one signature per row) give one estimate per row.
    """
    a, b = np.asarray(sig_a), np.asarray(sig_b)
    if a.shape != b.shape:
        raise ValueError(f"signatures differ in shape: {a.shape} and {b.shape}")
    est = np.mean(a == b, axis=-1)
    return float(est) if np.ndim(est) == 0 else est


def true_jaccard(
    text_a: str, text_b: str, mode: str = "char", width: int = 5, ngrams: int = 5, normalize: bool | str = False
) -> float:
    """Exact Jaccard similarity of the two texts' shingle sets, with the windows the signatures are computed over
    (of the normalised texts with `normalize`).

    Two texts without any shingle (empty, or no token in word mode) are identical: 1.0.
    """
    return set_jaccard(shingle_strings(text_a, mode, width, ngrams, normalize),
                       shingle_strings(text_b, mode, width, ngrams, normalize))  # fmt: skip


def set_jaccard(sa: set, sb: set) -> float:
    """Jaccard similarity of two shingle sets; two empty sets are identical (1.0)."""
    if not sa and not sb:
        return 1.0
    inter = len(sa & sb)
    return inter / (len(sa) + len(sb) - inter)


def bucket_pairs(band: np.ndarray, hv: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Band entries (band index, band hash, document rank; lower rank = lower doc_id) → the candidate pairs of their
    buckets as sorted unique uint64 `rank_a << 32 | rank_b`, rank_a < rank_b: every pair of a bucket, or a star to
    its lowest rank above `BIG_BUCKET` members. The Beam stage and the out-of-core engine share it."""
    r = np.asarray(rank, dtype=np.uint64)
    if not len(r):
        return np.empty(0, dtype=np.uint64)
    order = np.lexsort((r, hv, band))
    band, h, r = band[order], hv[order], r[order]
    n = len(r)
    new = np.ones(n, dtype=bool)
    new[1:] = (band[1:] != band[:-1]) | (h[1:] != h[:-1])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, n))
    two = starts[sizes == 2]
    pieces = [(r[two] << np.uint64(32)) | r[two + 1]]  # buckets of two: most of them, vectorized
    for s, k in zip(starts[sizes > 2].tolist(), sizes[sizes > 2].tolist()):
        m = r[s : s + k]  # ascending ranks: m[0] is the bucket's lowest doc id
        if k > BIG_BUCKET:
            pieces.append((m[0] << np.uint64(32)) | m[1:])
        else:
            i, j = np.triu_indices(k, 1)
            pieces.append((m[i] << np.uint64(32)) | m[j])
    return np.unique(np.concatenate(pieces))


def components_by_rank(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Union-find over edges between ranks 0..n-1: for every rank, the lowest rank of its component (vectorized
    min-label propagation with pointer jumping; converges in O(log n) rounds on the edge list)."""
    rep = np.arange(n, dtype=np.int64)
    if not len(a):
        return rep
    while True:
        ra, rb = rep[a], rep[b]
        low = np.minimum(ra, rb)
        before = rep.copy()
        np.minimum.at(rep, ra, low)
        np.minimum.at(rep, rb, low)
        while True:  # pointer jumping: every label points at its root
            nxt = rep[rep]
            if np.array_equal(nxt, rep):
                break
            rep = nxt
        if np.array_equal(rep, before):
            return rep


def connected_components(edges: Iterable[tuple[Hashable, Hashable]]) -> dict:
    """Union-find over duplicate edges: {doc_id: representative} for every doc_id named in an edge.

    The representative is the lowest doc_id of the component, whatever the order of the edges or within them.
    """
    parent: dict = {}

    def find(x):
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression keeps later finds short
            parent[x], x = root, parent[x]
        return root

    for a, b in edges:
        parent.setdefault(a, a)
        parent.setdefault(b, b)
        ra, rb = find(a), find(b)
        if ra != rb:
            # the smaller root wins, so every root is the minimum of its component
            if rb < ra:
                ra, rb = rb, ra
            parent[rb] = ra
    return {x: find(x) for x in parent}
