"""Fuzzy dedup in the Beam graph: MinHash signatures in batches, LSH band keys grouped with GroupByKey, candidate
pairs verified (estimated or true Jaccard), connected components over the verified edges only, and removal of every
member but the lowest `doc_id` of each component. Uses only ParDo, GroupByKey and Flatten, so it runs on every
runner; no worker ever holds more than one signature batch, one partition of band entries (band hashes split by
value into as many partitions as signature batches), or (in the components step) the edges.
"""

from __future__ import annotations

import apache_beam as beam
import numpy as np

from filters.dedup.lsh import BIG_BUCKET
from pipelines.ledger import ledger_row


class SignBatch(beam.DoFn):
    """(batch, [(doc_id, text)]) → (partition, band entries): every document's band hashes, split by hash into
    `partitions` groups, one element per group (Beam's cost is per element: 20 elements per document would cost more
    than the hashing). An entry is (band, 64-bit band hash, doc_id, signature bytes or b"")."""

    def __init__(self, fuzzy, partitions: int) -> None:
        self.fuzzy = fuzzy
        self.partitions = max(1, partitions)

    def setup(self):
        from filters.dedup import MinHasher

        self._hasher = MinHasher.from_settings(self.fuzzy)

    def process(self, kv):
        from filters.dedup.lsh import band_hashes

        _, items = kv
        items = sorted(items)  # a GroupByKey group: never empty
        fz = self.fuzzy
        sigs = self._hasher.signatures([t for _, t in items])
        hv = band_hashes(sigs, fz.bands, fz.rows).ravel()  # document-major: entry i * bands + b
        doc = np.repeat(np.arange(len(items)), fz.bands)
        band = np.tile(np.arange(fz.bands, dtype=np.uint16), len(items))
        part = hv % np.uint64(self.partitions)
        order = np.argsort(part, kind="stable")
        cuts = np.flatnonzero(np.diff(part[order])) + 1
        # signatures travel with band entries only when buckets verify by estimate; otherwise the id is enough
        carry = fz.verify == "estimated"
        for sel in np.split(order, cuts):
            ids = [items[i][0] for i in doc[sel]]
            blobs = [sigs[i].tobytes() for i in doc[sel]] if carry else None
            yield int(part[sel[0]]), (band[sel].tobytes(), hv[sel].tobytes(), ids, blobs)


class BucketPartition(beam.DoFn):
    """One partition of band entries → its band buckets (equal band and hash) → candidate edges (lower doc_id,
    higher doc_id, estimated Jaccard). A worker holds one partition: 1/partitions of all band entries."""

    def __init__(self, fuzzy) -> None:
        self.fuzzy = fuzzy

    def process(self, kv):
        _, chunks = kv
        bands, hashes, ids, blobs = [], [], [], []
        for b, h, i, bl in chunks:
            bands.append(np.frombuffer(b, dtype=np.uint16))
            hashes.append(np.frombuffer(h, dtype=np.uint64))
            ids.extend(i)
            blobs.extend(bl if bl is not None else [b""] * len(i))
        if not ids:
            return
        band, hv = np.concatenate(bands), np.concatenate(hashes)
        order = np.lexsort((hv, band))
        b_s, h_s = band[order], hv[order]
        cuts = np.flatnonzero((b_s[1:] != b_s[:-1]) | (h_s[1:] != h_s[:-1])) + 1
        starts, ends = np.r_[0, cuts], np.r_[cuts, len(order)]
        for k in np.flatnonzero(ends - starts >= 2):
            members = [(ids[j], blobs[j]) for j in order[starts[k] : ends[k]]]
            yield from self.bucket_edges(members)

    def bucket_edges(self, members):
        """One band bucket [(doc_id, signature bytes)] → its candidate edges."""
        uniq = dict(sorted(members))
        if len(uniq) < 2:
            return
        ids = list(uniq)
        if self.fuzzy.verify != "estimated":
            # candidates only: true-Jaccard verification (or none) decides later. Every pair of the bucket, or a star
            # to the lowest id for buckets above BIG_BUCKET members
            for i in range(1, len(ids)):
                yield (ids[0], ids[i]), 1.0
                if i + 1 < len(ids) and len(ids) <= BIG_BUCKET:
                    for j in range(i + 1, len(ids)):
                        yield (ids[i], ids[j]), 1.0
            return
        dtype = np.uint32 if self.fuzzy.bits == 32 else np.uint64
        sigs = np.stack([np.frombuffer(uniq[i], dtype=dtype) for i in ids])
        floor = self.fuzzy.threshold
        if len(ids) > BIG_BUCKET:
            est = np.mean(sigs[1:] == sigs[0], axis=1)
            for j, e in enumerate(est, start=1):
                if e >= floor:
                    yield (ids[0], ids[j]), float(e)
            return
        for i in range(len(ids) - 1):
            est = np.mean(sigs[i + 1 :] == sigs[i], axis=1)
            for j, e in enumerate(est, start=i + 1):
                if e >= floor:
                    yield (ids[i], ids[j]), float(e)


def first_estimate(kv):
    (a, b), estimates = kv
    yield a, b, max(estimates)


def _tag_edge_by_left(edge):
    a, b, est = edge
    return a, ("edge", b, est)


def _tag_text(doc):
    return doc.doc_id, ("text", doc.text)


