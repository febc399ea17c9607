"""MurmurHash3 over many (start, length) substrings of one byte buffer at once, vectorized with numpy.

MurmurHash3_x86_32 (`murmurhash3_32`) and the first 64-bit word of MurmurHash3_x64_128 (`murmurhash3_64`), the
hashes cuDF's MinHash uses (see `filters.dedup.minhash`). Austin Appleby's public-domain reference algorithm; the
test vectors in `tests/test_minhash.py` pin it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_U32 = 0xFFFFFFFF
_U64 = (1 << 64) - 1
_PAD = 32  # zero bytes after a buffer so unaligned 8-byte reads past a substring's end stay in bounds
_SCALAR_ROWS = 8  # below this many rows still hashing blocks, a Python loop beats numpy's per-call overhead

# MurmurHash3 constants (Austin Appleby's public-domain reference algorithm)
_C1_32, _C2_32 = 0xCC9E2D51, 0x1B873593
_C1_64, _C2_64 = 0x87C37B91114253D5, 0x4CF5AD432745937F
_TAIL32 = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF], dtype=np.uint32)
_TAIL64 = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [_U64], dtype=np.uint64)


# ---------------------------------------------------------------------------------------------------------------
# MurmurHash3 over (start, length) substrings of one byte buffer
# ---------------------------------------------------------------------------------------------------------------


def _rotl32(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _rotl64(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


def _fmix32(h: np.ndarray) -> np.ndarray:
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def _fmix64(k: np.ndarray) -> np.ndarray:
    k ^= k >> np.uint64(33)
    k *= np.uint64(0xFF51AFD7ED558CCD)
    k ^= k >> np.uint64(33)
    k *= np.uint64(0xC4CEB9FE1A85EC53)
    k ^= k >> np.uint64(33)
    return k


def _mix_k32(k: np.ndarray) -> np.ndarray:
    k *= np.uint32(_C1_32)
    k = _rotl32(k, 15)
    k *= np.uint32(_C2_32)
    return k


def _mix_k64(k1: np.ndarray, k2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    k1 *= np.uint64(_C1_64)
    k1 = _rotl64(k1, 31)
    k1 *= np.uint64(_C2_64)
    k2 *= np.uint64(_C2_64)
    k2 = _rotl64(k2, 33)
    k2 *= np.uint64(_C1_64)
    return k1, k2


def _words32(buf: np.ndarray) -> np.ndarray:
    """Little-endian uint32 read at every byte offset of `buf` (len(buf) - 3 values)."""
    b = buf.astype(np.uint32)
    n = len(buf) - 3
    return b[:n] | (b[1 : n + 1] << np.uint32(8)) | (b[2 : n + 2] << np.uint32(16)) | (b[3 : n + 3] << np.uint32(24))


def _padded(data: bytes | np.ndarray) -> np.ndarray:
    arr = np.frombuffer(data, dtype=np.uint8) if isinstance(data, bytes | bytearray | memoryview) else data
    out = np.zeros(len(arr) + _PAD, dtype=np.uint8)
    out[: len(arr)] = arr
    return out


def _hash32_windows(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, seed: int) -> np.ndarray:
    """MurmurHash3_x86_32 of every `buf[starts[i] : starts[i] + lengths[i]]`; `buf` ends with `_PAD` zero bytes."""
    w32 = _words32(buf)
    n = len(starts)
    h = np.full(n, seed & _U32, dtype=np.uint32)
    nblocks = lengths >> 2
    act: np.ndarray | None = None  # None: every row is still hashing blocks (no gather/scatter needed)
    if n and int(nblocks.min()) == 0:
        act = np.flatnonzero(nblocks > 0)
    i = 0
    while n and (act is None or act.size):
        if act is not None and act.size <= _SCALAR_ROWS:
            for r in act.tolist():
                h[r] = _finish_blocks32(w32, int(starts[r]), int(nblocks[r]), i, int(h[r]))
            break
        if act is None:
            k = _mix_k32(w32[starts + 4 * i])
            hh = h ^ k
        else:
            k = _mix_k32(w32[starts[act] + 4 * i])
            hh = h[act] ^ k
        hh = _rotl32(hh, 13)
        hh *= np.uint32(5)
        hh += np.uint32(0xE6546B64)
        if act is None:
            h = hh
        else:
            h[act] = hh
        i += 1
        # rows whose blocks are all hashed drop out, so the total work is the number of blocks, not rows x max
        act = np.flatnonzero(nblocks > i) if act is None else act[nblocks[act] > i]
    rem = lengths & 3
    k = w32[starts + (lengths - rem)] & _TAIL32[rem]
    h ^= _mix_k32(k)  # an empty tail mixes to 0, so XOR-ing it is a no-op exactly as in the reference
    h ^= lengths.astype(np.uint32)
    return _fmix32(h)


def _finish_blocks32(w32: np.ndarray, start: int, nblocks: int, first: int, h: int) -> int:
    ks = _mix_k32(w32[start + 4 * np.arange(first, nblocks)]).tolist()
    for k in ks:
        h ^= k
        h = ((h << 13) | (h >> 19)) & _U32
        h = (h * 5 + 0xE6546B64) & _U32
    return h


def _hash64_windows(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, seed: int) -> np.ndarray:
    """First 64-bit word of MurmurHash3_x64_128 of every `buf[starts[i] : starts[i] + lengths[i]]`."""
    w32 = _words32(buf).astype(np.uint64)
    w64 = w32[:-4] | (w32[4:] << np.uint64(32))
    n = len(starts)
    h1 = np.full(n, seed & _U64, dtype=np.uint64)
    h2 = h1.copy()
    nblocks = lengths >> 4
    act: np.ndarray | None = None
    if n and int(nblocks.min()) == 0:
        act = np.flatnonzero(nblocks > 0)
    i = 0
    while n and (act is None or act.size):
        if act is not None and act.size <= _SCALAR_ROWS:
            for r in act.tolist():
                h1[r], h2[r] = _finish_blocks64(w64, int(starts[r]), int(nblocks[r]), i, int(h1[r]), int(h2[r]))
            break
        pos = (starts if act is None else starts[act]) + 16 * i
        k1, k2 = _mix_k64(w64[pos], w64[pos + 8])
        a1, a2 = (h1, h2) if act is None else (h1[act], h2[act])
        a1 ^= k1
        a1 = _rotl64(a1, 27)
        a1 += a2
        a1 = a1 * np.uint64(5) + np.uint64(0x52DCE729)
        a2 ^= k2
        a2 = _rotl64(a2, 31)
        a2 += a1
        a2 = a2 * np.uint64(5) + np.uint64(0x38495AB5)
        if act is None:
            h1, h2 = a1, a2
        else:
            h1[act], h2[act] = a1, a2
        i += 1
        act = np.flatnonzero(nblocks > i) if act is None else act[nblocks[act] > i]
    rem = lengths & 15
    tail = starts + (lengths - rem)
    k1 = w64[tail] & _TAIL64[np.minimum(rem, 8)]
    k2 = w64[tail + 8] & _TAIL64[np.maximum(rem - 8, 0)]
    k1, k2 = _mix_k64(k1, k2)
    h2 ^= k2  # zero when the tail has 8 bytes or fewer: a no-op, as the reference skips it
    h1 ^= k1
    ln = lengths.astype(np.uint64)
    h1 ^= ln
    h2 ^= ln
    h1 += h2
    h2 += h1
    return _fmix64(h1) + _fmix64(h2)


def _finish_blocks64(w64: np.ndarray, start: int, nblocks: int, first: int, h1: int, h2: int) -> tuple[int, int]:
    pos = start + 16 * np.arange(first, nblocks)
    k1s, k2s = _mix_k64(w64[pos], w64[pos + 8])
    for k1, k2 in zip(k1s.tolist(), k2s.tolist()):
        h1 ^= k1
        h1 = ((h1 << 27) | (h1 >> 37)) & _U64
        h1 = ((h1 + h2) * 5 + 0x52DCE729) & _U64
        h2 ^= k2
        h2 = ((h2 << 31) | (h2 >> 33)) & _U64
        h2 = ((h2 + h1) * 5 + 0x38495AB5) & _U64
    return h1, h2


def _concat(items: Sequence[bytes]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lengths = np.fromiter((len(x) for x in items), dtype=np.int64, count=len(items))
    starts = np.zeros(len(items), dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    return _padded(b"".join(items)), starts, lengths


def murmurhash3_32(data: Sequence[bytes], seed: int = 0) -> np.ndarray:
    """MurmurHash3_x86_32 of each byte string, as uint32 (the reference algorithm; no clamping)."""
    buf, starts, lengths = _concat(data)
    return _hash32_windows(buf, starts, lengths, seed)


def murmurhash3_64(data: Sequence[bytes], seed: int = 0) -> np.ndarray:
    """First 64-bit word of MurmurHash3_x64_128 of each byte string (seed fills both 64-bit lanes), as uint64."""
    buf, starts, lengths = _concat(data)
    return _hash64_windows(buf, starts, lengths, seed)
