"""Fuzzy dedup kernels: MinHash signatures (CPU numpy, or cuDF on a GPU, bit for bit the same) and LSH helpers."""

from filters.dedup.lsh import (
    BIG_BUCKET,
    band_hashes,
    band_keys,
    candidate_pairs,
    connected_components,
    estimated_jaccard,
    true_jaccard,
)
from filters.dedup.minhash import (
    MinHasher,
    gpu_available,
    minhash_chars,
    minhash_ngrams,
    minhash_words,
    permutation_parameters,
    shingle_strings,
    shingles,
    tokenize,
)
from filters.dedup.murmur import murmurhash3_32, murmurhash3_64
from filters.dedup.normalize import normalize_for_shingles

__all__ = [
    "BIG_BUCKET",
    "MinHasher",
    "band_hashes",
    "band_keys",
    "candidate_pairs",
    "connected_components",
    "estimated_jaccard",
    "gpu_available",
    "minhash_chars",
    "minhash_ngrams",
    "minhash_words",
    "murmurhash3_32",
    "murmurhash3_64",
    "normalize_for_shingles",
    "permutation_parameters",
    "shingle_strings",
    "shingles",
    "tokenize",
    "true_jaccard",
]
