"""Officer keys, trust lists and signed approvals (Ed25519, through the `cryptography` package).

An approval is a signature by a compliance officer's private key over a canonical payload: the sha256 of the
manifest (which lists every published file with its own sha256, so it covers them all), the approver's name, the
note, the time, the Terroir version and the id of the signing key. Names are metadata; the signature is what counts,
and changing any field of `approval.json` (the name included) breaks it.

- **Private key**: PKCS#8 PEM, mode 0600, in the officer's key folder (`$TERROIR_KEY_DIR`, else
  `$XDG_CONFIG_HOME/terroir/keys`, else `~/.config/terroir/keys`), optionally encrypted with a passphrase taken from
  an environment variable. It is never written inside a release folder, never printed and never logged.
- **Public key file** (`.pub`): one line, `terroir-ed25519 <base64 of the 32 raw key bytes> <owner>`.
- **Key id**: `ed25519:` and the first 32 hex digits of the sha256 of the raw public key; always computed from the
  key, never taken from a file.
- **Trust list** (JSON, `terroir-trust-list/1`): the officers' public keys a verifier accepts, each possibly retired
  (replaced by rotation: approvals made before the retirement stay valid), and a list of revoked key ids (every
  approval by a revoked key is refused, whenever it was made).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path

KEY_PREFIX = "terroir-ed25519"
APPROVAL_FORMAT = "terroir-approval/2"
TRUST_FORMAT = "terroir-trust-list/1"
TRUST_ENV = "TERROIR_TRUST"
KEY_DIR_ENV = "TERROIR_KEY_DIR"
SIGNING_KEY_ENV = "TERROIR_SIGNING_KEY"
PASSPHRASE_ENV = "TERROIR_KEY_PASSPHRASE"


class SigningError(ValueError):
    """A key, trust list or approval that cannot be used; the message says which file and what to do."""


def now_utc() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# ---------------------------------------------------------------- public keys


def _raw(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id_of(public_key) -> str:
    """`ed25519:` + 32 hex digits of the sha256 of the raw public key."""
    return "ed25519:" + hashlib.sha256(_raw(public_key)).hexdigest()[:32]


def public_key_line(public_key, owner: str) -> str:
    """The one-line public key file content: `terroir-ed25519 BASE64 OWNER`."""
    return f"{KEY_PREFIX} {base64.b64encode(_raw(public_key)).decode()} {' '.join(owner.split())}".rstrip()


def parse_public_key(text: str, where: str = "public key"):
    """(public key, owner) from a `terroir-ed25519 BASE64 OWNER` line; `SigningError` when it is not one."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    parts = text.strip().split(None, 2)
    if len(parts) < 2 or parts[0] != KEY_PREFIX:
        raise SigningError(f"{where}: not a Terroir public key (expected '{KEY_PREFIX} BASE64 OWNER')")
    try:
        raw = base64.b64decode(parts[1], validate=True)
        key = Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError):
        raise SigningError(f"{where}: the key is not 32 bytes of base64-encoded Ed25519 public key") from None
    return key, (parts[2] if len(parts) > 2 else "")


# ---------------------------------------------------------------- private keys


def default_key_dir() -> Path:
    """Where an officer's keys live unless a path is given: $TERROIR_KEY_DIR, $XDG_CONFIG_HOME/terroir/keys or
    ~/.config/terroir/keys."""
    if os.environ.get(KEY_DIR_ENV):
        return Path(os.environ[KEY_DIR_ENV]).expanduser()
    base = Path(os.environ["XDG_CONFIG_HOME"]) if os.environ.get("XDG_CONFIG_HOME") else Path.home() / ".config"
    return base / "terroir" / "keys"


def release_folder_above(path: str | os.PathLike) -> Path | None:
    """The release folder (one holding release.json) that contains `path`, or None."""
    p = Path(path).expanduser().resolve()
    for folder in (p, *p.parents):
        if (folder / "release.json").is_file():
            return folder
    return None


