"""Approving and verifying a release: a compliance officer signs the manifest's digest, anyone checks it.

An approval is an Ed25519 signature by a compliance officer's key over the manifest's sha256, the approver's name, the
note and the time (`release.signing`); `release.json` itself is never touched again. `verify` refuses manifest paths
that point outside the release (or its regions' storage, as the policy names it) before reading anything, re-hashes
every listed file (local or remote, through pyarrow's filesystems), reports stray files, and checks the signature
against a trust list of officer public keys.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from release import signing
from release.documents.approval_view import approval_page_problem, write_approval_page
from release.files import OutsideReleaseError, locate, path_problems, stray_files
from release.manifest import (
    APPROVAL,
    ReleaseError,
    _hash,
    _policy,
    _storages,
    published_shards,
    read_manifest,
)
from schemas import PIPELINE_VERSION

log = logging.getLogger("terroir.release")


class TamperedReleaseError(ReleaseError):
    """Files of the release differ from what its manifest records; `report` holds every difference found."""

    def __init__(self, message: str, report: VerifyReport):
        super().__init__(message)
        self.report = report



@dataclass
class FileCheck:
    """One file compared with its manifest entry; `problem` is None when size and sha256 both match."""

    kind: str  # shard, ledger, doc, file
    path: str
    expected_bytes: int | None
    expected_sha256: str
    actual_bytes: int | None = None
    actual_sha256: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class VerifyReport:
    """The outcome of `verify`: integrity of the files, and whether a valid signed approval covers this manifest."""

    release_dir: str
    manifest_sha256: str | None = None
    files: list[FileCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # integrity problems, one line each
    stray: list[str] = field(default_factory=list)  # files in the folder the manifest does not list
    approval: dict | None = None
    approval_problem: str | None = None
    signer: str | None = None  # owner of the trusted key that signed, as the trust list names it
    page_problem: str | None = None  # approval.html shows something else than approval.json

    @property
    def integrity_ok(self) -> bool:
        """Every listed file exists with the recorded size and sha256, the manifest could be read, no stray file."""
        return self.manifest_sha256 is not None and not self.problems

    @property
    def approved(self) -> bool:
        """approval.json is a valid signature over the manifest's current sha256 by a trusted, unrevoked key."""
        return self.approval is not None and self.approval_problem is None

    @property
    def ok(self) -> bool:
        return self.integrity_ok and self.approved and self.page_problem is None

    def to_json(self) -> dict:
        return {
            "release_dir": self.release_dir,
            "ok": self.ok,
            "integrity_ok": self.integrity_ok,
            "approved": self.approved,
            "manifest_sha256": self.manifest_sha256,
            "problems": self.problems,
            "stray_files": self.stray,
            "approval": self.approval,
            "approval_problem": self.approval_problem,
            "signer": self.signer,
            "approval_page_problem": self.page_problem,
            "files": [asdict(f) | {"ok": f.ok} for f in self.files],
        }

    def summary(self) -> str:
        """Human-readable lines: what was checked, every problem, the approval."""
        n = {k: sum(1 for f in self.files if f.kind == k) for k in ("shard", "ledger", "doc", "file")}
        lines = [f"release:  {self.release_dir}", f"manifest: sha256 {self.manifest_sha256 or '-'}",
                 (f"checked:  {n['shard']} shard(s), {n['ledger']} ledger file(s), {n['doc']} document(s), "
                  f"{n['file']} report and other file(s)")]  # fmt: skip
        lines += [f"PROBLEM   {p}" for p in self.problems]
        if self.page_problem:
            lines.append(f"PROBLEM   {self.page_problem}")
        if self.approved:
            a = self.approval or {}
            lines.append(f"approval: signed by key {a.get('key_id')} ({self.signer or 'no owner in the trust list'}) "
                         f"as {a.get('approved_by')!r} at {a.get('approved_at')}")  # fmt: skip
        else:
            lines.append(f"approval: NOT APPROVED ({self.approval_problem})")
        verdict = ("OK" if self.ok else "FAILED" if not self.integrity_ok or self.page_problem
                   else "INTACT BUT UNAPPROVED")  # fmt: skip
        lines.append(f"result:   {verdict}")
        return "\n".join(lines)


