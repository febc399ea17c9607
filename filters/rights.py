"""Rights reservations found on an archived web response: TDMRep header and meta, `noai` robots directives, and the
`Content-Usage: train-ai=n` header. Returns (rights_status, rights_basis); status is allowed, reserved or unknown.
"""

from __future__ import annotations

import re

_META = re.compile(rb"<meta\s[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""(\w[\w-]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")


def _meta_tags(html: str) -> list[dict[str, str]]:
    head = html[:65536]
    out = []
    for m in re.finditer(r"<meta\s[^>]*>", head, re.IGNORECASE):
        attrs = {k.lower(): (a or b or c) for k, a, b, c in _ATTR.findall(m.group(0))}
        out.append(attrs)
    return out


def web_rights(headers: dict[str, str], html: str | None) -> tuple[str, str]:
    tdm = headers.get("tdm-reservation", "").strip()
    if tdm == "1":
        return "reserved", "tdmrep-header"
    if tdm == "0":
        return "allowed", "tdmrep-header"
    if tdm:
        return "unknown", "tdmrep-header-unparseable"
    if re.search(r"\bnoai\b", headers.get("x-robots-tag", ""), re.IGNORECASE):
        return "reserved", "x-robots-tag-noai"
    usage = headers.get("content-usage", "").replace(" ", "").lower()
    if re.search(r"(^|[,;])train-ai=n\b", usage):
        return "reserved", "content-usage-train-ai-n"
    if html:
        for attrs in _meta_tags(html):
            name = attrs.get("name", "").lower()
            content = attrs.get("content", "").strip().lower()
            if name == "tdm-reservation":
                if content == "1":
                    return "reserved", "tdmrep-meta"
                if content == "0":
                    return "allowed", "tdmrep-meta"
                return "unknown", "tdmrep-meta-unparseable"
            if name in ("robots", "googlebot", "ccbot", "gptbot") and re.search(r"\bnoai\b", content):
                return "reserved", "meta-robots-noai"
    return "allowed", "no-reservation-signal"