@dataclass(frozen=True)
class OfficerKey:
    """A generated key pair: where its files are, and its id. Holds no key material."""

    key_id: str
    owner: str
    private_path: Path
    public_path: Path


def _passphrase(env: str | None) -> bytes | None:
    if not env:
        return None
    value = os.environ.get(env)
    if not value:
        raise SigningError(f"the passphrase variable {env} is not set (or empty)")
    return value.encode("utf-8")


def generate_key(owner: str, key_dir: str | os.PathLike | None = None, *,
                 passphrase_env: str | None = None) -> OfficerKey:  # fmt: skip
    """Create an Ed25519 key pair in `key_dir` (default `default_key_dir()`): `<id>.key` (0600) and `<id>.pub`.

    Refuses (`SigningError`) an empty owner and a folder inside a release folder (a secret key must never travel with
    a release). The folder is created with mode 0700. With `passphrase_env`, the private key is encrypted with the
    passphrase in that environment variable.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not owner or not owner.strip():
        raise SigningError("a key needs its owner's name (--owner), e.g. the compliance officer's name")
    folder = Path(key_dir).expanduser() if key_dir is not None else default_key_dir()
    inside = release_folder_above(folder)
    if inside is not None:
        raise SigningError(f"refusing to write a private key inside the release folder {inside}; keep keys in "
                           f"your own key folder (default {default_key_dir()})")  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    secret = _passphrase(passphrase_env)
    private = Ed25519PrivateKey.generate()
    kid = key_id_of(private.public_key())
    crypt = serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, crypt)
    name = kid.split(":", 1)[1][:16]
    private_path, public_path = folder / f"{name}.key", folder / f"{name}.pub"
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    public_path.write_text(public_key_line(private.public_key(), owner) + "\n", encoding="utf-8")
    return OfficerKey(kid, " ".join(owner.split()), private_path, public_path)


def find_signing_key(path: str | os.PathLike | None = None) -> Path:
    """The private key file to sign with: `path`, else $TERROIR_SIGNING_KEY, else the only `.key` in the key folder."""
    if path:
        return Path(path).expanduser()
    if os.environ.get(SIGNING_KEY_ENV):
        return Path(os.environ[SIGNING_KEY_ENV]).expanduser()
    folder = default_key_dir()
    keys = sorted(folder.glob("*.key")) if folder.is_dir() else []
    if len(keys) == 1:
        return keys[0]
    found = f"{len(keys)} keys are" if keys else "no key is"
    raise SigningError(f"{found} in {folder}: name the officer's private key with --key FILE (or {SIGNING_KEY_ENV}); "
                       "create one with `terroir keys generate --owner NAME`")  # fmt: skip


def load_private_key(path: str | os.PathLike, passphrase_env: str | None = None):
    """(private key, key id, owner) from a PEM file. The owner comes from the `.pub` next to it, when there is one.

    Refuses a file that others may read (mode must be 0600 or stricter), a file that is not an Ed25519 private key,
    and a wrong or missing passphrase; the messages never contain key material.
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    p = Path(path).expanduser()
    if not p.is_file():
        raise SigningError(f"private key {p}: file not found")
    mode = stat.S_IMODE(p.stat().st_mode)
    if mode & 0o077:
        raise SigningError(f"private key {p}: readable by others (mode {mode:o}); run `chmod 600 {p}`")
    env = passphrase_env or (PASSPHRASE_ENV if os.environ.get(PASSPHRASE_ENV) else None)
    try:
        key = serialization.load_pem_private_key(p.read_bytes(), password=_passphrase(env) if env else None)
    except TypeError:
        raise SigningError(f"private key {p}: encrypted; set the passphrase in {PASSPHRASE_ENV} "
                           "(or name another variable with --passphrase-env)") from None  # fmt: skip
    except ValueError:
        raise SigningError(f"private key {p}: not a PEM private key, or the passphrase is wrong") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"private key {p}: not an Ed25519 key")
    owner = ""
    pub = p.with_suffix(".pub")
    if pub.is_file():
        pub_key, owner = parse_public_key(pub.read_text(encoding="utf-8"), str(pub))
        if _raw(pub_key) != _raw(key.public_key()):
            raise SigningError(f"{pub} holds another key than {p}")
    return key, key_id_of(key.public_key()), owner


