"""Which recognizers a policy enables, per language: an explicit table, built once per redactor.

- language-agnostic recognizers for every language: Presidio's e-mail, IP and URL; Terroir's IBAN, card, date of
  birth, street address, postcode and personal URL (`SCAN_RECOGNIZERS`, one shared candidate scan) and the opt-in
  labelled identifier; the phone recognizer is built per document region by the redactor;
- for each of the policy's `pii.countries`, Presidio's country recognizers (with Terroir's fixes, and without those a
  Terroir recognizer supersedes) and Terroir's national identifiers (`filters/national_ids/`), registered for every
  language the redactor covers (the policy's languages, English, and each country's national languages).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from functools import cache

from filters.national_ids.registry import SUPERSEDED_PRESIDIO, national_ids_of, national_languages
from filters.pii.policy import COUNTRY_PACKAGES
from filters.pii.recognizers.labelled_ids import ENTITY as LABELLED_ID
from filters.pii.recognizers.labelled_ids import LabelledIdRecognizer

_GENERIC = {
    "EMAIL_ADDRESS": "EmailRecognizer",
    "IP_ADDRESS": "IpRecognizer",
    "PHONE_NUMBER": "PhoneRecognizer",
    "URL": "UrlRecognizer",
}
# Terroir's own pattern recognizers (they share one candidate scan, `filters.pii.recognizers.scan`):
# entity → (module, class)
SCAN_RECOGNIZERS = {
    "IBAN_CODE": ("filters.pii.recognizers.finance", "IbanRecognizer"),
    "CREDIT_CARD": ("filters.pii.recognizers.finance", "CardRecognizer"),
    "DATE_OF_BIRTH": ("filters.pii.recognizers.dates", "DateOfBirthRecognizer"),
    "STREET_ADDRESS": ("filters.pii.recognizers.address", "StreetAddressRecognizer"),
    "POSTCODE": ("filters.pii.recognizers.address", "PostcodeRecognizer"),
    "PERSONAL_URL": ("filters.pii.recognizers.url", "PersonalUrlRecognizer"),
}
# every entity type a policy's `pii.entities` can name, besides the national identifiers its countries bring
PATTERN_ENTITIES = tuple(sorted({*_GENERIC, *SCAN_RECOGNIZERS, LABELLED_ID}))
NER_ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION")

#: something that builds a recognizer for one language: a recognizer class, or a national-identifier row
RecognizerFactory = Callable[..., object]


@cache
def country_recognizer_classes(country: str) -> tuple[type, ...]:
    """Presidio's recognizer classes for one ISO country code (empty when Presidio has none)."""
    from presidio_analyzer import EntityRecognizer

    pkg_name = next((p for p, c in COUNTRY_PACKAGES.items() if c == country), None)
    if pkg_name is None:
        return ()
    pkg = importlib.import_module(f"presidio_analyzer.predefined_recognizers.country_specific.{pkg_name}")
    found: dict[str, type] = {}
    for mod in pkgutil.iter_modules(pkg.__path__):
        m = importlib.import_module(f"{pkg.__name__}.{mod.name}")
        for _, cls in inspect.getmembers(m, inspect.isclass):
            if (
                issubclass(cls, EntityRecognizer)
                and cls.__module__ == m.__name__
                and cls.__name__.endswith("Recognizer")
            ):
                found[cls.__name__] = cls
    return tuple(found[k] for k in sorted(found))


def recognizer_factories(country: str) -> tuple[RecognizerFactory, ...]:
    """What a policy's `pii.countries: [country]` enables: Presidio's recognizer classes, then Terroir's
    national-identifier rows; each is called with `supported_language=` to build a recognizer."""
    from filters.pii.recognizers.presidio_fixes import REPLACEMENTS

    superseded = SUPERSEDED_PRESIDIO.get(country, frozenset())
    presidio = tuple(
        REPLACEMENTS.get(c.__name__, c) for c in country_recognizer_classes(country) if c.__name__ not in superseded
    )
    return presidio + national_ids_of(country)


def redactor_languages(languages: tuple[str, ...], countries: tuple[str, ...]) -> tuple[str, ...]:
    """The languages recognizers are registered for: the policy's, English, and the countries' national ones."""
    national = [lang for c in countries for lang in national_languages(c)]
    return tuple(sorted(set(languages) | {"en"} | set(national)))


def build_recognizers(
    languages: tuple[str, ...], entities: tuple[str, ...], countries: tuple[str, ...]
) -> tuple[dict[str, list], set[str]]:
    """({language: recognizers, phone excepted}, every entity type they find plus the wanted ones)."""
    from presidio_analyzer import predefined_recognizers as pr

    wanted = set(entities)
    by_language: dict[str, list] = {}
    for lang in languages:
        recs = []
        for entity, cls_name in _GENERIC.items():
            if entity in wanted and entity != "PHONE_NUMBER":
                recs.append(getattr(pr, cls_name)(supported_language=lang))
        for entity, (module, cls_name) in SCAN_RECOGNIZERS.items():
            if entity in wanted:
                recs.append(getattr(importlib.import_module(module), cls_name)(supported_language=lang))
        if LABELLED_ID in wanted:
            recs.append(LabelledIdRecognizer(supported_language=lang))
        for country in countries:
            for factory in recognizer_factories(country):
                try:
                    rec = factory(supported_language=lang)
                except TypeError:  # recognizers that need more arguments (South African phone numbers)
                    continue
                recs.append(rec)
                wanted.update(rec.supported_entities)
        by_language[lang] = recs
    return by_language, wanted
