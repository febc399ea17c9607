"""Approvals that cannot be forged, manifests that cannot point outside their release, and digests that cover every
published file: each attack on a copy of the real demo release, refused with a clear message (issue #20)."""

from __future__ import annotations

import base64
import json
import logging
import os
import shutil
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import release as rel
from conftest import load_manifest
from pipelines.cli import main as terroir
from release import cli as release_cli
from release import signing
from release.publish import sha256_of

pytestmark = pytest.mark.slow


def _write_manifest(folder: Path, manifest: dict) -> None:
    (folder / "release.json").write_text(json.dumps(manifest, indent=2))


def _write_approval(folder: Path, record: dict) -> None:
    (folder / "approval.json").write_text(json.dumps(record, indent=2))


def _all_loaders_refuse(folder: Path, error, match: str) -> None:
    with pytest.raises(error, match=match):
        rel.open_release(folder)
    with pytest.raises(error, match=match):
        list(rel.iter_documents(folder))
    with pytest.raises(error, match=match):
        rel.open_release(folder, verify=False)


def _stranger(tmp_path_factory) -> signing.OfficerKey:
    """Someone with write access to the release folder and a key of their own, not in anyone's trust list."""
    return signing.generate_key("Mallory", tmp_path_factory.mktemp("stranger") / "keys")


# ---------------------------------------------------------------- 1. anyone can approve


def test_a_hand_written_approval_is_refused(release_copy, officer):
    manifest_sha = rel.read_manifest(release_copy)[1]
    _write_approval(release_copy, {"manifest_sha256": manifest_sha, "approved_by": "Maria Lindqvist", "note": "",
                                   "approved_at": "2026-11-30T10:00:00Z"})  # fmt: skip
    report = rel.verify(release_copy)
    assert report.integrity_ok and not report.approved
    assert "carries no signature" in report.approval_problem
    _all_loaders_refuse(release_copy, rel.UnapprovedReleaseError, "carries no signature")
    # a record in the signed format, naming the officer's key id, with a signature nobody could make
    forged = {"format": signing.APPROVAL_FORMAT, "manifest_sha256": manifest_sha, "approved_by": "Maria Lindqvist",
              "note": "", "approved_at": "2026-11-30T10:00:00Z", "pipeline_version": "terroir-0.1.0",
              "key_id": officer.key_id, "algorithm": "ed25519",
              "signature": base64.b64encode(os.urandom(64)).decode()}  # fmt: skip
    _write_approval(release_copy, forged)
    assert "does not verify" in rel.verify(release_copy).approval_problem
    _all_loaders_refuse(release_copy, rel.UnapprovedReleaseError, "does not verify")


@pytest.mark.parametrize(("field", "value"), [("approved_by", "Erik Svensson"), ("note", "no reservations"),
                                              ("approved_at", "2027-01-01T00:00:00Z"), ("extra", "x")])  # fmt: skip
def test_editing_any_field_of_a_real_approval_breaks_it(release_copy, officer, field, value):
    rel.approve(release_copy, "Maria Lindqvist", "gate green")
    assert rel.verify(release_copy).ok
    record = json.loads((release_copy / "approval.json").read_text())
    record[field] = value
    _write_approval(release_copy, record)
    report = rel.verify(release_copy)
    assert not report.approved and "changed after signing" in report.approval_problem
    _all_loaders_refuse(release_copy, rel.UnapprovedReleaseError, "changed after signing")


