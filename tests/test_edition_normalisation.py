"""The `spelling` normalisation level and the real-edition benchmarks, on small strings written for these tests (the
real editions live in a cache folder outside the repository; nothing here needs it)."""

from __future__ import annotations

import numpy as np
import pytest

from filters.dedup import MinHasher, normalize_for_shingles, true_jaccard
from filters.dedup.normalize import normalize_level
from schemas.policy import FuzzyDedup, PolicyError, load_policy

# the same sentence as an 1857 printing and a modernised edition print it (written for this test)
OLD = "Da gieng er vor die Thür, und es war ihm, als fieng der Rath an: „Was thust du da? Ich sag's ihm.“"
NEW = 'Da ging er vor die Tür, und es war ihm, als fing der Rat an: "Was tust du da? Ich sags ihm."'


def test_spelling_level_folds_old_german_spellings_and_inner_apostrophes():
    assert normalize_for_shingles(OLD, "spelling") == normalize_for_shingles(NEW, "spelling")
    assert normalize_for_shingles("Das Urtheil seyn, zwey Theile", "spelling") == "das urteil sein zwei teile"
    assert normalize_for_shingles("o'clock, l’homme", "spelling") == "oclock lhomme"
    # the basic level (the default) is unchanged: apostrophes split words, old spellings stay
    assert normalize_for_shingles("Ich sag's, die Thür") == "ich sag s die thür"
    assert normalize_for_shingles(OLD) != normalize_for_shingles(NEW)
    assert normalize_for_shingles(OLD, False) == OLD and normalize_for_shingles(OLD, "none") == OLD
    assert normalize_for_shingles(OLD, True) == normalize_for_shingles(OLD, "basic") == normalize_for_shingles(OLD)


def test_spelling_level_raises_edition_jaccard_and_keeps_different_texts_apart():
    other = "Es war einmal ein König, der hatte drei Söhne, und der jüngste hieß der Dummling."
    basic, spelling = true_jaccard(OLD, NEW, normalize=True), true_jaccard(OLD, NEW, normalize="spelling")
    assert spelling == 1.0 and basic < 0.8
    assert true_jaccard(OLD, other, normalize="spelling") < 0.2


def test_normalisation_levels_are_validated():
    assert [normalize_level(v) for v in (False, None, True, "none", "basic", "spelling")] == [
        "none", "none", "basic", "none", "basic", "spelling"]  # fmt: skip
    with pytest.raises(ValueError, match="normalize must be true, false or one of"):
        normalize_level("historic")
    with pytest.raises(ValueError, match="normalize must be"):
        MinHasher(8, backend="cpu", normalize="historic")
    assert MinHasher(8, backend="cpu", normalize="basic").normalize is True
    assert MinHasher(8, backend="cpu", normalize="none").normalize is False
    assert MinHasher.from_settings(FuzzyDedup(backend="cpu", normalize="spelling")).normalize == "spelling"


def test_spelling_signatures_are_cudf_signatures_of_the_folded_text():
    # the fold happens before either backend: the GPU receives the same strings the CPU reference hashes
    texts = [OLD, NEW, "", "  ’ ' "]
    for mode in ("char", "word"):
        on = MinHasher(16, mode=mode, ngrams=2, bits=32, seed=0, backend="cpu", normalize="spelling")
        off = MinHasher(16, mode=mode, ngrams=2, bits=32, seed=0, backend="cpu")
        folded = [normalize_for_shingles(t, "spelling") for t in texts]
        assert (on.signatures(texts) == off.signatures(folded)).all()
        assert (on.signatures(texts[:1]) == on.signatures(texts[1:2])).all()
        assert (on.signatures_cpu(texts) == on.signatures(texts)).all()
        basic = MinHasher(16, mode=mode, ngrams=2, bits=32, seed=0, backend="cpu", normalize=True)
        assert not np.array_equal(basic.signatures(texts[:1]), basic.signatures(texts[1:2]))


def test_policy_accepts_normalisation_levels_and_names_a_wrong_one(tmp_path):
    base = "policy_id: t1\nresidency:\n  regions:\n    eu: {jurisdictions: [SE], storage: shards/eu}\n"
    p = tmp_path / "p.yaml"
    p.write_text(base + "dedup: {fuzzy: {enabled: true, normalize: spelling}}\n")
    assert load_policy(p).fuzzy.normalize == "spelling"
    p.write_text(base + "dedup: {fuzzy: {enabled: true, normalize: historic}}\n")
    with pytest.raises(PolicyError, match="dedup.fuzzy.normalize"):
        load_policy(p)


def _tale(path, meta: str, text: str) -> None:
    path.write_text(f"# author: test\n# source: {meta}\n\n{text}\n", encoding="utf-8")


def test_real_edition_benchmark_on_a_small_folder(tmp_path):
    from benchmarks.real_editions import measure_real

    g = tmp_path / "grimm"
    g.mkdir()
    story = ("Es war einmal ein armer Müller, der hatte drei Söhne und eine Mühle, einen Esel und einen Kater; "
             "die Söhne mußten mahlen, der Esel Getreide holen und Mehl forttragen, und die Katze die Mäuse "
             "wegfangen. Als der Müller starb, theilten sich die drei Söhne in die Erbschaft.")  # fmt: skip
    other = ("Vor einem großen Walde wohnte ein armer Holzhacker mit seiner Frau und seinen zwei Kindern; das "
             "Bübchen hieß Hänsel und das Mädchen Gretel. Er hatte wenig zu beißen und zu brechen, und einmal, "
             "als große Theuerung ins Land kam, konnte er auch das tägliche Brot nicht mehr schaffen.")  # fmt: skip
    _tale(g / "khm-901.1857.md", "1857", story)
    _tale(g / "khm-901.2020.md", "2020", story.replace("theilten", "teilten").replace("mußten", "mussten"))
    _tale(g / "khm-902.1857.md", "1857", other)
    _tale(g / "khm-902.2020.md", "2020", other.replace("Theuerung", "Teuerung").upper())
    _tale(g / "khm-902.1812.md", "1812", "Ein Holzhacker hatte zwei Kinder, die im Walde verloren gingen.")
    r = measure_real(tmp_path)
    assert (r["documents"], r["edition_pairs"], r["revision_pairs"], r["other_pairs"]) == (5, 2, 2, 6)
    assert r["levels"]["none"]["edition_found"] == 1  # the upper-cased edition is missed on raw text
    for level in ("basic", "spelling"):
        assert r["levels"][level]["edition_found"] == 2 and r["levels"][level]["false_pairs"] == 0
        assert r["levels"][level]["revision_found"] == 0
    assert r["levels"]["spelling"]["edition_jaccard_min"] >= r["levels"]["basic"]["edition_jaccard_min"]


def test_real_benchmarks_skip_a_missing_folder(tmp_path, capsys):
    from benchmarks.edition_pairs import main
    from benchmarks.real_editions import measure_books

    assert main(["--real", str(tmp_path / "absent")]) == 0
    assert "no real editions" in capsys.readouterr().out
    assert measure_books(tmp_path) == []