# ---------------------------------------------------------------- trust lists


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    public_key: object
    owner: str
    source: str
    retired_at: str | None = None
    replaced_by: str | None = None


@dataclass
class TrustList:
    """Officer keys a verifier accepts, and revoked key ids (with when and why), merged from one or more files."""

    keys: dict[str, TrustedKey] = field(default_factory=dict)
    revoked: dict[str, dict] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{len(self.keys)} trusted key(s), {len(self.revoked)} revoked, from {', '.join(self.sources) or '-'}"


def new_trust_doc() -> dict:
    return {"format": TRUST_FORMAT, "keys": [], "revoked": []}


def read_trust_doc(path: str | os.PathLike) -> dict:
    """The raw trust-list document; `SigningError` when the file is missing or not a trust list."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise SigningError(f"trust list {p}: file not found")
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SigningError(f"trust list {p}: not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("format") != TRUST_FORMAT:
        raise SigningError(f"trust list {p}: not a Terroir trust list (expected \"format\": \"{TRUST_FORMAT}\")")
    for k in ("keys", "revoked"):
        if not isinstance(doc.setdefault(k, []), list):
            raise SigningError(f"trust list {p}: `{k}` must be a list")
    return doc


def write_trust_doc(path: str | os.PathLike, doc: dict) -> None:
    p = Path(path).expanduser()
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, p)


def _add_source(trust: TrustList, source: str) -> None:
    """Merge one source: a trust-list file, a `.pub` file, or an inline `terroir-ed25519 ...` line."""
    if source.strip().startswith(KEY_PREFIX + " "):
        key, owner = parse_public_key(source, "inline public key")
        kid = key_id_of(key)
        trust.keys[kid] = TrustedKey(kid, key, owner, "inline")
        trust.sources.append(f"inline key {kid}")
        return
    p = Path(source).expanduser()
    if not p.is_file():
        raise SigningError(f"trust source {p}: file not found")
    text = p.read_text(encoding="utf-8")
    trust.sources.append(str(p))
    if text.lstrip().startswith(KEY_PREFIX):
        key, owner = parse_public_key(text, str(p))
        trust.keys[key_id_of(key)] = TrustedKey(key_id_of(key), key, owner, str(p))
        return
    doc = read_trust_doc(p)
    for i, entry in enumerate(doc["keys"]):
        if not isinstance(entry, dict) or "public_key" not in entry:
            raise SigningError(f"trust list {p}: keys[{i}] has no public_key")
        key, owner = parse_public_key(entry["public_key"], f"trust list {p} keys[{i}]")
        kid = key_id_of(key)  # computed: a `key_id` written in the file is only a label
        if entry.get("key_id") not in (None, kid):
            raise SigningError(f"trust list {p}: keys[{i}] says key_id {entry['key_id']}, but its key is {kid}")
        trust.keys[kid] = TrustedKey(kid, key, entry.get("owner") or owner, str(p), entry.get("retired_at"),
                                     entry.get("replaced_by"))  # fmt: skip
    for i, entry in enumerate(doc["revoked"]):
        if not isinstance(entry, dict) or not str(entry.get("key_id", "")).startswith("ed25519:"):
            raise SigningError(f"trust list {p}: revoked[{i}] has no ed25519 key_id")
        trust.revoked[entry["key_id"]] = dict(entry) | {"source": str(p)}


def load_trust(sources) -> TrustList:
    """A `TrustList` merged from trust-list files, `.pub` files or inline public key lines (a str or a list)."""
    trust = TrustList()
    for source in [sources] if isinstance(sources, str | os.PathLike) else list(sources):
        _add_source(trust, str(source))
    return trust


def resolve_trust(trust=None, policy=None) -> TrustList | None:
    """The trust list a verifier uses: `trust` (a TrustList, a path or a list of paths), else $TERROIR_TRUST
    (paths separated by the OS path separator), else the policy's `approval.trusted_keys`. The first configured one
    gives the keys; revocations from every configured source are honoured. None when nothing is configured.
    """
    chosen: list[TrustList] = []
    if isinstance(trust, TrustList):
        chosen.append(trust)
    elif trust:
        chosen.append(load_trust(trust))
    if os.environ.get(TRUST_ENV):
        chosen.append(load_trust([s for s in os.environ[TRUST_ENV].split(os.pathsep) if s]))
    if policy is not None:
        if isinstance(policy, str | os.PathLike):
            from schemas.policy import load_policy

            policy = load_policy(policy)
        if policy.trusted_keys:
            chosen.append(load_trust(list(policy.trusted_keys)))
    if not chosen:
        return None
    result = TrustList(dict(chosen[0].keys), {}, list(chosen[0].sources))
    for t in chosen:
        result.revoked.update(t.revoked)
    return result


# ---------------------------------------------------------------- approvals


def approval_payload(record: dict) -> bytes:
    """The bytes that are signed: every field of the record except `signature`, as canonical JSON."""
    body = {k: v for k, v in record.items() if k != "signature"}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign_approval(private_key, fields: dict) -> dict:
    """The approval record: `fields` plus format, key id, algorithm and the Ed25519 signature over all of them."""
    record = {"format": APPROVAL_FORMAT, **fields, "key_id": key_id_of(private_key.public_key()),
              "algorithm": "ed25519"}  # fmt: skip
    record["signature"] = base64.b64encode(private_key.sign(approval_payload(record))).decode()
    return record


def check_approval(record: dict, manifest_sha256: str,
                   trust: TrustList | None) -> tuple[TrustedKey | None, str | None]:  # fmt: skip
    """(the trusted key that signed, None) when the approval is a valid signature over this manifest by a trusted,
    unrevoked key; else (None or the key, the reason in one line)."""
    from cryptography.exceptions import InvalidSignature

    if record.get("format") != APPROVAL_FORMAT or "signature" not in record:
        return None, ("approval.json carries no signature (written by hand, or by a Terroir before approvals were "
                      "signed); an officer signs it with `terroir approve DIR --key FILE`")  # fmt: skip
    if record.get("manifest_sha256") != manifest_sha256:
        return None, (f"approval.json approves manifest sha256 {record.get('manifest_sha256')}, but release.json "
                      f"now has sha256 {manifest_sha256}")  # fmt: skip
    if trust is None:
        return None, (f"no trust list is configured, so the signature cannot be checked: pass trust=/--trust FILE, "
                      f"set {TRUST_ENV}, or name approval.trusted_keys in the policy")  # fmt: skip
    kid = str(record.get("key_id"))
    if kid in trust.revoked:
        r = trust.revoked[kid]
        return trust.keys.get(kid), (f"signed by key {kid}, which was revoked at {r.get('revoked_at', '?')} "
                                     f"({r.get('reason') or 'no reason given'}; {r['source']})")  # fmt: skip
    key = trust.keys.get(kid)
    if key is None:
        return None, f"signed by key {kid}, which is not in the trust list ({trust.describe()})"
    try:
        key.public_key.verify(base64.b64decode(str(record["signature"]), validate=True), approval_payload(record))
    except (InvalidSignature, binascii.Error, ValueError):
        return None, (f"the signature by key {kid} does not verify: approval.json was changed after signing "
                      "(name, note, time or digest) or forged")  # fmt: skip
    if key.retired_at and not str(record.get("approved_at") or "") <= key.retired_at:
        return None, (f"signed at {record.get('approved_at')} by key {kid}, retired at {key.retired_at} "
                      f"(replaced by {key.replaced_by or '-'})")  # fmt: skip
    return key, None