def test_an_injected_row_with_a_rehashed_manifest_and_a_new_approval_is_refused(release_copy, officer,
                                                                                tmp_path_factory):  # fmt: skip
    rel.approve(release_copy, "Maria Lindqvist", "")
    manifest = load_manifest(release_copy)
    entry = manifest["shards"][0]
    shard = release_copy / entry["path"]
    table = pq.read_table(shard)
    injected = table.slice(0, 1).to_pylist()[0] | {"doc_id": "injected-0001", "text": "An injected document. " * 10}
    pq.write_table(pa.concat_tables([table, pa.Table.from_pylist([injected], schema=table.schema)]), shard)
    entry.update(rows=entry["rows"] + 1, bytes=shard.stat().st_size, sha256=sha256_of(shard))
    _write_manifest(release_copy, manifest)
    report = rel.verify(release_copy)
    assert report.integrity_ok  # the attacker rehashed everything ...
    # ... but the old approval names the old digest
    assert not report.approved and "now has sha256" in report.approval_problem
    new_sha = rel.read_manifest(release_copy)[1]

    # an unsigned approval of the new digest
    _write_approval(release_copy, {"manifest_sha256": new_sha, "approved_by": "Maria Lindqvist"})
    _all_loaders_refuse(release_copy, rel.UnapprovedReleaseError, "carries no signature")

    # a real signature, by the attacker's own key
    mallory = _stranger(tmp_path_factory)
    private, _kid, _owner = signing.load_private_key(mallory.private_path)
    _write_approval(release_copy, signing.sign_approval(private, {"manifest_sha256": new_sha,
                                                                  "approved_by": "Maria Lindqvist"}))  # fmt: skip
    assert "not in the trust list" in rel.verify(release_copy).approval_problem
    _all_loaders_refuse(release_copy, rel.UnapprovedReleaseError, "not in the trust list")

    # the attacker's signature relabelled with the officer's key id
    record = json.loads((release_copy / "approval.json").read_text()) | {"key_id": officer.key_id}
    _write_approval(release_copy, record)
    _all_loaders_refuse(release_copy, rel.UnapprovedReleaseError, "does not verify")
    rows = rel.open_release(release_copy, allow_unapproved=True).to_table(columns=["doc_id"])["doc_id"].to_pylist()
    assert "injected-0001" in rows  # the injection is really there: only the approval check keeps it out


# ---------------------------------------------------------------- 2. paths outside the release


@pytest.mark.parametrize("kind", ["dotdot", "absolute", "symlink", "uri"])
def test_a_manifest_path_outside_the_release_is_refused_before_reading(release_copy, tmp_path, kind, officer):
    manifest = load_manifest(release_copy)
    entry = manifest["shards"][0]
    outside = tmp_path / "outside" / "evil.parquet"
    outside.parent.mkdir()
    shutil.copy(release_copy / entry["path"], outside)  # a readable Parquet file, so only the path check refuses it
    if kind == "dotdot":
        entry["path"] = "../outside/evil.parquet"
    elif kind == "absolute":
        entry["path"] = str(outside)
    elif kind == "uri":
        entry["path"] = f"file://{outside}"
    else:
        link = release_copy / "shards" / "eu" / "link.parquet"
        link.symlink_to(outside)
        entry["path"] = "shards/eu/link.parquet"
    _write_manifest(release_copy, manifest)
    report = rel.verify(release_copy)
    expected = {"dotdot": "contains '..'", "absolute": "outside the release folder; pass the policy",
                "uri": "outside the release folder; pass the policy",
                "symlink": "through a symbolic link"}[kind]  # fmt: skip
    assert not report.integrity_ok and any(expected in p for p in report.problems), report.problems
    check = next(f for f in report.files if f.path == entry["path"])
    assert check.actual_sha256 is None and check.problem.startswith("not read")  # never opened
    for kwargs in ({}, {"allow_unapproved": True, "verify": False}):
        with pytest.raises(rel.UnsafeReleaseError, match="outside the release"):
            rel.open_release(release_copy, **kwargs)
        with pytest.raises(rel.UnsafeReleaseError, match="refusing to read any of it"):
            list(rel.iter_documents(release_copy, **kwargs))
    with pytest.raises(rel.TamperedReleaseError, match="refusing to approve"):
        rel.approve(release_copy, "Maria Lindqvist", "")
    # a policy does not make an arbitrary outside folder acceptable: only the region's own storage is
    if kind != "symlink":
        with pytest.raises(rel.UnsafeReleaseError, match="not under the storage the policy names|contains"):
            rel.open_release(release_copy, allow_unapproved=True, policy=_demo_policy())


def _demo_policy() -> Path:
    from pipelines.tools.demo import demo_policy_path

    return demo_policy_path()


def test_a_shard_in_the_storage_the_policy_names_is_accepted(release_copy, tmp_path, officer):
    """The legitimate case next to the attack: a region stored in an absolute folder outside the release."""
    manifest = load_manifest(release_copy)
    eu_store = tmp_path / "eu-store"
    for s in manifest["shards"]:
        if s["residency_region"] == "eu":
            target = eu_store / Path(s["path"]).name
            target.parent.mkdir(exist_ok=True)
            shutil.move(release_copy / s["path"], target)
            s["path"] = str(target)
    _write_manifest(release_copy, manifest)
    policy = yaml.safe_load(_demo_policy().read_text())
    policy["residency"]["regions"]["eu"]["storage"] = str(eu_store)
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(yaml.safe_dump(policy))
    rel.approve(release_copy, "Maria Lindqvist", "", policy=policy_path)
    assert rel.verify(release_copy, policy=policy_path).ok
    assert rel.open_release(release_copy, policy=policy_path).count_rows() == manifest["counts"]["documents_published"]
    # the UK shards may not be moved into the EU storage: residency is part of the check
    uk = next(s for s in manifest["shards"] if s["residency_region"] == "uk")
    shutil.move(release_copy / uk["path"], eu_store / "uk.parquet")
    uk["path"] = str(eu_store / "uk.parquet")
    _write_manifest(release_copy, manifest)
    with pytest.raises(rel.UnsafeReleaseError, match=r"region uk"):
        rel.open_release(release_copy, allow_unapproved=True, policy=policy_path)