def read_approval(release_dir: str | os.PathLike) -> dict | None:
    """The approval record, or None when the release has none. Raises `ReleaseError` when approval.json is not JSON."""
    path = Path(release_dir) / APPROVAL
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReleaseError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ReleaseError(f"{path}: not an approval record")
    return data


def _approval_status(release_dir, manifest_sha: str, trust) -> tuple[dict | None, str | None, str | None]:
    """(approval record, problem or None, signer's owner name) for the manifest with sha256 `manifest_sha`."""
    try:
        approval = read_approval(release_dir)
    except ReleaseError as exc:
        return None, str(exc), None
    if approval is None:
        return None, f"no {APPROVAL}", None
    key, problem = signing.check_approval(approval, manifest_sha, trust)
    return approval, problem, (key.owner if key is not None and problem is None else None)


def verify(release_dir: str | os.PathLike, *, shards: Iterable[str] | None = None, ledger: bool = True,
           trust=None, policy=None, strays: bool = True, approval_page: bool = True) -> VerifyReport:  # fmt: skip
    """Check where the manifest points, re-hash the release's files, and check its signed approval; reports, never
    raises for a bad release (a bad `policy` raises `PolicyError`, a bad trust file is the approval problem).

    Every manifest path must lie inside the release folder, or for a shard under its region's storage as `policy`
    (a path or `Policy`) names it; one that does not is a problem and is never opened. Then every published shard (or
    only the manifest paths in `shards`), every ledger file when `ledger` is true, every generated document and every
    other published file (`files`: report, gate results, quarantine) is compared by size and sha256 with the manifest;
    a missing or unreadable file is a problem, not an exception. With `strays`, files in the folder that the manifest
    does not list are problems too, and so is an approval.html that does not show what approval.json says (unless
    `approval_page` is false). The approval is checked against `trust` (see `signing.resolve_trust`).
    """
    report = VerifyReport(release_dir=str(release_dir))
    try:
        manifest, report.manifest_sha256 = read_manifest(release_dir)
    except ReleaseError as exc:
        report.problems.append(str(exc))
        report.approval_problem = "no manifest to approve"
        return report
    policy = _policy(policy)
    storages = _storages(release_dir, policy)
    unsafe = path_problems(release_dir, manifest, storages)
    report.problems += unsafe
    wanted = set(shards) if shards is not None else None
    entries = [("shard", s) for s in published_shards(manifest) if wanted is None or s["path"] in wanted]
    if wanted is not None:
        unknown = sorted(wanted - {s["path"] for s in manifest["shards"]})
        report.problems += [f"shard {p}: not in the manifest" for p in unknown]
    if ledger:
        entries += [("ledger", e) for e in manifest.get("ledger", [])]
    entries += [("doc", e) for e in manifest.get("docs", [])]
    if shards is None:
        entries += [("file", e) for e in manifest.get("files", [])]
    for kind, entry in entries:
        check = FileCheck(kind, entry["path"], entry.get("bytes"), entry.get("sha256", ""))
        try:
            fsys, path = locate(release_dir, entry, storages)
        except OutsideReleaseError:
            check.problem = "not read: points outside the release"  # reported above, with the reason
            report.files.append(check)
            continue
        try:
            check.actual_bytes, check.actual_sha256 = _hash(fsys, path)
        except (OSError, ValueError) as exc:  # missing file, unreachable store: a finding, not a crash
            check.problem = f"cannot be read: {' '.join(str(exc).split())[:200]}"
        else:
            if check.expected_bytes is not None and check.actual_bytes != check.expected_bytes:
                check.problem = f"size {check.actual_bytes} bytes, manifest says {check.expected_bytes}"
            elif check.actual_sha256 != check.expected_sha256:
                check.problem = f"sha256 {check.actual_sha256}, manifest says {check.expected_sha256}"
        if check.problem:
            report.problems.append(f"{kind} {check.path}: {check.problem}")
        report.files.append(check)
    if strays and shards is None:
        report.stray = stray_files(release_dir, manifest)
        report.problems += [f"stray file {p}: in the release folder but not in the manifest (no reader sees it; "
                            "remove it, or find out who put it there)" for p in report.stray]  # fmt: skip
        page = approval_page and approval_page_problem(release_dir, manifest, report.manifest_sha256,
                                                       _read_approval_quietly(release_dir))  # fmt: skip
        report.page_problem = page or None
    try:
        trust = signing.resolve_trust(trust, policy)
    except signing.SigningError as exc:
        report.approval, report.approval_problem = _read_approval_quietly(release_dir), f"trust list unusable: {exc}"
        return report
    report.approval, report.approval_problem, report.signer = _approval_status(release_dir, report.manifest_sha256,
                                                                               trust)  # fmt: skip
    return report


