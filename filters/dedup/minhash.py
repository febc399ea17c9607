"""MinHash signatures that match cuDF's `minhash` / `minhash64` / `minhash_ngrams` bit for bit, on CPU or GPU.

Semantics (cuDF 26.x, pinned by `../shared/reference/cudf_minhash_vectors.json` and `tests/test_minhash.py`):

* character mode (cuDF `minhash`, `minhash64`; here `minhash_chars`): one substring per UTF-8 character start,
  `width` characters long; starts with fewer than `width` characters left are skipped, except the first, so a string
  shorter than `width` is hashed whole. A string with no bytes gets an all-zero signature.
* word mode (cuDF `minhash_ngrams`, `minhash64_ngrams`; here `minhash_words`, `minhash_ngrams`): tokens are the runs
  of code points above U+0020 (cuDF's whitespace split: every code point <= U+0020 separates, empty tokens do not
  exist). For every token index `idx`, the bytes of tokens `idx .. min(idx + ngrams, len - 1)` (inclusive:
  `ngrams + 1` tokens) are concatenated with no separator and hashed; windows cut short by the end of the row are
  skipped except at `idx == 0`. A document with no token gets an all-zero signature.
* hash: `hv = max(MurmurHash3(substring, seed), 1)`, MurmurHash3_x86_32 for 32 bits, the first 64-bit word of
  MurmurHash3_x64_128 for 64 bits.
* permutation `i`: 32 bits `(hv * a[i] + b[i]) mod 2**32`; 64 bits `((hv * a[i] + b[i]) mod 2**64) mod (2**61 - 1)`.
  The signature value is the minimum over the document's substrings.

Everything here is vectorized numpy over many byte strings at once: the substrings of a batch are (start, length)
pairs into one byte buffer, never Python objects.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from filters.dedup.murmur import _concat, _hash32_windows, _hash64_windows, _padded
from filters.dedup.normalize import normalize_for_shingles, normalize_level

MERSENNE_61 = (1 << 61) - 1
_U32 = 0xFFFFFFFF
_WINDOW_CHUNK, _PERM_BLOCK = 8192, 8  # fastest of 2k..32k windows x 4..32 permutations, measured on a Xeon
_TOKEN = re.compile(r"[^\x00-\x20]+")


BACKENDS = ("auto", "cpu", "gpu")
MODES = ("char", "word")


# ---------------------------------------------------------------------------------------------------------------
# Substring windows
# ---------------------------------------------------------------------------------------------------------------


def _utf8(text: str) -> bytes:
    # lone surrogates cannot be encoded (nor reach cuDF); both backends hash them as '?', see `clean_text`
    return text.encode("utf-8", "replace")


def clean_text(text: str) -> str:
    """`text` as both backends hash it: unchanged unless it holds lone surrogates, which become '?'."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def _segments(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For per-document window counts: (document of every window, index of the window within its document)."""
    total = int(counts.sum())
    doc = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=first[1:])
    return doc, np.arange(total, dtype=np.int64) - first[doc]


