"""The PII section of a policy, checked without loading Presidio (the run's preflight must be quick).

`filters.pii.registry` builds the recognizers; this module only knows which countries have some, which operators exist and
whether named spaCy pipelines are installed. `tests/test_pii.py` keeps `NATIONAL_ID_COUNTRIES` equal to the
national-identifier registry and checks that every supported country does get recognizers.
"""

from __future__ import annotations

import os
from pathlib import Path

# Presidio's country packages → ISO 3166 codes
COUNTRY_PACKAGES = {
    "australia": "AU", "canada": "CA", "finland": "FI", "germany": "DE", "india": "IN", "italy": "IT",
    "korea": "KR", "nigeria": "NG", "philippines": "PH", "poland": "PL", "singapore": "SG",
    "south_africa": "ZA", "spain": "ES", "sweden": "SE", "thai": "TH", "turkey": "TR", "uk": "GB", "us": "US",
}  # fmt: skip
# the countries of `filters.national_ids.registry.NATIONAL_ID_RECOGNIZERS`
NATIONAL_ID_COUNTRIES = ("AT", "BE", "BG", "BR", "CH", "CL", "CN", "CZ", "DK", "EE", "FR", "GR", "HR", "IE", "IL", "IS",
                         "JP", "LT", "MX", "NL", "NO", "PT", "RO", "SG", "SI", "SK", "TW")  # fmt: skip
OPERATORS = ("placeholder", "hash", "mask")
# `filters.pii.registry.PATTERN_ENTITIES` and `NER_ENTITIES` (tests keep them equal); national identifiers are named
# COUNTRY_IDENTIFIER (`SE_PERSONNUMMER`, `UK_NHS`) and come with `pii.countries`
PATTERN_ENTITY_NAMES = ("CREDIT_CARD", "DATE_OF_BIRTH", "EMAIL_ADDRESS", "IBAN_CODE", "IP_ADDRESS", "LABELLED_ID",
                        "PERSONAL_URL", "PHONE_NUMBER", "POSTCODE", "STREET_ADDRESS", "URL")  # fmt: skip
NER_ENTITY_NAMES = ("PERSON", "LOCATION", "ORGANIZATION")
MIN_SALT_CHARS = 16


def supported_countries() -> tuple[str, ...]:
    """ISO codes with at least one national recognizer (Presidio's or Terroir's)."""
    return tuple(sorted(set(COUNTRY_PACKAGES.values()) | set(NATIONAL_ID_COUNTRIES)))


def ner_pipeline_available(name: str) -> bool:
    """Whether `name` is an installed spaCy package or a folder holding a saved pipeline (nothing is downloaded)."""
    import spacy.util

    p = Path(name)
    return (p.is_dir() and (p / "config.cfg").is_file()) or spacy.util.is_package(name)


def ner_problems(policy) -> list[str]:
    """What is wrong with `pii.ner` / `pii.require_ner`: a named pipeline that does not load (each is loaded once,
    entity components only), or `require_ner: true` with an admitted language that has no pipeline."""
    from filters.ner import NerUnavailable, load_pipeline

    problems = []
    prefilter = getattr(policy, "pii_ner_prefilter", True)
    if not isinstance(prefilter, bool):
        problems.append(f"field pii.ner_prefilter: found {prefilter!r}; allowed values are true (NER reads only the "
                        "words around possible names, the default) and false (NER reads every text whole)")  # fmt: skip
    for lang, name in sorted(policy.pii_ner.items()):
        try:
            load_pipeline(name, lang)
        except NerUnavailable as exc:
            problems.append(f"field pii.ner.{lang}: {exc}")
    if policy.pii_require_ner:
        if not policy.pii_ner:
            problems.append("field pii.require_ner: true, but pii.ner names no spaCy pipeline; add one per language")
        uncovered = sorted(set(policy.languages) - set(policy.pii_ner))
        if policy.pii_ner and uncovered:
            problems.append(
                f"field pii.ner: no spaCy pipeline for admitted language(s) {uncovered}; with pii.require_ner: true "
                "every language in admission.languages needs one (or list the languages that must have NER: "
                "pii.require_ner: [lang, ...] quarantines their documents when none ran)"
            )
    return problems


def check_pii_config(policy, environ=None) -> None:
    """Fail before any work when the policy's PII settings cannot be honoured; ValueError says what to fix.

    Checks: a known operator; `hash` has its secret salt (>= 16 characters) in the environment variable named by
    `pii.salt_env`; every country in `pii.countries` has recognizers; every spaCy pipeline in `pii.ner` loads;
    with `pii.require_ner: true` every admitted language has one. The salt's
    value never appears in a message.
    """
    environ = os.environ if environ is None else environ
    where = f"policy {getattr(policy, 'path', '') or '(in memory)'}"
    problems: list[str] = []
    op = policy.pii_operator
    if op not in OPERATORS:
        problems.append(f"field pii.operator: found {op!r}; allowed values are {list(OPERATORS)}")
    if op == "hash":
        salt = environ.get(policy.pii_salt_env, "")
        if not salt:
            problems.append(
                f"field pii.operator: 'hash' needs a secret salt in the environment variable {policy.pii_salt_env} "
                f"(named by pii.salt_env), which is not set; set it to a random string of at least {MIN_SALT_CHARS} "
                "characters, or choose operator 'placeholder' or 'mask'"
            )
        elif len(salt) < MIN_SALT_CHARS:
            problems.append(
                f"field pii.operator: the salt in {policy.pii_salt_env} is shorter than {MIN_SALT_CHARS} characters; "
                "use a longer random string (short salts make hashed values guessable)"
            )
    import re
    from difflib import get_close_matches

    known = PATTERN_ENTITY_NAMES + NER_ENTITY_NAMES
    for name in getattr(policy, "pii_entities", ()):
        if name in known or re.fullmatch(r"[A-Z]{2}_[A-Z0-9_]+", name):
            continue
        close = get_close_matches(name.upper(), known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        problems.append(f"field pii.entities: unknown entity type {name!r}{hint}; known types are {list(known)} and "
                        "national identifiers named COUNTRY_IDENTIFIER (e.g. SE_PERSONNUMMER)")  # fmt: skip
    supported = set(supported_countries())
    unknown = [c for c in policy.pii_countries if c not in supported]
    if unknown:
        problems.append(
            f"field pii.countries: no national-identifier recognizers for {unknown}; remove them or choose from "
            f"{list(supported_countries())}"
        )
    problems += ner_problems(policy)
    if problems:
        raise ValueError(f"{where}: {len(problems)} PII problem(s):\n  " + "\n  ".join(problems))
