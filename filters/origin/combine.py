"""Combine independent origin signals into one decision with a basis and a confidence.

A family is one witness (three locale tags set by one CMS setting are not three witnesses): it votes for its
strongest country, with the margin over its runner-up when its signals disagree. Across families:

    support(c)    = 1 - Π (1 - v_f)   over the families f voting for c
    opposition(c) = 1 - Π (1 - o_f)   over the families voting for another country
    confidence(c) = support(c) × (1 - opposition(c))

where o_f = v_f, except that a server in a hosting hub (the registry country of the big content-delivery networks and
clouds: US, IE, NL, GB, DE) does not oppose: hosting on a CDN is common, so it says nothing against c.

The country with the highest confidence is placed when it reaches the policy's minimum; a tie places nothing. A
strong ccTLD (0.95) survives one middling contradiction (a foreign content-delivery network) but not a foreign server,
locale and language together (a .de page served from Japan in Japanese is not silently German).
"""

from __future__ import annotations

from collections import defaultdict

from filters.origin.model import HOSTING_HUBS, HUB_OPPOSITION, OriginDecision, Signal


def _noisy_or(weights) -> float:
    p = 1.0
    for w in weights:
        p *= 1.0 - w
    return 1.0 - p


def family_votes(signals: list[Signal]) -> dict[str, tuple[str, float]]:
    """family → (country, weight): each family is one witness. Its signals' strongest weight per country is taken;
    when they disagree, the family testifies for its strongest country with the margin over the runner-up (an
    `en_US` og:locale left at a theme's default weakens, but does not reverse, an `<html lang="de-DE">`)."""
    best: dict[str, dict[str, float]] = defaultdict(dict)
    for s in signals:
        fam = best[s.family]
        fam[s.country] = max(fam.get(s.country, 0.0), s.weight)
    votes = {}
    for family, by_country in best.items():
        ranked = sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))
        margin = ranked[0][1] - (ranked[1][1] if len(ranked) > 1 else 0.0)
        if margin > 0:
            votes[family] = (ranked[0][0], round(margin, 6))
    return votes


def confidences(signals: list[Signal]) -> dict[str, tuple[float, float, float]]:
    """country → (confidence, support, opposition), each rounded to 3 decimals."""
    votes = family_votes(signals)
    out = {}
    for c in {s.country for s in signals}:
        support = _noisy_or(w for cc, w in votes.values() if cc == c)
        opposition = _noisy_or(
            w * (HUB_OPPOSITION if fam == "server" and cc in HOSTING_HUBS else 1.0)
            for fam, (cc, w) in votes.items()
            if cc != c
        )
        out[c] = (round(support * (1.0 - opposition), 3), round(support, 3), round(opposition, 3))
    return out


def combine(signals: list[Signal], min_confidence: float) -> OriginDecision:
    signals = sorted(signals, key=lambda s: (-s.weight, s.name, s.country))
    if not signals:
        return OriginDecision(None, "none", 0.0, (), (), "no source declaration, no ccTLD and no other evidence")
    conf = confidences(signals)
    ranked = sorted(conf.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    top, (c, _support, opposition) = ranked[0]
    against = sorted({s.name for s in signals if s.country != top and s.weight > 0})
    if len(ranked) > 1 and ranked[1][1][0] == c and c > 0:
        return OriginDecision(None, "none", c, tuple(signals), (),
                              f"evidence tied between {top} and {ranked[1][0]} at confidence {c}")  # fmt: skip
    supporting = tuple(s.name for s in signals if s.country == top and s.weight > 0)
    if c < min_confidence:
        why = f"best evidence {top} ({', '.join(supporting)}) at confidence {c} below {min_confidence}"
        if against:
            why += f", contradicted by {', '.join(against)}"
        return OriginDecision(None, "none", c, tuple(signals), (), why)
    lead = next(s for s in signals if s.country == top)
    alone = round(lead.weight * (1.0 - opposition), 3) >= min_confidence
    basis = lead.name.replace("_", "-") if alone else "combined"
    return OriginDecision(top, basis, c, tuple(signals), supporting, "")
