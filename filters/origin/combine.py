"""Combine independent origin signals into one decision with a basis and a confidence.

Within a family only the strongest signal per country counts (three locale tags are one witness). Across families:

    support(c)    = 1 - Π_f (1 - w[f, c])                     noisy-OR of the families pointing to c
    opposition(c) = 1 - Π_f (1 - max_{c' ≠ c} w[f, c'])        the same, for families pointing elsewhere
    confidence(c) = support(c) × (1 - opposition(c))

The country with the highest confidence is placed when it reaches the policy's minimum; a tie places nothing. A
strong ccTLD (0.95) survives one middling contradiction (a foreign content-delivery network) but not a foreign server,
locale and language together (a .de page served from Japan in Japanese is not silently German).
"""

from __future__ import annotations

from collections import defaultdict

from filters.origin.model import OriginDecision, Signal


def _noisy_or(weights) -> float:
    p = 1.0
    for w in weights:
        p *= 1.0 - w
    return 1.0 - p


def confidences(signals: list[Signal]) -> dict[str, tuple[float, float, float]]:
    """country → (confidence, support, opposition), each rounded to 3 decimals."""
    best: dict[str, dict[str, float]] = defaultdict(dict)  # family → country → weight
    for s in signals:
        fam = best[s.family]
        fam[s.country] = max(fam.get(s.country, 0.0), s.weight)
    countries = {s.country for s in signals}
    out = {}
    for c in countries:
        support = _noisy_or(fam[c] for fam in best.values() if c in fam)
        opposition = _noisy_or(max((w for cc, w in fam.items() if cc != c), default=0.0) for fam in best.values())
        out[c] = (round(support * (1.0 - opposition), 3), round(support, 3), round(opposition, 3))
    return out


def combine(signals: list[Signal], min_confidence: float) -> OriginDecision:
    signals = sorted(signals, key=lambda s: (-s.weight, s.name, s.country))
    if not signals:
        return OriginDecision(None, "none", 0.0, (), (), "no source declaration, no ccTLD and no other evidence")
    conf = confidences(signals)
    ranked = sorted(conf.items(), key=lambda kv: (-kv[1][0], -kv[1][1], kv[0]))
    top, (c, _support, opposition) = ranked[0]
    against = sorted({s.name for s in signals if s.country != top})
    if len(ranked) > 1 and ranked[1][1][0] == c and c > 0:
        return OriginDecision(None, "none", c, tuple(signals), (),
                              f"evidence tied between {top} and {ranked[1][0]} at confidence {c}")  # fmt: skip
    supporting = tuple(s.name for s in signals if s.country == top)
    if c < min_confidence:
        why = f"best evidence {top} ({', '.join(supporting)}) at confidence {c} below {min_confidence}"
        if against:
            why += f", contradicted by {', '.join(against)}"
        return OriginDecision(None, "none", c, tuple(signals), (), why)
    lead = next(s for s in signals if s.country == top)
    alone = round(lead.weight * (1.0 - opposition), 3) >= min_confidence
    basis = lead.name.replace("_", "-") if alone else "combined"
    return OriginDecision(top, basis, c, tuple(signals), supporting, "")
