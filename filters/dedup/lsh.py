"""Locality-sensitive hashing over MinHash signatures: band keys, candidate pairs, Jaccard, clusters.

Documents whose signatures agree on every row of at least one band share that band's key; with `bands` bands of
`rows` rows, a pair of Jaccard similarity s becomes a candidate with probability 1 - (1 - s**rows)**bands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from itertools import combinations

import numpy as np

from filters.dedup.minhash import _fmix64, shingle_strings

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


def true_jaccard(text_a: str, text_b: str, mode: str = "char", width: int = 5, ngrams: int = 5) -> float:
    """Exact Jaccard similarity of the two texts' shingle sets, with the windows the signatures are computed over.

    Two texts without any shingle (empty, or no token in word mode) are identical: 1.0.
    """
    sa = shingle_strings(text_a, mode, width, ngrams)
    sb = shingle_strings(text_b, mode, width, ngrams)
    if not sa and not sb:
        return 1.0
    inter = len(sa & sb)
    return inter / (len(sa) + len(sb) - inter)


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
