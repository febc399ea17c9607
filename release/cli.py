"""The officer's and the verifier's commands: `terroir approve`, `verify`, `explain`, `docs` and `keys ...`.

Exit codes: 0 done / intact and approved; 1 refused (tampered, unapproved, untrusted); 2 unusable input or
configuration (no release, a bad key, policy or trust list). Nothing here prints or logs private key material: a
command prints key ids, owners, file paths and public keys only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from release import signing
from release.approval import TamperedReleaseError, approve, verify
from release.manifest import ReleaseError


def _trust_args(p) -> None:
    p.add_argument("--trust", action="append", metavar="FILE",
                   help=f"trust list or .pub file of officer keys to accept; repeat for several (default: "
                   f"${signing.TRUST_ENV}, else the policy's approval.trusted_keys)")  # fmt: skip
    p.add_argument("--policy", help="the policy: names the region storage shards may live in, and trusted keys")


def add_release_commands(sub) -> None:
    """Add `approve`, `verify`, `explain`, `docs` and `keys` to the `terroir` argparse sub-parsers."""
    a = sub.add_parser("approve", help="sign an approval of a verified release with the officer's private key")
    a.add_argument("release", metavar="DIR", help="release folder (holds release.json)")
    a.add_argument("--key", metavar="FILE", help=f"the officer's private key (default: ${signing.SIGNING_KEY_ENV}, "
                   "else the only key in the key folder)")  # fmt: skip
    a.add_argument("--by", metavar="NAME", help="who approves (default: the owner named in the key's .pub file)")
    a.add_argument("--note", default="", metavar="TEXT", help="why, or with what reservation")
    a.add_argument("--passphrase-env", metavar="VAR", help="environment variable holding the key's passphrase")
    _trust_args(a)
    v = sub.add_parser("verify", help="check paths, re-hash every published file, report strays, check the signature")
    v.add_argument("release", metavar="DIR", help="release folder (holds release.json)")
    v.add_argument("--json", action="store_true", help="print the full report as JSON")
    v.add_argument("--allow-unapproved", action="store_true", help="exit 0 when intact even if not approved")
    _trust_args(v)
    d = sub.add_parser("docs", help="(re)write a release's AI Act summary, Croissant metadata and dataset card")
    d.add_argument("release", metavar="DIR", help="release folder (holds release.json)")
    d.add_argument("--policy", required=True, help="the policy file the release was built with")
    d.add_argument("--sme", action="store_true", help="list the top 5%% of domains (at most 1,000), as for SMEs")
    _keys_parser(sub)
    from release.explain import add_explain_command

    add_explain_command(sub)


def _keys_parser(sub) -> None:
    k = sub.add_parser("keys", help="officer signing keys and trust lists: generate, show, export, trust, rotate, "
                       "revoke, list")  # fmt: skip
    ks = k.add_subparsers(dest="keys_command", required=True)
    g = ks.add_parser("generate", help="create an Ed25519 key pair in your key folder (private key mode 0600)")
    g.add_argument("--owner", required=True, help="the officer's name, recorded in the public key")
    g.add_argument("--key-dir", help=f"folder for the keys (default: ${signing.KEY_DIR_ENV}, else "
                   "~/.config/terroir/keys)")  # fmt: skip
    g.add_argument("--passphrase-env", metavar="VAR", help="encrypt the private key with the passphrase in VAR")
    g.add_argument("--trust-list", metavar="FILE", help="also add the public key to this trust list")
    s = ks.add_parser("show", help="print the key id, owner and public key of a private or public key file")
    s.add_argument("key", nargs="?", help="a .key or .pub file (default: the signing key)")
    s.add_argument("--passphrase-env", metavar="VAR")
    e = ks.add_parser("export", help="write the public key (.pub) of a private key, to hand to verifiers")
    e.add_argument("--key", help="the private key (default: the signing key)")
    e.add_argument("--out", required=True, metavar="FILE.pub")
    e.add_argument("--passphrase-env", metavar="VAR")
    t = ks.add_parser("trust", help="add a public key to a trust list (created when missing)")
    t.add_argument("public_key", metavar="FILE.pub")
    t.add_argument("--trust-list", required=True, metavar="FILE")
    r = ks.add_parser("rotate", help="new key for the same officer: trusted, the old one retired and its private "
                      "file deleted")  # fmt: skip
    r.add_argument("--key", help="the key being replaced (default: the signing key)")
    r.add_argument("--trust-list", required=True, metavar="FILE")
    r.add_argument("--owner", help="owner of the new key (default: the old key's owner)")
    r.add_argument("--passphrase-env", metavar="VAR")
    r.add_argument("--keep-old", action="store_true", help="keep the old private key file")
    v = ks.add_parser("revoke", help="revoke a key: every approval it signed is refused from now on")
    v.add_argument("key", metavar="KEY_ID|FILE.pub")
    v.add_argument("--trust-list", required=True, metavar="FILE")
    v.add_argument("--reason", required=True, help="why (e.g. 'laptop lost', 'officer left')")
    lst = ks.add_parser("list", help="the keys and revocations of a trust list")
    lst.add_argument("--trust-list", required=True, metavar="FILE")


def _say_error(exc: Exception) -> None:
    print(f"terroir: {exc}", file=sys.stderr)


def run_release_command(args) -> int:
    """Run `approve`, `verify`, `docs` or `keys`; return the exit code (0 ok, 1 refused or failed, 2 unusable)."""
    from schemas.policy import PolicyError

    if args.command == "keys":
        try:
            return run_keys_command(args)
        except (signing.SigningError, PolicyError) as exc:
            _say_error(exc)
            return 2
    if args.command == "approve":
        try:
            record = approve(args.release, args.by, args.note, key=args.key, passphrase_env=args.passphrase_env,
                             trust=args.trust, policy=args.policy)  # fmt: skip
        except TamperedReleaseError as exc:
            _say_error(exc)
            return 1
        except (ReleaseError, PolicyError) as exc:
            _say_error(exc)
            return 2
        print(f"approved: {args.release} (manifest sha256 {record['manifest_sha256']}) by {record['approved_by']}, "
              f"signed with key {record['key_id']}")  # fmt: skip
        if signing.resolve_trust(args.trust, args.policy) is None:
            print(f"note:     no trust list is configured here; verifiers accept this approval only with key "
                  f"{record['key_id']} in theirs (`terroir keys trust`)")  # fmt: skip
        return 0
    if args.command == "verify":
        try:
            trust = signing.resolve_trust(args.trust, args.policy)
            report = verify(args.release, trust=trust, policy=args.policy)
        except (signing.SigningError, PolicyError) as exc:
            _say_error(exc)
            return 2
        print(json.dumps(report.to_json(), indent=2) if args.json else report.summary())
        if report.manifest_sha256 is None:
            return 2
        usable = report.integrity_ok and not report.page_problem
        return 0 if usable and (report.approved or args.allow_unapproved) else 1
    if args.command == "explain":
        from release.explain import run_explain_command

        return run_explain_command(args)
    if args.command == "docs":
        from release.documents.writer import regenerate_docs

        try:
            written = regenerate_docs(args.release, args.policy, sme=args.sme)
        except (ReleaseError, PolicyError) as exc:
            _say_error(exc)
            return 2
        for entry in written:
            print(f"wrote:    {Path(args.release) / entry['path']}")
        return 0
    raise ValueError(f"not a release command: {args.command}")


# ---------------------------------------------------------------- keys


def _trust_doc(path: str) -> dict:
    return signing.read_trust_doc(path) if Path(path).expanduser().exists() else signing.new_trust_doc()


def _public_of(path: str, passphrase_env: str | None = None):
    """(public key, key id, owner) of a .pub or .key file (a .key's owner comes from its .pub)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise signing.SigningError(f"{p}: file not found")
    head = p.read_bytes()[:64]
    if head.startswith(signing.KEY_PREFIX.encode()):
        key, owner = signing.parse_public_key(p.read_text(encoding="utf-8"), str(p))
        return key, signing.key_id_of(key), owner
    private, kid, owner = signing.load_private_key(p, passphrase_env)
    return private.public_key(), kid, owner


def trust_key(trust_list: str, public_key, owner: str) -> str:
    """Add (or re-add) a public key to a trust list file; returns its key id. A revoked key cannot be re-added."""
    doc = _trust_doc(trust_list)
    kid = signing.key_id_of(public_key)
    if any(r.get("key_id") == kid for r in doc["revoked"]):
        raise signing.SigningError(f"key {kid} is revoked in {trust_list}; generate a new key instead")
    doc["keys"] = [k for k in doc["keys"] if k.get("key_id") != kid]
    doc["keys"].append({"key_id": kid, "owner": owner, "public_key": signing.public_key_line(public_key, owner),
                        "added_at": signing.now_utc()})  # fmt: skip
    signing.write_trust_doc(trust_list, doc)
    return kid


def revoke_key(trust_list: str, key_id: str, reason: str) -> None:
    """Add `key_id` to the trust list's revocations (the key entry stays, so the list says whose key it was)."""
    doc = _trust_doc(trust_list)
    if not any(r.get("key_id") == key_id for r in doc["revoked"]):
        doc["revoked"].append({"key_id": key_id, "revoked_at": signing.now_utc(), "reason": reason})
    signing.write_trust_doc(trust_list, doc)


def rotate_key(old_key: Path, trust_list: str, owner: str | None = None, passphrase_env: str | None = None,
               keep_old: bool = False) -> signing.OfficerKey:  # fmt: skip
    """A new key in the old key's folder, added to the trust list; the old entry retired (approvals it signed before
    now stay valid), and its private file deleted unless `keep_old`."""
    _private, old_id, old_owner = signing.load_private_key(old_key, passphrase_env)
    new = signing.generate_key(owner or old_owner, old_key.parent, passphrase_env=passphrase_env)
    doc = _trust_doc(trust_list)
    now = signing.now_utc()
    for entry in doc["keys"]:
        if entry.get("key_id") == old_id:
            entry["retired_at"], entry["replaced_by"] = now, new.key_id
    signing.write_trust_doc(trust_list, doc)
    new_pub, _kid, new_owner = _public_of(str(new.public_path))
    trust_key(trust_list, new_pub, new_owner)
    if not keep_old:
        old_key.unlink()
    return new


def run_keys_command(args) -> int:
    c = args.keys_command
    if c == "generate":
        key = signing.generate_key(args.owner, args.key_dir, passphrase_env=args.passphrase_env)
        print(f"key id:      {key.key_id} ({key.owner})")
        print(f"private key: {key.private_path} (mode 600; keep it on this machine, never in a release folder)")
        print(f"public key:  {key.public_path} (hand this to verifiers: `terroir keys trust {key.public_path.name} "
              "--trust-list FILE`)")  # fmt: skip
        if args.trust_list:
            pub, _kid, owner = _public_of(str(key.public_path))
            trust_key(args.trust_list, pub, owner)
            print(f"trusted in:  {args.trust_list}")
        return 0
    if c == "show":
        pub, kid, owner = _public_of(args.key or str(signing.find_signing_key()), args.passphrase_env)
        print(f"key id:     {kid}\nowner:      {owner or '-'}\npublic key: {signing.public_key_line(pub, owner)}")
        return 0
    if c == "export":
        pub, kid, owner = _public_of(str(signing.find_signing_key(args.key)), args.passphrase_env)
        Path(args.out).write_text(signing.public_key_line(pub, owner) + "\n", encoding="utf-8")
        print(f"wrote public key {kid} to {args.out}")
        return 0
    if c == "trust":
        pub, _kid, owner = _public_of(args.public_key)
        print(f"trusted key {trust_key(args.trust_list, pub, owner)} ({owner or '-'}) in {args.trust_list}")
        return 0
    if c == "rotate":
        old = signing.find_signing_key(args.key)
        new = rotate_key(old, args.trust_list, args.owner, args.passphrase_env, args.keep_old)
        print(f"new key:     {new.key_id} ({new.owner}): {new.private_path}, public {new.public_path}")
        print(f"old key:     retired in {args.trust_list}" + ("" if args.keep_old else f"; {old} deleted"))
        print("publish the updated trust list to every verifier")
        return 0
    if c == "revoke":
        kid = args.key if args.key.startswith("ed25519:") else _public_of(args.key)[1]
        revoke_key(args.trust_list, kid, args.reason)
        print(f"revoked key {kid} in {args.trust_list}: every approval it signed is now refused; publish the list")
        return 0
    if c == "list":
        trust = signing.load_trust(args.trust_list)
        for kid, k in sorted(trust.keys.items()):
            state = ("REVOKED" if kid in trust.revoked else f"retired {k.retired_at}" if k.retired_at else "trusted")
            print(f"{kid}  {state:<30} {k.owner}")
        for kid in sorted(set(trust.revoked) - set(trust.keys)):
            print(f"{kid}  REVOKED")
        return 0
    raise ValueError(f"not a keys command: {c}")