def _char_windows(buf: np.ndarray, offsets: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Character windows of documents laid end to end in `buf` (doc d is `buf[offsets[d] : offsets[d + 1]]`).

    Returns (starts, lengths, per-document window count), windows grouped by document in order.
    """
    total = int(offsets[-1])
    cs = np.flatnonzero((buf[:total] & 0xC0) != 0x80)  # every byte that is not a UTF-8 continuation starts a char
    cs_ext = np.append(cs, total)  # the char after a document's last char starts where the next document starts
    first_char = np.searchsorted(cs, offsets[:-1])
    nch = np.searchsorted(cs, offsets[1:]) - first_char
    counts = np.where(nch >= width, nch - width + 1, np.minimum(nch, 1))
    doc, i = _segments(counts)
    g = first_char[doc] + i
    starts = cs[g]
    full = nch[doc] >= width
    ends = np.where(full, cs_ext[np.where(full, g + width, 0)], offsets[doc + 1])
    return starts, ends - starts, counts


def _ngram_windows(
    tok_starts: np.ndarray, tok_ends: np.ndarray, tok_counts: np.ndarray, ngrams: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token windows (cuDF minhash_ngrams) over tokens laid end to end with no separator.

    Tokens are grouped by document; token t spans `[tok_starts[t], tok_ends[t])` and consecutive tokens of a document
    are adjacent, so tokens `idx .. idx + ngrams` concatenated are the range
    `[tok_starts[idx], tok_ends[idx + ngrams])`.
    """
    counts = np.where(tok_counts > ngrams, tok_counts - ngrams, np.minimum(tok_counts, 1))
    doc, idx = _segments(counts)
    first_tok = np.zeros(len(tok_counts), dtype=np.int64)
    np.cumsum(tok_counts[:-1], out=first_tok[1:])
    g = first_tok[doc] + idx
    last = first_tok[doc] + np.minimum(idx + ngrams, tok_counts[doc] - 1)
    starts = tok_starts[g]
    return starts, tok_ends[last] - starts, counts


def _word_buffer(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Whitespace-free buffer of all tokens of `texts`, token spans in it, and the token count of every document."""
    blobs = [_utf8(t) for t in texts]
    raw = np.frombuffer(b" ".join(blobs) + b" ", dtype=np.uint8)  # a space after each document: no token spans two
    is_tok = raw > 0x20
    edges = np.diff(np.concatenate(([False], is_tok, [False])).astype(np.int8))
    ts = np.flatnonzero(edges == 1)
    te = np.flatnonzero(edges == -1)
    cpos = np.zeros(len(raw) + 1, dtype=np.int64)  # position in the whitespace-free buffer of every raw byte
    np.cumsum(is_tok, out=cpos[1:])
    doc_starts = np.zeros(len(blobs), dtype=np.int64)
    if blobs:
        np.cumsum(np.fromiter((len(x) + 1 for x in blobs[:-1]), dtype=np.int64, count=len(blobs) - 1),
                  out=doc_starts[1:])  # fmt: skip
    tok_doc = np.searchsorted(doc_starts, ts, side="right") - 1
    counts = np.bincount(tok_doc, minlength=len(blobs)).astype(np.int64)
    return _padded(raw[is_tok]), cpos[ts], cpos[te], counts


# ---------------------------------------------------------------------------------------------------------------
# Permutation and minimum
# ---------------------------------------------------------------------------------------------------------------


def _permute_min(hv: np.ndarray, counts: np.ndarray, a: np.ndarray, b: np.ndarray, bits: int) -> np.ndarray:
    """Signature of every document: min over its windows' hashes `hv` (grouped by document) of each permutation."""
    n, p = len(counts), len(a)
    dtype = np.uint32 if bits == 32 else np.uint64
    out = np.zeros((p, n), dtype=dtype)  # permutation-major while reducing; transposed on return
    has = np.flatnonzero(counts > 0)
    if not has.size:
        return np.ascontiguousarray(out.T)
    out[:, has] = np.iinfo(dtype).max
    seg_start = np.zeros(n, dtype=np.int64)
    np.cumsum(counts[:-1], out=seg_start[1:])
    seg_start = seg_start[has]
    total = len(hv)
    hv = hv.astype(dtype, copy=False)
    a = a.astype(dtype)[:, None]
    b = b.astype(dtype)[:, None]
    # blocks of _PERM_BLOCK permutations x _WINDOW_CHUNK windows (512 KiB) stay in cache through the ~7 passes;
    # windows run along the contiguous axis so each pass is a plain vector loop and each min a contiguous reduction
    width, rows = _WINDOW_CHUNK, _PERM_BLOCK
    mp = np.uint64(MERSENNE_61)
    s61 = np.uint64(61)
    x = np.empty((rows, width), dtype=dtype)
    t = np.empty((rows, width), dtype=dtype)
    j0 = 0
    for c0 in range(0, total, width):
        c1 = min(total, c0 + width)
        j1 = int(np.searchsorted(seg_start, c1, side="left"))
        while j0 + 1 < len(seg_start) and seg_start[j0 + 1] <= c0:
            j0 += 1  # a document may straddle two chunks: its minimum is combined across them
        local = np.maximum(seg_start[j0:j1], c0) - c0
        docs = has[j0:j1]
        h = hv[None, c0:c1]
        for p0 in range(0, p, rows):
            p1 = min(p, p0 + rows)
            xs = x[: p1 - p0, : c1 - c0]
            np.multiply(a[p0:p1], h, out=xs)
            xs += b[p0:p1]
            if bits == 64:
                ts = t[: p1 - p0, : c1 - c0]
                np.right_shift(xs, s61, out=ts)
                xs &= mp
                xs += ts  # x mod (2**61 - 1) folded once: now in [0, 2**61 + 6]
                if xs.max() >= mp:  # a second fold is needed about once in 2**58 values: check, don't pay for it
                    xs[xs >= mp] -= mp
            part = np.minimum.reduceat(xs, local, axis=1)
            o = out[p0:p1]
            o[:, docs] = np.minimum(o[:, docs], part)
    return np.ascontiguousarray(out.T)


def _validate_params(a: np.ndarray, b: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    if bits not in (32, 64):
        raise ValueError(f"bits must be 32 or 64, got {bits!r}")
    dtype = np.uint32 if bits == 32 else np.uint64
    a = np.asarray(a, dtype=dtype).ravel()
    b = np.asarray(b, dtype=dtype).ravel()
    if a.size == 0 or a.size != b.size:
        raise ValueError(f"a and b must be non-empty and of equal length, got {a.size} and {b.size}")
    return a, b


def _hash(buf, starts, lengths, seed, bits) -> np.ndarray:
    hv = (_hash32_windows if bits == 32 else _hash64_windows)(buf, starts, lengths, seed)
    np.maximum(hv, 1, out=hv)  # cuDF uses 0 as a skip sentinel, so a hash of 0 counts as 1
    return hv


def minhash_chars(texts: Sequence[str], a, b, *, width: int, seed: int = 0, bits: int = 32) -> np.ndarray:
    """cuDF `Series.str.minhash` (bits=32) / `minhash64` (bits=64) of each text: array (len(texts), len(a))."""
    a, b = _validate_params(a, b, bits)
    if width < 2:
        raise ValueError(f"width must be 2 or more (as in cuDF), got {width}")
    blobs = [_utf8(t) for t in texts]
    buf, starts, lengths = _concat(blobs)
    offsets = np.append(starts, starts[-1] + lengths[-1] if len(blobs) else 0)
    ws, wl, counts = _char_windows(buf, offsets, width)
    return _permute_min(_hash(buf, ws, wl, seed, bits), counts, a, b, bits)


def minhash_ngrams(token_lists: Sequence[Sequence[str]], a, b, *, ngrams: int, seed: int = 0, bits: int = 32):
    """cuDF `minhash_ngrams` (bits=32) / `minhash64_ngrams` (bits=64) of each row of tokens."""
    a, b = _validate_params(a, b, bits)
    if ngrams < 2:
        raise ValueError(f"ngrams must be 2 or more (as in cuDF), got {ngrams}")
    toks = [_utf8(t) for row in token_lists for t in row]
    buf, ts, tl = _concat(toks)
    tok_counts = np.fromiter((len(r) for r in token_lists), dtype=np.int64, count=len(token_lists))
    ws, wl, counts = _ngram_windows(ts, ts + tl, tok_counts, ngrams)
    return _permute_min(_hash(buf, ws, wl, seed, bits), counts, a, b, bits)


def minhash_words(texts: Sequence[str], a, b, *, ngrams: int, seed: int = 0, bits: int = 32) -> np.ndarray:
    """`minhash_ngrams` of each text split with `tokenize` (cuDF `str.split()` then `str.minhash_ngrams`)."""
    a, b = _validate_params(a, b, bits)
    if ngrams < 2:
        raise ValueError(f"ngrams must be 2 or more (as in cuDF), got {ngrams}")
    buf, ts, te, tok_counts = _word_buffer(texts)
    ws, wl, counts = _ngram_windows(ts, te, tok_counts, ngrams)
    return _permute_min(_hash(buf, ws, wl, seed, bits), counts, a, b, bits)


def tokenize(text: str) -> list[str]:
    """Tokens as cuDF's whitespace `str.split()` makes them: maximal runs of code points above U+0020."""
    return _TOKEN.findall(text)


def shingle_strings(
    text: str, mode: str = "char", width: int = 5, ngrams: int = 5, normalize: bool | str = False
) -> set[str]:
    """The windows a signature of `text` is computed over, as a set of str (see `shingles` for their bytes); with
    `normalize` (True or a level name), those of `normalize_for_shingles(text, normalize)`, as
    `MinHasher(normalize=...)` hashes them."""
    text = clean_text(normalize_for_shingles(text, normalize) if normalize else text)
    if mode == "char":
        n = len(text)
        if n == 0:
            return set()
        if n < width:
            return {text}
        return {text[i : i + width] for i in range(n - width + 1)}
    if mode == "word":
        toks = tokenize(text)
        n = len(toks)
        if n == 0:
            return set()
        if n <= ngrams:
            return {"".join(toks)}
        return {"".join(toks[i : i + ngrams + 1]) for i in range(n - ngrams)}
    raise ValueError(f"mode must be one of {MODES}, got {mode!r}")


def shingles(
    text: str, mode: str = "char", width: int = 5, ngrams: int = 5, normalize: bool | str = False
) -> set[bytes]:
    """The set of UTF-8 byte strings a signature of `text` is the minimum over (same windows as the kernels)."""
    return {x.encode("utf-8") for x in shingle_strings(text, mode, width, ngrams, normalize)}


# ---------------------------------------------------------------------------------------------------------------
# Parameters, backends, MinHasher
# ---------------------------------------------------------------------------------------------------------------


def permutation_parameters(num_perm: int, bits: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) for `num_perm` permutations, drawn from `numpy.random.default_rng(seed)`: all of `a`, then all of `b`.

    32 bits: a uniform in [1, 2**32) forced odd (so h -> a*h + b mod 2**32 is a bijection), b uniform in [0, 2**32).
    64 bits: a uniform in [1, 2**61 - 1), b uniform in [0, 2**61 - 1), as datatrove draws them.
    """
    if num_perm < 1:
        raise ValueError(f"num_perm must be at least 1, got {num_perm}")
    rng = np.random.default_rng(seed)
    if bits == 32:
        a = rng.integers(1, 1 << 32, size=num_perm, dtype=np.uint64) | np.uint64(1)
        b = rng.integers(0, 1 << 32, size=num_perm, dtype=np.uint64)
        return a.astype(np.uint32), b.astype(np.uint32)
    if bits == 64:
        a = rng.integers(1, MERSENNE_61, size=num_perm, dtype=np.uint64)
        b = rng.integers(0, MERSENNE_61, size=num_perm, dtype=np.uint64)
        return a, b
    raise ValueError(f"bits must be 32 or 64, got {bits!r}")


def gpu_unavailable_reason() -> str | None:
    """None when cuDF imports and a CUDA device is visible, else why not (one line)."""
    try:
        import cudf  # noqa: F401
        import cupy
    except Exception as e:  # noqa: BLE001 - cuDF raises assorted errors when CUDA libraries or drivers are missing
        return f"cuDF cannot be imported ({type(e).__name__}: {e})"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - CUDA runtime errors have no common base worth naming
        return f"no CUDA device is visible ({type(e).__name__}: {e})"
    return None if count > 0 else "no CUDA device is visible"


def gpu_available() -> bool:
    """True when the GPU backend can run here."""
    return gpu_unavailable_reason() is None


class MinHasher:
    """Signatures of texts: `signatures(texts)` -> array (len(texts), num_perm) of uint32 (bits=32) or uint64.

    The same parameters give the same signatures on every backend, batch split and input order. `a`, `b` come from
    `permutation_parameters(num_perm, bits, seed)`; the MurmurHash3 seed is `seed mod 2**32`. With `normalize`, each
    text is first folded by `normalize_for_shingles` (case, punctuation, spacing), in Python, before either backend
    sees it: the kernels are unchanged, so `normalize=False` is cuDF's own `minhash` and `normalize=True` is cuDF's
    `minhash` of the normalised text. `normalize="spelling"` folds old spellings too (filters/dedup/normalize.py);
    `normalize` holds False, True or "spelling" (the names `none` and `basic` are taken as False and True).
    """

    def __init__(
        self,
        num_perm: int = 200,
        *,
        mode: str = "char",
        width: int = 5,
        ngrams: int = 5,
        bits: int = 64,
        seed: int = 42,
        backend: str = "auto",
        batch_bytes: int = 1 << 18,
        gpu_batch_rows: int = 100_000,
        normalize: bool | str = False,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
        if mode == "char" and width < 2:
            raise ValueError(f"width must be 2 or more (cuDF's minimum), got {width}")
        if mode == "word" and ngrams < 2:
            raise ValueError(f"ngrams must be 2 or more (cuDF's minimum), got {ngrams}")
        if seed < 0:
            raise ValueError(f"seed must be 0 or more, got {seed}")
        self.num_perm, self.mode, self.width, self.ngrams = num_perm, mode, width, ngrams
        level = normalize_level(normalize)  # raises ValueError for an unknown level
        self.bits, self.seed = bits, seed
        self.normalize: bool | str = {"none": False, "basic": True}.get(level, level)
        self.a, self.b = permutation_parameters(num_perm, bits, seed)
        self.hash_seed = seed & _U32
        self.batch_bytes = batch_bytes
        self.gpu_batch_rows = gpu_batch_rows
        if backend == "gpu":
            reason = gpu_unavailable_reason()
            if reason:
                raise RuntimeError(f"MinHasher backend 'gpu' was requested but cannot run: {reason}")
        self.backend = "gpu" if backend == "gpu" or (backend == "auto" and gpu_available()) else "cpu"

    @classmethod
    def from_settings(cls, settings, **overrides) -> MinHasher:
        """From any object with the policy's fuzzy-dedup fields: backend, mode, width, ngrams, bits, seed, num_perm,
        normalize (absent: False)."""
        kw = {k: getattr(settings, k) for k in ("backend", "mode", "width", "ngrams", "bits", "seed", "num_perm")}
        kw["normalize"] = getattr(settings, "normalize", False)
        kw.update(overrides)
        return cls(kw.pop("num_perm"), **kw)

    @classmethod
    def settings_problem(cls, settings) -> str | None:
        """Why a hasher cannot be built from these settings on this machine (invalid value, or a `gpu` backend
        without cuDF or a device), or None: the one check behind `terroir run`'s preflight and `terroir dedup`."""
        try:
            cls.from_settings(settings)
        except (ValueError, RuntimeError) as exc:
            return str(exc)
        return None

    @property
    def dtype(self) -> type:
        return np.uint32 if self.bits == 32 else np.uint64

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """Signature of every text, one row each, in input order."""
        texts = [normalize_for_shingles(t, self.normalize) for t in texts] if self.normalize else list(texts)
        if self.backend == "gpu":
            return self._signatures_gpu(texts)
        return self.signatures_cpu(texts, normalized=bool(self.normalize))  # folded once, above

    def signatures_cpu(self, texts: Sequence[str], *, normalized: bool = False) -> np.ndarray:
        """The numpy backend, whatever `backend` resolved to (the reference the GPU must match); `normalized` says
        the texts already went through `normalize_for_shingles` (as `signatures` passes them)."""
        if self.normalize and not normalized:
            texts = [normalize_for_shingles(t, self.normalize) for t in texts]
        out = np.zeros((len(texts), self.num_perm), dtype=self.dtype)
        i = 0
        while i < len(texts):
            j, size = i, 0
            while j < len(texts) and (j == i or size + len(texts[j]) <= self.batch_bytes):
                size += len(texts[j])
                j += 1
            out[i:j] = self._batch_cpu(texts[i:j])
            i = j
        return out

    def _batch_cpu(self, texts: Sequence[str]) -> np.ndarray:
        if self.mode == "char":
            return minhash_chars(texts, self.a, self.b, width=self.width, seed=self.hash_seed, bits=self.bits)
        return minhash_words(texts, self.a, self.b, ngrams=self.ngrams, seed=self.hash_seed, bits=self.bits)

    def _signatures_gpu(self, texts: list[str]) -> np.ndarray:
        import cudf

        a, b = cudf.Series(self.a), cudf.Series(self.b)  # uint32 or uint64: cuDF picks the hash from the dtype
        out = np.zeros((len(texts), self.num_perm), dtype=self.dtype)
        for i in range(0, len(texts), self.gpu_batch_rows):
            part = [clean_text(t) for t in texts[i : i + self.gpu_batch_rows]]
            ser = cudf.Series(part, dtype="str")
            if self.mode == "char":
                fn = ser.str.minhash if self.bits == 32 else ser.str.minhash64
                res = fn(self.hash_seed, a=a, b=b, width=self.width)
            else:
                toks = ser.str.split()  # whitespace split: code points <= U+0020 separate, like `tokenize`
                fn = toks.str.minhash_ngrams if self.bits == 32 else toks.str.minhash64_ngrams
                res = fn(ngrams=self.ngrams, seed=self.hash_seed, a=a, b=b)
            block = res.list.leaves.to_numpy().astype(self.dtype, copy=False).reshape(len(part), self.num_perm)
            if self.mode == "word":
                # a row with no token is all zeros on the CPU; pin it whatever list cuDF's split makes of it
                block[[k for k, t in enumerate(part) if not _TOKEN.search(t)]] = 0
            out[i : i + len(part)] = block
        return out