class CarryLeftText(beam.DoFn):
    """Group at the left doc: send its text along each of its edges, keyed by the right doc."""

    def process(self, kv):
        a, items = kv
        text = next((it[1] for it in items if it[0] == "text"), None)
        for it in items:
            if it[0] == "edge" and text is not None:
                yield it[1], ("edge", a, it[2], text)


class VerifyAtRight(beam.DoFn):
    """Group at the right doc: compute the true Jaccard of each incoming edge and keep those above the threshold."""

    def __init__(self, fuzzy) -> None:
        self.fuzzy = fuzzy

    def process(self, kv):
        from filters.dedup import true_jaccard

        b, items = kv
        text = next((it[1] for it in items if it[0] == "text"), None)
        if text is None:
            return
        for it in items:
            if it[0] == "edge":
                _, a, _est, text_a = it
                j = true_jaccard(text_a, text, self.fuzzy.mode, self.fuzzy.width, self.fuzzy.ngrams)
                if j >= self.fuzzy.threshold:
                    yield a, b, round(j, 4)


def components(kv):
    """All verified edges in one place (only edges: a few bytes each) → (doc_id, (representative, size, score))."""
    from filters.dedup import connected_components

    _, edges = kv
    edges = list(edges)
    rep = connected_components((a, b) for a, b, _ in edges)
    size: dict[str, int] = {}
    for r in rep.values():
        size[r] = size.get(r, 0) + 1
    best: dict[str, float] = {}
    for a, b, s in edges:
        for d in (a, b):
            best[d] = max(best.get(d, 0.0), s)
    for doc_id, r in rep.items():
        yield doc_id, ("cluster", r, size[r], best.get(doc_id, 0.0))


def _tag_doc(doc):
    return doc.doc_id, ("doc", doc)


def apply_removals(kv):
    _, items = kv
    doc = next((it[1] for it in items if it[0] == "doc"), None)
    cluster = next((it for it in items if it[0] == "cluster"), None)
    if doc is None:
        return
    nbytes = len(doc.text.encode("utf-8", "replace"))
    if cluster is None:
        yield "ledger", ledger_row(doc.doc_id, "fuzzy_dedup", "kept", "no near duplicate", doc.source_id,
                                   doc.input_path, None, nbytes)  # fmt: skip
        yield "doc", doc
        return
    _, rep, size, score = cluster
    doc.dup_cluster = rep
    if rep == doc.doc_id:
        yield "ledger", ledger_row(doc.doc_id, "fuzzy_dedup", "kept", f"representative of {size} near duplicates",
                                   doc.source_id, doc.input_path, {"cluster_size": size}, nbytes)  # fmt: skip
        yield "doc", doc
    else:
        yield "ledger", ledger_row(doc.doc_id, "fuzzy_dedup", "dropped", f"near duplicate of {rep}", doc.source_id,
                                   doc.input_path, {"kept_doc_id": rep, "similarity": score, "cluster_size": size},
                                   nbytes)  # fmt: skip


class FuzzyDedup(beam.PTransform):
    """docs → ("doc", Document) | ("ledger", row) after near-duplicate removal."""

    def __init__(self, fuzzy, signature_batches: int) -> None:
        super().__init__()
        self.fuzzy = fuzzy
        self.signature_batches = max(1, signature_batches)

    def expand(self, docs):
        from pipelines.pipeline import bucket_of

        n = self.signature_batches
        fz = self.fuzzy
        band_items = (
            docs
            | "ToSignatureBatches" >> beam.Map(lambda d, n=n: (bucket_of(d.doc_id, n), (d.doc_id, d.text)))
            | "GroupSignatureBatches" >> beam.GroupByKey()
            | "SignAndBand" >> beam.ParDo(SignBatch(fz, n))
        )
        candidates = (
            band_items
            | "GroupBandPartitions" >> beam.GroupByKey()
            | "BucketEdges" >> beam.ParDo(BucketPartition(fz))
            | "GroupSameEdge" >> beam.GroupByKey()
            | "OneEdgeEach" >> beam.FlatMap(first_estimate)
        )
        if fz.verify == "true":
            at_left = (
                (candidates | "EdgeAtLeft" >> beam.Map(_tag_edge_by_left), docs | "TextAtLeft" >> beam.Map(_tag_text))
                | "JoinLeft" >> beam.Flatten()
                | "GroupLeft" >> beam.GroupByKey()
                | "CarryLeftText" >> beam.ParDo(CarryLeftText())
            )
            edges = (
                (at_left, docs | "TextAtRight" >> beam.Map(_tag_text))
                | "JoinRight" >> beam.Flatten()
                | "GroupRight" >> beam.GroupByKey()
                | "VerifyTrueJaccard" >> beam.ParDo(VerifyAtRight(fz))
            )
        else:
            edges = candidates
        clusters = (
            edges
            | "AllEdgesOneKey" >> beam.Map(lambda e: (0, e))
            | "GroupEdges" >> beam.GroupByKey()
            | "Components" >> beam.FlatMap(components)
        )
        return (
            (docs | "KeyDocsById" >> beam.Map(_tag_doc), clusters)
            | "JoinClusters" >> beam.Flatten()
            | "GroupByDocId" >> beam.GroupByKey()
            | "ApplyRemovals" >> beam.FlatMap(apply_removals)
        )
