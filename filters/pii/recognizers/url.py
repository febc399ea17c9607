"""URLs that point at a person: profile pages, home directories, personal handles and user parameters.

`PersonalUrlRecognizer` (PERSONAL_URL) reads the scan's "url" candidates (a scheme or "www.") and "host" candidates
(".tld/" of a host name followed by a path, extended back to the host's start), and reports the URL when its path
or query names a person:

- a segment starting with "~" or "@" ("/~jdoe/", "youtube.com/@maria"), or holding an e-mail address;
- a segment after a people word ("/users/jdoe", "/profile/…", "/in/maria-garcia", "/perfil/…", "/benutzer/…",
  "/membres/…", "/autor/…");
- the first segment on a social or code-hosting site ("facebook.com/jan.kowalski", "github.com/jdoe",
  "instagram.com/ana_lopez"), unless it is one of the site's own pages ("/help", "/login", "/watch", "/share");
- a query parameter that carries a user ("?user=", "?username=", "?email=", "?uid=", "?profile=").

Other URLs (a news article, an organisation's page) are not personal data and are left alone; Presidio's general
`URL` recognizer stays available as its own entity. Score 0.6, "pattern" tier.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlsplit

from presidio_analyzer import RecognizerResult

from filters.national_ids.recognizer import PATTERN
from filters.pii.recognizers.scan import ScanRecognizer, scan, window

ENTITY = "PERSONAL_URL"
SCORE = 0.6

PEOPLE_SEGMENTS = frozenset((
    "user", "users", "u", "people", "person", "persons", "profile", "profiles", "member", "members", "author",
    "authors", "staff", "student", "students", "in", "pub", "perfil", "perfiles", "usuario", "usuarios", "autor",
    "autores", "miembro", "miembros", "benutzer", "mitglied", "mitglieder", "profil", "profile.php", "utilisateur",
    "utilisateurs", "membre", "membres", "auteur", "utente", "utenti", "autore", "gebruiker", "gebruikers", "leden",
    "lid", "anvandare", "användare", "medlem", "medlemmar", "kayttaja", "käyttäjä", "jasen", "jäsen", "uzytkownik",
    "użytkownik", "homepage", "homepages", "home", "~", "channel", "c",
))  # fmt: skip
SOCIAL_HOSTS = frozenset((
    "facebook.com", "fb.com", "instagram.com", "twitter.com", "x.com", "tiktok.com", "linkedin.com", "github.com",
    "gitlab.com", "youtube.com", "medium.com", "flickr.com", "pinterest.com", "reddit.com", "vk.com", "threads.net",
    "mastodon.social", "bsky.app", "tumblr.com", "soundcloud.com", "vimeo.com", "twitch.tv", "t.me", "telegram.me",
    "snapchat.com", "patreon.com", "xing.com", "bitbucket.org", "codeberg.org", "researchgate.net", "orcid.org",
    "academia.edu",
))  # fmt: skip
SITE_PAGES = frozenset((
    "about", "help", "login", "logout", "signup", "register", "share", "sharer", "sharer.php", "search", "explore",
    "settings", "policies", "policy", "privacy", "terms", "legal", "watch", "hashtag", "events", "groups", "pages",
    "business", "ads", "developers", "docs", "blog", "jobs", "careers", "home", "index.html", "marketplace",
    "features", "pricing", "topics", "trending", "notifications", "messages", "intent", "i", "status", "embed",
    "tos", "features", "contact", "press", "security", "sitemap.xml", "robots.txt",
))  # fmt: skip
USER_PARAMS = frozenset((
    "user", "username", "user_id", "userid", "uid", "email", "mail", "login", "profile", "author", "member",
    "handle",
))  # fmt: skip
_HOST_CHARS = re.compile(r"[a-z0-9.\-]", re.IGNORECASE)
_PATH = re.compile(r"[^\s<>\"'()\[\]{}]*")
_TRAILING = ".,;:!?»”’"
_EMAIL = re.compile(r"[\w.+\-]+@[\w\-]+\.[\w.\-]+")


def is_personal(url: str) -> bool:
    """Whether `url` (with or without a scheme) names a person in its path or query."""
    parts = urlsplit(url if "://" in url else f"http://{url}")
    host = (parts.hostname or "").lower()
    host = host.removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    for i, seg in enumerate(segments):
        low = seg.lower()
        if seg[0] in "~@" and len(seg) > 1 or _EMAIL.search(seg):
            return True
        if low in PEOPLE_SEGMENTS and i + 1 < len(segments) and segments[i + 1].lower() not in SITE_PAGES:
            return True
    social = host in SOCIAL_HOSTS or any(host.endswith("." + h) for h in SOCIAL_HOSTS)
    if social and segments and segments[0].lower() not in SITE_PAGES | PEOPLE_SEGMENTS:
        return True
    return any(k.lower() in USER_PARAMS and v for k, v in parse_qsl(parts.query))


class PersonalUrlRecognizer(ScanRecognizer):
    """PERSONAL_URL: a URL whose path or query names a person (see the module docstring)."""

    ENTITY = ENTITY
    TIER = PATTERN

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        cands = scan(text)
        out = []
        last_end = -1
        spans = sorted([(s, e, "url") for s, e in cands.of("url")] + [(s, e, "host") for s, e in cands.of("host")])
        for start, end, kind in spans:
            if start < last_end:
                continue  # inside a URL already read
            if kind == "host":
                lo, _ = window(text, start - 253, start)
                s = start
                while s > lo and _HOST_CHARS.match(text[s - 1]):
                    s -= 1
                if s == start or (s > 0 and (text[s - 1].isalnum() or text[s - 1] in "@/.")):
                    continue
                start = s
            _, hi = window(text, end, end + 400)
            e = _PATH.match(text, end, hi).end()
            while e > start and text[e - 1] in _TRAILING:
                e -= 1
            last_end = e
            if is_personal(text[start:e]):
                out.append(self.result(start, e, SCORE))
        return out