# ---------------------------------------------------------------- 3. every published file under the digest


@pytest.mark.parametrize("victim", ["report/index.html", "report/gate_results.json", "summary/eu_ai_act_summary.md",
                                    "croissant.json", "README.md", "ledger/gate.parquet"])  # fmt: skip
def test_editing_any_published_file_is_detected(release_copy, officer, victim):
    rel.approve(release_copy, "Maria Lindqvist", "")
    manifest = load_manifest(release_copy)
    listed = {e["path"] for key in ("ledger", "docs", "files") for e in manifest[key]}
    assert victim in listed
    path = release_copy / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    report = rel.verify(release_copy)
    assert not report.integrity_ok and report.approved
    assert [f.path for f in report.files if not f.ok] == [victim]
    assert any(victim in p and "sha256" in p for p in report.problems)


def test_the_manifest_lists_every_file_of_the_folder(release_copy):
    manifest = load_manifest(release_copy)
    on_disk = {p.relative_to(release_copy).as_posix() for p in release_copy.rglob("*") if p.is_file()}
    listed = {e["path"] for key in ("shards", "ledger", "docs", "files") for e in manifest[key]}
    assert on_disk - listed == {"release.json", "approval.html", "progress.log"}  # approval.html: the pending page
    assert {"report/index.html", "report/gate_results.json"} <= listed
    assert any(p.startswith("report/validations/") for p in listed)
    assert all(len(e["sha256"]) == 64 and e["bytes"] >= 0 for e in manifest["files"])


# ---------------------------------------------------------------- 4. stray files


def test_a_stray_shard_is_reported_by_verify_and_never_read(release_copy, officer):
    rel.approve(release_copy, "Maria Lindqvist", "")
    manifest = load_manifest(release_copy)
    rows = rel.open_release(release_copy).count_rows()
    shutil.copy(release_copy / manifest["shards"][0]["path"], release_copy / "shards" / "eu" / "extra.parquet")
    report = rel.verify(release_copy)
    assert report.stray == ["shards/eu/extra.parquet"] and not report.integrity_ok
    assert any("stray file shards/eu/extra.parquet" in p for p in report.problems)
    assert "stray file shards/eu/extra.parquet" in report.summary()
    assert rel.open_release(release_copy).count_rows() == rows  # loaders read only what the manifest lists
    with pytest.raises(rel.TamperedReleaseError, match="stray file"):
        rel.approve(release_copy, "Maria Lindqvist", "")
    (release_copy / "shards" / "eu" / "extra.parquet").unlink()
    (release_copy / "shards" / "linked").symlink_to(release_copy.parent, target_is_directory=True)
    assert rel.verify(release_copy).stray == ["shards/linked"]  # a linked folder is reported, not followed


# ---------------------------------------------------------------- the officer, end to end


