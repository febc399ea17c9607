"""Rights reservations of an archived web response, evaluated offline.

Signals, in the order they are consulted:

1. TDMRep (W3C community report): the origin's `/.well-known/tdmrep.json` snapshot when one is given (its first rule
   whose `location` matches the URL path applies), else the `tdm-reservation` / `tdm-policy` response headers, else the
   HTML `<meta name="tdm-reservation">`. A value other than 0 or 1 is a protocol error: the technique is skipped and
   the document's status becomes `unknown` unless a later technique decides.
2. robots.txt snapshots (RFC 9309): a URL disallowed for one of the policy's AI-training crawlers is an AI opt-out.
3. `X-Robots-Tag` and meta robots `noai`.
4. The IETF AI-preferences `Content-Usage` header: `train-ai=n` (and the policy's other categories) is a reservation.

`evaluate_rights` returns (rights_status, rights_basis); status is allowed, reserved or unknown.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_AI_CRAWLERS = ("GPTBot", "ChatGPT-User", "CCBot", "Google-Extended", "ClaudeBot", "anthropic-ai",
                       "Applebot-Extended", "PerplexityBot", "Bytespider", "Meta-ExternalAgent", "cohere-ai",
                       "Amazonbot", "Diffbot", "omgili", "Timpibot")  # fmt: skip

_ATTR = re.compile(r"""([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""")


# ---------------------------------------------------------------- path patterns (robots.txt and tdmrep.json)


def _normalize_path(path: str) -> str:
    # percent-decode unreserved characters only, so "/a%2Fb" keeps its encoded slash
    return re.sub(r"%([0-9A-Fa-f]{2})", lambda m: _decode_unreserved(m.group(1)), path)


def _decode_unreserved(hexpair: str) -> str:
    ch = chr(int(hexpair, 16))
    return ch if re.match(r"[A-Za-z0-9\-._~]", ch) else "%" + hexpair.upper()


def pattern_matches(pattern: str, path: str) -> bool:
    """RFC 9309 matching: `*` is any run of characters, a final `$` anchors the end; otherwise a prefix match."""
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(_normalize_path(part)) for part in body.split("*"))
    return re.match(regex + ("$" if anchored else ""), _normalize_path(path), re.DOTALL) is not None


def _path_of(url: str) -> str:
    parts = urlsplit(url)
    path = parts.path or "/"
    return path + ("?" + parts.query if parts.query else "")


# ---------------------------------------------------------------- TDMRep


@dataclass(frozen=True)
class TdmRule:
    location: str
    reservation: int | None  # 0, 1, or None for a protocol error
    policy: str | None = None


def parse_tdmrep_json(text: str) -> list[TdmRule]:
    """Parse a tdmrep.json snapshot. Raises ValueError when the file is not a JSON array of rule objects."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"tdmrep.json is not valid JSON: {exc.msg}") from None
    if not isinstance(data, list):
        raise ValueError("tdmrep.json must be a JSON array of rules")  # noqa: TRY004 - a parse error, not a caller bug
    rules = []
    for i, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("location"), str):
            raise ValueError(f"tdmrep.json rule #{i} needs a string 'location'")  # noqa: TRY004
        raw = item.get("tdm-reservation")
        value = raw if raw in (0, 1) and not isinstance(raw, bool) else None
        rules.append(TdmRule(item["location"], value, item.get("tdm-policy")))
    return rules


def tdmrep_file_decision(rules: list[TdmRule], url: str) -> TdmRule | None:
    """The first rule whose location matches the URL's path (publishers list the most specific first)."""
    path = _path_of(url)
    for rule in rules:
        if pattern_matches(rule.location, path):
            return rule
    return None


def _tdm_value(raw: str | None) -> tuple[bool, int | None]:
    """(present, value) where value is 0, 1, or None for a protocol error."""
    if raw is None:
        return False, None
    raw = raw.strip()
    return True, int(raw) if raw in ("0", "1") else None


def _meta_tags(html: str) -> list[dict[str, str]]:
    head = html[:131072]
    end = re.search(r"</head\s*>", head, re.IGNORECASE)
    head = head[: end.start()] if end else head
    return [{k.lower(): (a or b or c) for k, a, b, c in _ATTR.findall(m.group(0))}
            for m in re.finditer(r"<meta\s[^>]*>", head, re.IGNORECASE)]  # fmt: skip


# ---------------------------------------------------------------- robots.txt (RFC 9309)


@dataclass
class RobotsGroup:
    agents: list[str] = field(default_factory=list)
    rules: list[tuple[bool, str]] = field(default_factory=list)  # (allow, pattern)


def parse_robots(text: str) -> list[RobotsGroup]:
    """Groups of a robots.txt file; unknown lines are ignored, as RFC 9309 asks of crawlers."""
    groups: list[RobotsGroup] = []
    current: RobotsGroup | None = None
    last_was_agent = False
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if ":" not in line:
            continue
        key, value = (s.strip() for s in line.split(":", 1))
        key = key.lower()
        if key == "user-agent":
            if current is None or not last_was_agent:
                current = RobotsGroup()
                groups.append(current)
            current.agents.append(value.lower())
            last_was_agent = True
        elif key in ("allow", "disallow"):
            last_was_agent = False
            if current is not None and value:
                current.rules.append((key == "allow", value))
            elif current is not None and key == "disallow":
                pass  # an empty Disallow allows everything: nothing to add
        else:
            last_was_agent = False if key != "sitemap" else last_was_agent
    return groups


def robots_rules_for(groups: list[RobotsGroup], agent: str) -> tuple[list[tuple[bool, str]], bool]:
    """Rules that apply to `agent` (all groups naming it, merged), else the `*` groups; and whether it was named."""
    token = agent.lower()
    named = [g for g in groups if token in g.agents]
    if named:
        return [r for g in named for r in g.rules], True
    return [r for g in groups if "*" in g.agents for r in g.rules], False


def robots_allowed(rules: list[tuple[bool, str]], url: str) -> bool:
    """Longest matching pattern wins; on a tie, allow wins. `/robots.txt` is always allowed."""
    path = _path_of(url)
    if path == "/robots.txt":
        return True
    best: tuple[int, bool] | None = None
    for allow, pattern in rules:
        if pattern_matches(pattern, path):
            candidate = (len(pattern), allow)
            if best is None or candidate > best:
                best = candidate
    return True if best is None else best[1]


# ---------------------------------------------------------------- Content-Usage (IETF AI preferences)


def parse_content_usage(value: str) -> dict[str, bool]:
    """`train-ai=n, search=y` → {"train-ai": False, "search": True}. Parameters after `;` are ignored;
    a member with a value other than y or n is skipped (an unknown preference expresses nothing)."""
    out: dict[str, bool] = {}
    for member in value.split(","):
        member = member.split(";", 1)[0].strip()
        if "=" not in member:
            continue
        key, val = (s.strip().lower() for s in member.split("=", 1))
        val = val.strip('"')
        if re.fullmatch(r"[a-z*][a-z0-9_\-.*]*", key) and val in ("y", "n"):
            out[key] = val == "y"
    return out


# ---------------------------------------------------------------- the decision


@dataclass(frozen=True)
class RightsSnapshot:
    """Offline copies of one origin's rights files (either may be absent)."""

    robots_txt: str | None = None
    tdmrep_json: str | None = None


@dataclass(frozen=True)
class RightsConfig:
    ai_crawlers: tuple[str, ...] = DEFAULT_AI_CRAWLERS
    robots_wildcard_counts: bool = True  # a `*` group that disallows the URL also reserves it
    content_usage_categories: tuple[str, ...] = ("train-ai", "train-genai")


def evaluate_rights(
    url: str | None,
    headers: dict[str, str],
    html: str | None,
    snapshot: RightsSnapshot | None = None,
    config: RightsConfig = RightsConfig(),
) -> tuple[str, str]:
    """(rights_status, rights_basis) for one archived response, following the precedence in the module docstring."""
    unknown_basis = None

    # 1. TDMRep: file, then header, then meta
    tdm: tuple[int, str] | None = None
    if snapshot and snapshot.tdmrep_json is not None and url:
        try:
            rule = tdmrep_file_decision(parse_tdmrep_json(snapshot.tdmrep_json), url)
        except ValueError:
            rule, unknown_basis = None, "tdmrep-file-invalid"
        if rule is not None:
            if rule.reservation is None:
                unknown_basis = unknown_basis or "tdmrep-file-invalid-value"
            else:
                tdm = (rule.reservation, "tdmrep-file")
    if tdm is None:
        present, value = _tdm_value(headers.get("tdm-reservation"))
        if present and value is not None:
            tdm = (value, "tdmrep-header")
        elif present:
            unknown_basis = unknown_basis or "tdmrep-header-invalid-value"
    if tdm is None and html:
        for attrs in _meta_tags(html):
            if attrs.get("name", "").lower() == "tdm-reservation":
                present, value = _tdm_value(attrs.get("content"))
                if value is not None:
                    tdm = (value, "tdmrep-meta")
                else:
                    unknown_basis = unknown_basis or "tdmrep-meta-invalid-value"
                break
    if tdm is not None and tdm[0] == 1:
        return "reserved", tdm[1]

    # 2. robots.txt groups of AI-training crawlers
    if snapshot and snapshot.robots_txt is not None and url:
        groups = parse_robots(snapshot.robots_txt)
        for agent in config.ai_crawlers:
            rules, named = robots_rules_for(groups, agent)
            if (named or config.robots_wildcard_counts) and not robots_allowed(rules, url):
                return "reserved", f"robots-txt-disallow:{agent if named else '*'}"

    # 3. noai directives
    if re.search(r"\bnoai\b", headers.get("x-robots-tag", ""), re.IGNORECASE):
        return "reserved", "x-robots-tag-noai"
    if html:
        for attrs in _meta_tags(html):
            if attrs.get("name", "").lower() in ("robots", "googlebot", "ccbot", "gptbot") and re.search(
                r"\bnoai\b", attrs.get("content", ""), re.IGNORECASE
            ):
                return "reserved", "meta-robots-noai"

    # 4. Content-Usage
    usage = parse_content_usage(headers.get("content-usage", ""))
    for category in config.content_usage_categories:
        if usage.get(category) is False:
            return "reserved", f"content-usage-{category}-n"

    if tdm is not None:  # an explicit tdm-reservation: 0
        return "allowed", tdm[1]
    if unknown_basis:
        return "unknown", unknown_basis
    return "allowed", "no-reservation-signal"


def load_snapshots(folder: str) -> dict[str, RightsSnapshot]:
    """Read `<host>/robots.txt` and `<host>/.well-known/tdmrep.json` under `folder` (hosts lower-cased)."""
    from pathlib import Path

    out: dict[str, RightsSnapshot] = {}
    for host_dir in sorted(Path(folder).iterdir()):
        if not host_dir.is_dir():
            continue
        robots = host_dir / "robots.txt"
        tdm = host_dir / ".well-known" / "tdmrep.json"
        snap = RightsSnapshot(
            robots_txt=robots.read_text(encoding="utf-8", errors="replace") if robots.is_file() else None,
            tdmrep_json=tdm.read_text(encoding="utf-8", errors="replace") if tdm.is_file() else None,
        )
        if snap.robots_txt is not None or snap.tdmrep_json is not None:
            out[host_dir.name.lower()] = snap
    return out


def web_rights(headers: dict[str, str], html: str | None) -> tuple[str, str]:
    """Rights from the response alone (no URL, no snapshots)."""
    return evaluate_rights(None, headers, html)
