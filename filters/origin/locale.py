"""Declared locale and declared place, read from the response headers and the page's `<head>` (before extraction
throws the markup away): Content-Language, `<html lang>`, the page's own hreflang alternate, og:locale,
geo.region / geo.country, ICBM / geo.position, and schema.org addressCountry (JSON-LD or microdata, anywhere).

Only tags with a region subtag count (`de-AT` says Austria; `de` says only German). Malformed markup yields nothing.
"""

from __future__ import annotations

import re

from filters.origin.countries import COUNTRY_BOXES
from filters.origin.model import Signal
from schemas.jurisdictions import ISO_3166_ALPHA2

_HEAD_LIMIT = 65536
_TAG = re.compile(r"<(meta|link|html)\b([^>]{0,2000})>", re.IGNORECASE)
_ATTR = re.compile(r"""([a-zA-Z_:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_ADDRESS_COUNTRY = re.compile(
    r"""addressCountry["']?\s*(?::\s*(?:\{[^}]{0,200}?["'](?:name|identifier)["']\s*:\s*)?["']([A-Za-z]{2})["']"""
    r"""|[^>]{0,80}?content\s*=\s*["']([A-Za-z]{2})["'])""",
)
_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_]([A-Za-z]{4}))?[-_]([A-Za-z]{2})(?:$|[-_])")
_ALIASES = {"UK": "GB", "EL": "GR"}


def region_of_tag(tag: str | None) -> str | None:
    """Country of a BCP 47 / POSIX locale tag's region subtag (`de-AT`, `zh-Hant-TW`, `en_GB`), else None."""
    if not tag:
        return None
    m = _LANG_TAG.match(tag.strip())
    if not m:
        return None
    cc = m.group(2).upper()
    cc = _ALIASES.get(cc, cc)
    return cc if cc in ISO_3166_ALPHA2 else None


def _attrs(raw: str) -> dict[str, str]:
    return {k.lower(): (a if a is not None else b if b is not None else c) for k, a, b, c in _ATTR.findall(raw)}


def _same_page(href: str, url: str | None) -> bool:
    if not url:
        return False
    norm = lambda u: u.split("#", 1)[0].rstrip("/").lower().replace("http://", "https://")
    return norm(href) == norm(url)


def _icbm_country(content: str) -> str | None:
    nums = re.findall(r"-?\d{1,3}(?:\.\d+)?", content)
    if len(nums) != 2:
        return None
    lat, lon = float(nums[0]), float(nums[1])
    hits = [cc for cc, (s, w, n, e) in COUNTRY_BOXES.items() if s <= lat <= n and w <= lon <= e]
    return hits[0] if len(hits) == 1 else None


def locale_signals(html: str | None, headers: dict[str, str], url: str | None, weights) -> list[Signal]:
    """Signals from the Content-Language header and the page's markup; `weights` maps signal name → weight."""
    out: list[Signal] = []

    def add(name: str, cc: str | None, value: str) -> None:
        w = weights.get(name, 0.0)
        if cc and w > 0:
            out.append(Signal(name, cc, value[:40], w))

    for tag in (headers.get("content-language") or "").split(","):
        add("content_language", region_of_tag(tag), tag.strip())
    if not html:
        return out
    head = html[:_HEAD_LIMIT]
    end = head.lower().find("</head>")
    if end >= 0:
        head = head[:end]
    for kind, raw in _TAG.findall(head):
        kind = kind.lower()
        a = _attrs(raw)
        if kind == "html":
            add("html_lang", region_of_tag(a.get("lang") or a.get("xml:lang")), a.get("lang") or "")
        elif kind == "link":
            if (
                "alternate" in (a.get("rel") or "").lower()
                and a.get("hreflang")
                and _same_page(a.get("href", ""), url)
            ):
                add("hreflang", region_of_tag(a["hreflang"]), a["hreflang"])
        else:
            key = (a.get("property") or a.get("name") or a.get("http-equiv") or "").lower()
            content = a.get("content") or ""
            if key == "og:locale":
                add("og_locale", region_of_tag(content), content)
            elif key in ("geo.region", "geo.country"):
                cc = content.strip()[:2].upper()
                add("geo_region", _ALIASES.get(cc, cc) if cc in ISO_3166_ALPHA2 or cc in _ALIASES else None, content)
            elif key in ("icbm", "geo.position"):
                add("icbm", _icbm_country(content), content)
            elif key == "content-language":
                add("content_language", region_of_tag(content.split(",")[0]), content)
    if "addressCountry" in html:
        for m in _ADDRESS_COUNTRY.finditer(html):
            cc = (m.group(1) or m.group(2) or "").upper()
            cc = _ALIASES.get(cc, cc)
            add("schema_address", cc if cc in ISO_3166_ALPHA2 else None, cc)
    return out


#: the locale tags whose language subtag can be checked against the detected language
_TAGGED = ("content_language", "html_lang", "hreflang", "og_locale")
#: language subtags that name the same language as the detector's label (Norwegian Bokmål/Nynorsk, old ISO codes)
_SAME_LANGUAGE = {"nb": "no", "nn": "no", "iw": "he", "in": "id", "ji": "yi"}


def _language(code: str) -> str:
    code = code.lower()
    return _SAME_LANGUAGE.get(code, code)


def check_tag_languages(signals: list[Signal], lang: str | None) -> list[Signal]:
    """Locale tags whose language is not the page's detected language (`<html lang="en-US">` on a Norwegian page: a
    theme's or CMS's default) are kept for the ledger at weight 0, with a note: a tag that is wrong about the
    language says nothing about the region. Tags and languages that are not two-letter codes are left as they are."""
    if not lang or len(lang) != 2:
        return signals
    out = []
    for s in signals:
        primary = re.split(r"[-_]", s.value, maxsplit=1)[0]
        if s.name in _TAGGED and s.weight > 0 and len(primary) == 2 and _language(primary) != _language(lang):
            s = Signal(s.name, s.country, f"{s.value} (page in {lang})", 0.0)
        out.append(s)
    return out