def test_officer_approves_second_key_refused_revoked_key_refused(release_copy, officer, tmp_path_factory,
                                                                  monkeypatch):  # fmt: skip
    # 1. the officer's key approves; every loader accepts
    rel.approve(release_copy, note="report and gate results reviewed")
    approval = json.loads((release_copy / "approval.json").read_text())
    assert approval["approved_by"] == "Maria Lindqvist" and approval["key_id"] == officer.key_id
    report = rel.verify(release_copy)
    assert report.ok and report.signer == "Maria Lindqvist"
    n = load_manifest(release_copy)["counts"]["documents_published"]
    assert rel.open_release(release_copy).count_rows() == n
    assert len(list(rel.iter_documents(release_copy, columns=["doc_id"]))) == n
    assert rel.open_release(release_copy, trust=officer.trust_list).count_rows() == n  # trust given explicitly

    # 2. a second key, not in the trust list: `approve` refuses while a trust list is configured ...
    second = _stranger(tmp_path_factory)
    with pytest.raises(rel.ReleaseError, match="not in the trust list"):
        rel.approve(release_copy, "Mallory", key=second.private_path)
    # ... and an approval it signs anyway (no trust list on the attacker's side) is refused by every verifier
    with monkeypatch.context() as m:
        m.delenv(signing.TRUST_ENV)
        rel.approve(release_copy, "Maria Lindqvist", key=second.private_path)
    report = rel.verify(release_copy)
    assert not report.approved and f"signed by key {second.key_id}, which is not in the trust list" in (
        report.approval_problem)
    _all_loaders_refuse(release_copy, rel.UnapprovedReleaseError, "not in the trust list")

    # 3. the officer signs again; then the key is revoked (laptop lost): the approval made before is refused
    rel.approve(release_copy, "Maria Lindqvist")
    assert rel.verify(release_copy).ok
    assert terroir(["keys", "revoke", officer.key_id, "--trust-list", str(officer.trust_list),
                    "--reason", "laptop lost"]) == 0  # fmt: skip
    report = rel.verify(release_copy)
    assert not report.approved and "revoked" in report.approval_problem and "laptop lost" in report.approval_problem
    _all_loaders_refuse(release_copy, rel.UnapprovedReleaseError, "revoked")
    with pytest.raises(rel.ReleaseError, match="revoked"):
        rel.approve(release_copy, "Maria Lindqvist")  # and it cannot sign anything new
    with pytest.raises(signing.SigningError, match="revoked"):
        release_cli.trust_key(str(officer.trust_list), *signing.parse_public_key(officer.public_path.read_text()))


def test_a_revocation_list_from_another_source_is_honoured(release_copy, officer, tmp_path):
    rel.approve(release_copy, "Maria Lindqvist")
    revocations = tmp_path / "revoked.json"
    release_cli.revoke_key(str(revocations), officer.key_id, "compromised")
    policy = yaml.safe_load(_demo_policy().read_text()) | {"approval": {"trusted_keys": ["revoked.json"]}}
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(yaml.safe_dump(policy))
    assert rel.verify(release_copy).ok
    # the keys come from $TERROIR_TRUST, which comes first; the policy's revocations are honoured all the same
    report = rel.verify(release_copy, policy=policy_path)
    assert not report.approved and "revoked" in report.approval_problem and "compromised" in report.approval_problem
    with pytest.raises(rel.UnapprovedReleaseError, match="revoked"):
        rel.open_release(release_copy, policy=policy_path)


def test_rotation_keeps_earlier_approvals_and_retires_the_old_key(release_copy, officer, monkeypatch, capsys):
    rel.approve(release_copy, "Maria Lindqvist")
    old = officer.private_path
    assert terroir(["keys", "rotate", "--key", str(old), "--trust-list", str(officer.trust_list), "--keep-old"]) == 0
    assert "retired" in capsys.readouterr().out
    (new_key,) = set(old.parent.glob("*.key")) - {old}
    assert new_key.is_file() and stat.S_IMODE(new_key.stat().st_mode) == 0o600
    assert rel.verify(release_copy).ok  # signed before the rotation: still valid
    doc = signing.read_trust_doc(officer.trust_list)
    old_entry = next(k for k in doc["keys"] if k["key_id"] == officer.key_id)
    assert old_entry["retired_at"] and old_entry["replaced_by"] != officer.key_id
    # the old key may not sign after its retirement
    monkeypatch.setattr(signing, "now_utc", lambda: "2999-01-01T00:00:00Z")
    with pytest.raises(rel.ReleaseError, match="retired"):
        rel.approve(release_copy, "Maria Lindqvist", key=old)
    rel.approve(release_copy, "Maria Lindqvist", key=new_key)
    report = rel.verify(release_copy)
    assert report.ok and report.approval["key_id"] == old_entry["replaced_by"]
    # without --keep-old, rotation deletes the old private key
    assert terroir(["keys", "rotate", "--key", str(new_key), "--trust-list", str(officer.trust_list)]) == 0
    assert not new_key.exists()