def _read_approval_quietly(release_dir) -> dict | None:
    try:
        return read_approval(release_dir)
    except ReleaseError:
        return None


def approve(release_dir: str | os.PathLike, by: str | None = None, note: str = "", *, key=None,
            passphrase_env: str | None = None, trust=None, policy=None) -> dict:  # fmt: skip
    """Sign an approval of exactly the manifest now in the folder; return the record written to approval.json.

    `key` is the officer's private key file (default: `signing.find_signing_key()`); `by` defaults to the owner
    named in the key's `.pub` file. Refuses (`ReleaseError`) without a name, without a usable key, with a key file
    inside the release folder, when release.json is missing, and when a trust list is configured (`trust`, the
    environment or the policy) that would not accept the key; refuses (`TamperedReleaseError`) when any file differs
    from the manifest, a path points outside or a stray file is present (the full `verify` runs first, so an approval
    is never given to files nobody checked). release.json is not modified; an earlier approval.json is replaced.
    `pipeline_version` names the Terroir version that verified and signed.
    """
    try:
        key_path = signing.find_signing_key(key)
        inside = signing.release_folder_above(key_path)
        if inside is not None:
            raise signing.SigningError(f"private key {key_path} lies inside the release folder {inside}; move it to "
                                       "your key folder, out of every release")  # fmt: skip
        private, key_id, owner = signing.load_private_key(key_path, passphrase_env)
    except signing.SigningError as exc:
        raise ReleaseError(str(exc)) from None
    by = (by or owner or "").strip()
    if not by:
        raise ReleaseError("an approval needs the approver's name (--by), or a key whose .pub file names its owner")
    policy = _policy(policy)
    report = verify(release_dir, trust=trust, policy=policy, approval_page=False)  # approving writes the page anew
    if report.manifest_sha256 is None:
        raise ReleaseError("; ".join(report.problems))
    if not report.integrity_ok:
        raise TamperedReleaseError(
            f"{release_dir}: refusing to approve, {len(report.problems)} problem(s):\n  "
            + "\n  ".join(report.problems),
            report,
        )
    record = signing.sign_approval(private, {
        "manifest_sha256": report.manifest_sha256, "approved_by": by, "note": note or "",
        "approved_at": signing.now_utc(), "pipeline_version": PIPELINE_VERSION,
    })  # fmt: skip
    try:
        configured = signing.resolve_trust(trust, policy)
    except signing.SigningError as exc:
        raise ReleaseError(f"trust list unusable: {exc}") from None
    if configured is not None:
        _key, problem = signing.check_approval(record, report.manifest_sha256, configured)
        if problem:
            raise ReleaseError(f"refusing to approve: the configured trust list would not accept it ({problem}); "
                               "add the public key with `terroir keys trust`")  # fmt: skip
    path = Path(release_dir) / APPROVAL
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    manifest, _sha = read_manifest(release_dir)
    write_approval_page(release_dir, manifest, report.manifest_sha256, record)  # the page beside the report
    log.info("approved %s: manifest sha256 %s, key %s", release_dir, record["manifest_sha256"], key_id)
    return record
