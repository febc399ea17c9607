"""Fuzzy dedup kernels in filters/dedup: cuDF's published MinHash vectors, scalar cross-checks, LSH and clusters."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from filters.dedup import (
    MinHasher,
    band_keys,
    candidate_pairs,
    connected_components,
    estimated_jaccard,
    gpu_available,
    minhash_chars,
    minhash_ngrams,
    minhash_words,
    murmurhash3_32,
    murmurhash3_64,
    permutation_parameters,
    shingles,
    tokenize,
    true_jaccard,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parent.parent.parent / "shared" / "reference" / "cudf_minhash_vectors.json").read_text()
)
M32, M64, P61 = (1 << 32) - 1, (1 << 64) - 1, (1 << 61) - 1


# --- a plain scalar reference, written from the published MurmurHash3 algorithm, to check the vectorized one ------


def _rotl(x: int, r: int, bits: int) -> int:
    mask = (1 << bits) - 1
    return ((x << r) | (x >> (bits - r))) & mask


def _fmix32(h: int) -> int:
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    return h ^ (h >> 16)


def _fmix64(k: int) -> int:
    k ^= k >> 33
    k = (k * 0xFF51AFD7ED558CCD) & M64
    k ^= k >> 33
    k = (k * 0xC4CEB9FE1A85EC53) & M64
    return k ^ (k >> 33)


def scalar_murmur32(data: bytes, seed: int) -> int:
    c1, c2 = 0xCC9E2D51, 0x1B873593
    h = seed & M32
    nblocks = len(data) // 4
    for i in range(nblocks):
        k = int.from_bytes(data[4 * i : 4 * i + 4], "little")
        k = (_rotl((k * c1) & M32, 15, 32) * c2) & M32
        h = (_rotl(h ^ k, 13, 32) * 5 + 0xE6546B64) & M32
    tail = data[4 * nblocks :]
    if tail:
        k = int.from_bytes(tail, "little")
        h ^= (_rotl((k * c1) & M32, 15, 32) * c2) & M32
    return _fmix32(h ^ len(data))


def scalar_murmur64(data: bytes, seed: int) -> int:
    c1, c2 = 0x87C37B91114253D5, 0x4CF5AD432745937F
    h1 = h2 = seed & M64
    nblocks = len(data) // 16
    for i in range(nblocks):
        k1 = int.from_bytes(data[16 * i : 16 * i + 8], "little")
        k2 = int.from_bytes(data[16 * i + 8 : 16 * i + 16], "little")
        h1 ^= (_rotl((k1 * c1) & M64, 31, 64) * c2) & M64
        h1 = ((_rotl(h1, 27, 64) + h2) * 5 + 0x52DCE729) & M64
        h2 ^= (_rotl((k2 * c2) & M64, 33, 64) * c1) & M64
        h2 = ((_rotl(h2, 31, 64) + h1) * 5 + 0x38495AB5) & M64
    tail = data[16 * nblocks :]
    if len(tail) > 8:
        k2 = int.from_bytes(tail[8:], "little")
        h2 ^= (_rotl((k2 * c2) & M64, 33, 64) * c1) & M64
    if tail:
        k1 = int.from_bytes(tail[:8], "little")
        h1 ^= (_rotl((k1 * c1) & M64, 31, 64) * c2) & M64
    h1 ^= len(data)
    h2 ^= len(data)
    h1 = (h1 + h2) & M64
    h2 = (h2 + h1) & M64
    return (_fmix64(h1) + _fmix64(h2)) & M64


def scalar_signature(pieces: list[bytes], a, b, seed: int, bits: int) -> list[int]:
    if not pieces:
        return [0] * len(a)
    hashes = [max((scalar_murmur32 if bits == 32 else scalar_murmur64)(p, seed), 1) for p in pieces]
    if bits == 32:
        return [min((h * int(ai) + int(bi)) & M32 for h in hashes) for ai, bi in zip(a, b)]
    return [min(((h * int(ai) + int(bi)) & M64) % P61 for h in hashes) for ai, bi in zip(a, b)]


def scalar_char_windows(text: str, width: int) -> list[bytes]:
    return [text[i : i + width].encode() for i in range(len(text)) if i == 0 or len(text) - i >= width]


def scalar_ngram_windows(tokens: list[str], ngrams: int) -> list[bytes]:
    out = []
    for idx in range(len(tokens)):
        end = min(idx + ngrams, len(tokens) - 1)
        if idx == 0 or end == idx + ngrams:
            out.append("".join(tokens[idx : end + 1]).encode())
    return out


def random_text(rng: random.Random, max_len: int) -> str:
    # ASCII, 2-, 3- and 4-byte UTF-8, every kind of byte <= 0x20, and look-alike spaces cuDF does not split on
    alphabet = "abcxyz  é€Ж中ن😀🇸🇪\t\n\r\x00\x01\x1f\u3000\xa0\u2028"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, max_len)))


# --- cuDF's published vectors -------------------------------------------------------------------------------------


def _strings(case: dict) -> list[str]:
    return [s["repeat"] * s["times"] if isinstance(s, dict) else s for s in case["strings"]]


@pytest.mark.parametrize(
    "case", VECTORS["character_cases"], ids=[f"{c['function']}-{i}" for i, c in enumerate(VECTORS["character_cases"])]
)
def test_cudf_character_vectors(case):
    bits = 32 if case["function"] == "minhash32" else 64
    got = minhash_chars(_strings(case), case["a"], case["b"], width=case["width"], seed=case["seed"], bits=bits)
    assert got.dtype == (np.uint32 if bits == 32 else np.uint64)
    assert got.tolist() == case["expected"]


@pytest.mark.parametrize(
    "case", VECTORS["ngram_cases"], ids=[f"{c['function']}-{i}" for i, c in enumerate(VECTORS["ngram_cases"])]
)
def test_cudf_ngram_vectors(case):
    got = minhash_ngrams([case["tokens"]], case["a"], case["b"], ngrams=case["ngrams"], seed=case["seed"], bits=32)
    assert got.tolist() == [case["expected"]]


def test_cudf_minhash64_ngrams_docstring_vector():
    # cuDF's StringMethods.minhash64_ngrams docstring (not in the JSON): pins the 64-bit word-window path
    got = minhash_ngrams([["this", "is", "my"], ["favorite", "book"]], [2, 3], [5, 6], ngrams=2, bits=64)
    assert got.tolist() == [[1304293339825194559, 1956440009737791829], [472203876238918632, 1861227318965224922]]


def test_vectors_through_minhasher_backend_path():
    case = VECTORS["character_cases"][2]
    mh = MinHasher(3, width=case["width"], bits=32, seed=0, backend="cpu")
    mh.a, mh.b = np.array(case["a"], dtype=np.uint32), np.array(case["b"], dtype=np.uint32)
    assert mh.signatures(_strings(case)).tolist() == case["expected"]


def test_word_mode_on_text_equals_ngrams_on_its_tokens():
    case = VECTORS["ngram_cases"][2]
    text = "\t" + " \n ".join(case["tokens"]) + "  "
    assert tokenize(text) == case["tokens"]
    got = minhash_words([text], case["a"], case["b"], ngrams=case["ngrams"], seed=0, bits=32)
    assert got.tolist() == [case["expected"]]


# --- vectorized against scalar ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 0xDEADBEEF])
def test_murmur_matches_scalar_reference(seed):
    rng = random.Random(seed)
    data = [random_text(rng, 60).encode() for _ in range(400)]
    data += [bytes(rng.randrange(256) for _ in range(n)) for n in (0, 1, 3, 4, 15, 16, 17, 31, 33, 700, 2500)]
    many_long = [bytes(rng.randrange(256) for _ in range(rng.randrange(64, 200))) for _ in range(40)]
    for batch in (data, many_long, data[-3:]):  # mixed, vectorized long rows, and the scalar finish of a few
        assert murmurhash3_32(batch, seed).tolist() == [scalar_murmur32(x, seed) for x in batch]
        assert murmurhash3_64(batch, seed).tolist() == [scalar_murmur64(x, seed) for x in batch]


def test_murmur_known_values():
    # reference outputs of MurmurHash3_x86_32 from the algorithm's published verification tables
    assert murmurhash3_32([b"", b"", b"hello"], 0).tolist()[:2] == [0, 0]
    assert murmurhash3_32([b""], 1).tolist() == [0x514E28B7]
    assert murmurhash3_32([b"Hello, world!"], 1234).tolist() == [0xFAF6CDB3]
    assert murmurhash3_32([b"The quick brown fox jumps over the lazy dog"], 0x9747B28C).tolist() == [0x2FA826CD]


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("width", [2, 3, 5, 7])
def test_char_signatures_match_scalar_on_random_unicode(bits, width):
    rng = random.Random(width * bits)
    texts = [random_text(rng, 40) for _ in range(60)] + ["", "é", "😀x", "ab"]  # includes texts shorter than width
    a, b = permutation_parameters(6, bits, seed=width)
    got = minhash_chars(texts, a, b, width=width, seed=7, bits=bits)
    want = [scalar_signature(scalar_char_windows(t, width), a, b, 7, bits) for t in texts]
    assert got.tolist() == want


@pytest.mark.parametrize("bits", [32, 64])
@pytest.mark.parametrize("ngrams", [2, 3, 5])
def test_word_signatures_match_scalar_on_random_unicode(bits, ngrams):
    rng = random.Random(ngrams + bits)
    texts = [random_text(rng, 60) for _ in range(60)] + ["", " \t\n ", "single", "\u3000two\xa0words"]
    a, b = permutation_parameters(6, bits, seed=ngrams)
    got = minhash_words(texts, a, b, ngrams=ngrams, seed=3, bits=bits)
    want = [scalar_signature(scalar_ngram_windows(tokenize(t), ngrams), a, b, 3, bits) for t in texts]
    assert got.tolist() == want
    assert tokenize("a\x01b\u3000c\xa0d e") == ["a", "b\u3000c\xa0d", "e"]  # cuDF splits on <= U+0020 only


def test_shingles_are_the_hashed_windows():
    assert shingles("abcdef", "char", width=4) == {b"abcd", b"bcde", b"cdef"}
    assert shingles("ab", "char", width=4) == {b"ab"}
    assert shingles("a b c d", "word", ngrams=2) == {b"abc", b"bcd"}
    assert shingles("a b", "word", ngrams=2) == {b"ab"}
    assert shingles(" ", "word") == set() and shingles("", "char") == set()


# --- MinHasher ----------------------------------------------------------------------------------------------------


def test_parameters_are_deterministic_and_documented_ranges():
    a, b = permutation_parameters(64, 32, seed=5)
    a2, b2 = permutation_parameters(64, 32, seed=5)
    assert (a == a2).all() and (b == b2).all() and a.dtype == np.uint32 and (a % 2 == 1).all()
    a, b = permutation_parameters(64, 64, seed=5)
    assert a.dtype == np.uint64 and int(a.min()) >= 1 and int(a.max()) < P61 and int(b.max()) < P61
    assert not (a == permutation_parameters(64, 64, seed=6)[0]).all()


@pytest.mark.parametrize("mode", ["char", "word"])
def test_signatures_do_not_depend_on_batches_or_order(mode):
    rng = random.Random(11)
    texts = [random_text(rng, 300) for _ in range(40)] + ["", "x" * 5000]
    whole = MinHasher(32, mode=mode, bits=64, seed=3, backend="cpu").signatures(texts)
    tiny = MinHasher(32, mode=mode, bits=64, seed=3, backend="cpu", batch_bytes=100).signatures(texts)
    order = list(range(len(texts)))
    rng.shuffle(order)
    shuffled = MinHasher(32, mode=mode, bits=64, seed=3, backend="cpu").signatures([texts[i] for i in order])
    assert whole.shape == (len(texts), 32) and whole.dtype == np.uint64
    assert (whole == tiny).all()
    assert (shuffled == whole[order]).all()
    assert (whole[len(texts) - 2] == 0).all()  # empty text: all zeros, as cuDF


def test_minhasher_validates_and_resolves_backend():
    assert MinHasher(8, backend="auto").backend == ("gpu" if gpu_available() else "cpu")
    if not gpu_available():
        with pytest.raises(RuntimeError, match="backend 'gpu'"):
            MinHasher(8, backend="gpu")
    bad_settings = ({"width": 1}, {"mode": "word", "ngrams": 1}, {"bits": 16}, {"mode": "line"}, {"backend": "tpu"})
    for bad in bad_settings:
        with pytest.raises(ValueError):
            MinHasher(8, **bad)
    assert MinHasher(8, bits=32, backend="cpu").signatures(["abc"]).dtype == np.uint32
    assert MinHasher(8, backend="cpu").signatures([]).shape == (0, 8)


def test_minhasher_from_policy_settings():
    from schemas.policy import FuzzyDedup

    mh = MinHasher.from_settings(FuzzyDedup(backend="cpu", mode="word", ngrams=3, bands=4, rows=5, bits=32))
    assert (mh.num_perm, mh.mode, mh.ngrams, mh.bits, mh.seed, mh.backend) == (20, "word", 3, 32, 42, "cpu")


def test_lone_surrogates_do_not_crash():
    sig = MinHasher(8, backend="cpu").signatures(["ok \ud800 text"])
    assert sig.shape == (1, 8) and (sig == MinHasher(8, backend="cpu").signatures(["ok ? text"])).all()


# --- LSH, Jaccard, components -------------------------------------------------------------------------------------


def test_band_keys_are_compact_and_agree_exactly_on_equal_bands():
    sig = np.array([[1, 2, 3, 4], [1, 2, 9, 9], [7, 2, 3, 4]], dtype=np.uint64)
    keys = band_keys(sig, bands=2, rows=2)
    assert [len(k) for row in keys for k in row] == [10] * 6
    assert [k[:2] for k in keys[0]] == [b"\x00\x00", b"\x00\x01"]
    assert keys[0][0] == keys[1][0] and keys[0][1] != keys[1][1]
    assert keys[0][1] == keys[2][1] and keys[0][0] != keys[2][0]
    assert candidate_pairs(["d0", "d1", "d2"], keys) == [("d0", "d1"), ("d0", "d2")]
    with pytest.raises(ValueError):
        band_keys(sig, bands=3, rows=2)


def test_jaccard_estimates():
    assert estimated_jaccard(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75
    assert estimated_jaccard(np.zeros((2, 4)), np.zeros((2, 4))).tolist() == [1.0, 1.0]
    assert true_jaccard("abcdef", "abcdeg", width=4) == pytest.approx(2 / 4)
    assert true_jaccard("", "", width=4) == 1.0 and true_jaccard("abc", "", width=2) == 0.0


def test_components_lowest_id_whatever_the_edge_order():
    edges = [("d5", "d3"), ("d9", "d7"), ("d3", "d8"), ("d7", "d1"), ("d4", "d4"), ("d8", "d2")]
    want = connected_components(edges)
    assert want == {"d1": "d1", "d2": "d2", "d3": "d2", "d4": "d4", "d5": "d2", "d7": "d1", "d8": "d2", "d9": "d1"}
    rng = random.Random(0)
    for _ in range(20):
        shuffled = [(b, a) if rng.random() < 0.5 else (a, b) for a, b in edges]
        rng.shuffle(shuffled)
        assert connected_components(shuffled) == want


def test_near_duplicates_share_a_band_and_cluster(shared):
    rows = [ln.split("\t") for ln in (shared / "langid" / "ud_test_sentences.tsv").read_text().splitlines()[1:]]
    by_lang: dict[str, list[str]] = {}
    for lang, _, _, text in rows:
        by_lang.setdefault(lang, []).append(text)
    rng = random.Random(4)
    docs, families = [], []
    for fam, lang in enumerate(["sv", "de", "fi", "ru", "ja", "ar", "en", "fr"]):
        base = rng.sample(by_lang[lang], 12)
        edited = list(base)
        edited[3] = edited[3].replace(" ", "  ", 1) + " Extra."  # small edit: true duplicates
        docs += [" ".join(base), " ".join(edited), "Cookies help us. " + " ".join(base)]
        families += [fam] * 3
        docs.append(" ".join(rng.sample(by_lang[lang], 12)))  # same language, different text
        families.append(-1 - fam)
    mh = MinHasher(200, mode="char", width=5, bits=64, seed=42, backend="cpu")
    sig = mh.signatures(docs)
    ids = [f"doc{i:03d}" for i in range(len(docs))]
    pairs = candidate_pairs(ids, band_keys(sig, bands=20, rows=10))
    edges = [(x, y) for x, y in pairs if estimated_jaccard(sig[ids.index(x)], sig[ids.index(y)]) >= 0.8]
    truth = {(ids[i], ids[j]) for i in range(len(docs)) for j in range(i + 1, len(docs))
             if families[i] == families[j] and true_jaccard(docs[i], docs[j]) >= 0.8}  # fmt: skip
    assert len(truth) == 8 * 3 and set(edges) == truth
    comp = connected_components(edges)
    for fam in range(8):
        first = ids[4 * fam]
        assert [comp[ids[4 * fam + k]] for k in range(3)] == [first] * 3
        assert ids[4 * fam + 3] not in comp


# --- normalisation before shingling -------------------------------------------------------------------------------


def test_normalisation_folds_case_punctuation_spacing_and_compatibility_forms():
    from filters.dedup import normalize_for_shingles

    assert normalize_for_shingles("„Ja“, sagte er —\n  Weiß  ") == "ja sagte er weiss"
    assert normalize_for_shingles("Daſs die Hoff\u00adnung ﬁel!") == "dass die hoffnung fiel"
    assert normalize_for_shingles("Preis: 12,50 €") == "preis 12 50"
    assert normalize_for_shingles(" ... ") == ""


def test_normalised_signatures_are_cudf_signatures_of_the_normalised_text():
    from filters.dedup import normalize_for_shingles

    texts = ["FAUST. Habe nun, ach! Philosophie,", "Faust: habe nun -- ach -- Philosophie", "", "   !!! "]
    for mode in ("char", "word"):
        on = MinHasher(16, mode=mode, ngrams=2, bits=32, seed=0, backend="cpu", normalize=True)
        off = MinHasher(16, mode=mode, ngrams=2, bits=32, seed=0, backend="cpu")
        assert (on.signatures(texts) == off.signatures([normalize_for_shingles(t) for t in texts])).all()
        assert (on.signatures(texts[:1]) == on.signatures(texts[1:2])).all()  # the two renderings hash alike
        assert (on.signatures_cpu(texts) == on.signatures(texts)).all()
    # off (the MinHasher's default): every published cuDF character vector holds through it, text untouched
    for case in VECTORS["character_cases"]:
        bits = 64 if case["function"] == "minhash64" else 32
        mh = MinHasher(len(case["a"]), width=case["width"], bits=bits, seed=case["seed"], backend="cpu",
                       normalize=False)  # fmt: skip
        dtype = np.uint32 if bits == 32 else np.uint64
        mh.a, mh.b = np.array(case["a"], dtype=dtype), np.array(case["b"], dtype=dtype)
        assert mh.signatures(_strings(case)).tolist() == case["expected"]


def test_policy_default_normalises_and_verification_agrees_with_signatures():
    from schemas.policy import FuzzyDedup

    assert FuzzyDedup().normalize is True
    assert MinHasher.from_settings(FuzzyDedup(backend="cpu")).normalize is True
    assert MinHasher.from_settings(FuzzyDedup(backend="cpu", normalize=False)).normalize is False
    a, b = "Der Krug, der zerbrochen ist!", "der krug der zerbrochen ist"
    assert true_jaccard(a, b, normalize=True) == 1.0 and true_jaccard(a, b) < 0.7


def test_edition_duplicates_of_real_tei_are_found_only_with_normalisation(shared):
    from benchmarks.edition_pairs import edition_pairs, measure

    result = measure(edition_pairs(shared / "tei", 13))
    assert result["normalized"]["found"] == 13 and result["normalized"]["jaccard_min"] >= 0.86
    assert result["raw"]["found"] < 13
    assert result["normalized"]["other_pairs_above_threshold"] == 0