def test_the_policy_can_name_the_trust_list(release_copy, officer, tmp_path, monkeypatch):
    policy = yaml.safe_load(_demo_policy().read_text())
    policy["approval"] = {"trusted_keys": [os.path.relpath(officer.trust_list, tmp_path)]}
    policy_path = tmp_path / "policy.yaml"
    policy_path.write_text(yaml.safe_dump(policy))
    rel.approve(release_copy, "Maria Lindqvist")
    monkeypatch.delenv(signing.TRUST_ENV)
    assert "no trust list is configured" in rel.verify(release_copy).approval_problem
    with pytest.raises(rel.UnapprovedReleaseError, match="no trust list is configured"):
        rel.open_release(release_copy)
    assert rel.verify(release_copy, policy=policy_path).ok
    assert rel.open_release(release_copy, policy=policy_path).count_rows() > 0
    # inline public key lines work as well
    inline = {"trusted_keys": [officer.public_path.read_text().strip()]}
    policy_path.write_text(yaml.safe_dump(policy | {"approval": inline}))
    assert rel.verify(release_copy, policy=policy_path).ok
    from schemas.policy import PolicyError, load_policy

    policy_path.write_text(yaml.safe_dump(policy | {"approval": {"trusted_keys": ["missing.json"]}}))
    with pytest.raises(PolicyError, match="approval.trusted_keys"):
        load_policy(policy_path)


# ---------------------------------------------------------------- keys stay secret


def test_no_secret_key_in_a_release_folder_or_a_log(release_copy, tmp_path, capsys, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    keys = tmp_path / "officer-keys"
    trust = tmp_path / "trust.json"
    assert terroir(["-v", "keys", "generate", "--owner", "Maria Lindqvist", "--key-dir", str(keys),
                    "--trust-list", str(trust)]) == 0  # fmt: skip
    key_file = next(keys.glob("*.key"))
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and stat.S_IMODE(keys.stat().st_mode) & 0o077 == 0
    pub_file = key_file.with_suffix(".pub")
    for argv in (["keys", "show", str(key_file)], ["keys", "export", "--key", str(key_file), "--out",
                 str(tmp_path / "export.pub")], ["keys", "list", "--trust-list", str(trust)],
                 ["approve", str(release_copy), "--key", str(key_file), "--trust", str(trust), "--note", "ok"],
                 ["verify", str(release_copy), "--trust", str(trust)],
                 ["verify", str(release_copy), "--trust", str(trust), "--json"]):  # fmt: skip
        assert terroir(["-v", *argv]) == 0, argv
    assert (tmp_path / "export.pub").read_text() == pub_file.read_text()

    # a key is never written into a release folder, and a key placed there is never used to sign
    with pytest.raises(signing.SigningError, match="inside the release folder"):
        signing.generate_key("Maria Lindqvist", release_copy / "keys")
    assert terroir(["keys", "generate", "--owner", "M", "--key-dir", str(release_copy / "shards")]) == 2
    planted = release_copy / "officer.key"
    shutil.copy(key_file, planted)
    planted.chmod(0o600)
    with pytest.raises(rel.ReleaseError, match="inside the release folder"):
        rel.approve(release_copy, "Maria Lindqvist", key=planted)
    planted.unlink()
    # a key file others can read is refused
    key_file.chmod(0o644)
    with pytest.raises(rel.ReleaseError, match="chmod 600"):
        rel.approve(release_copy, "Maria Lindqvist", key=key_file)
    key_file.chmod(0o600)

    from cryptography.hazmat.primitives import serialization

    private, _kid, _owner = signing.load_private_key(key_file)
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())  # fmt: skip
    pem_body = "".join(key_file.read_text().splitlines()[1:-1])
    secrets = [base64.b64encode(raw).decode(), raw.hex(), pem_body, pem_body[:40]]
    captured = capsys.readouterr()
    logged = captured.out + captured.err + caplog.text
    assert "ed25519:" in logged  # the commands did print key ids
    for secret in secrets:
        assert secret not in logged
    for f in release_copy.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert b"PRIVATE KEY" not in data, f
            assert not any(s.encode() in data for s in secrets), f


def test_a_passphrase_protected_key(release_copy, tmp_path, officer, monkeypatch):
    monkeypatch.setenv("OFFICER_PASSPHRASE", "correct horse battery staple")
    key = signing.generate_key("Maria Lindqvist", tmp_path / "locked", passphrase_env="OFFICER_PASSPHRASE")
    assert b"ENCRYPTED PRIVATE KEY" in key.private_path.read_bytes()
    with pytest.raises(rel.ReleaseError, match=signing.PASSPHRASE_ENV):
        rel.approve(release_copy, key=key.private_path)
    release_cli.trust_key(str(officer.trust_list), *signing.parse_public_key(key.public_path.read_text()))
    rel.approve(release_copy, key=key.private_path, passphrase_env="OFFICER_PASSPHRASE")
    assert rel.verify(release_copy).ok
    monkeypatch.setenv("OFFICER_PASSPHRASE", "wrong")
    with pytest.raises(rel.ReleaseError, match="passphrase is wrong"):
        rel.approve(release_copy, key=key.private_path, passphrase_env="OFFICER_PASSPHRASE")
