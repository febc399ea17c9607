"""Rights signals: TDMRep (file, header, meta, precedence, location patterns), RFC 9309 robots.txt, Content-Usage."""

from __future__ import annotations

import json

import pytest

from filters.rights import (
    RightsConfig,
    RightsSnapshot,
    evaluate_rights,
    parse_content_usage,
    parse_robots,
    parse_tdmrep_json,
    pattern_matches,
    robots_allowed,
    robots_rules_for,
    tdmrep_file_decision,
)

# The example file of the TDMRep report: site-wide reservation with a policy, one folder opened, one page exact.
TDMREP = json.dumps([
    {"location": "/", "tdm-reservation": 1, "tdm-policy": "https://provider.com/policies/policy.json"},
    {"location": "/images/*", "tdm-reservation": 1},
    {"location": "/news/*.html", "tdm-reservation": 0},
])  # fmt: skip


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/", "/anything", True),
        ("/fish", "/fish.html", True),
        ("/fish", "/Fish.asp", False),  # case sensitive
        ("/fish$", "/fish", True),
        ("/fish$", "/fish/", False),
        ("/*.php", "/folder/filename.php?parameters", True),
        ("/*.php$", "/filename.php?parameters", False),
        ("/fish*.php", "/fishheads/catfish.php?parameters", True),
        ("/a%3cd.html", "/a%3Cd.html", True),  # percent-encoding compared case-insensitively
        ("/%7Ejoe/", "/~joe/index.html", True),  # unreserved characters decoded before comparing
    ],
)
def test_location_patterns(pattern, path, expected):
    assert pattern_matches(pattern, path) is expected


def test_tdmrep_file_first_matching_rule_applies():
    rules = parse_tdmrep_json(TDMREP)
    assert tdmrep_file_decision(rules, "https://provider.com/news/today.html").reservation == 1  # "/" comes first
    reordered = list(reversed(rules))
    assert tdmrep_file_decision(reordered, "https://provider.com/news/today.html").reservation == 0
    assert tdmrep_file_decision(reordered, "https://provider.com/images/a.png").reservation == 1
    assert tdmrep_file_decision(reordered, "https://provider.com/about").reservation == 1


def test_tdmrep_precedence_file_over_header_over_meta():
    snap = RightsSnapshot(tdmrep_json=json.dumps([{"location": "/open/", "tdm-reservation": 0}]))
    meta = '<head><meta name="tdm-reservation" content="1"></head>'
    # file rule matches: it decides, header and meta are not consulted
    assert evaluate_rights("https://a.fr/open/x", {"tdm-reservation": "1"}, meta, snap) == ("allowed", "tdmrep-file")
    # no file rule for this path: the header decides before the meta
    assert evaluate_rights("https://a.fr/closed", {"tdm-reservation": "0"}, meta, snap) == ("allowed", "tdmrep-header")
    assert evaluate_rights("https://a.fr/closed", {}, meta, snap) == ("reserved", "tdmrep-meta")
    assert evaluate_rights("https://a.fr/closed", {"tdm-reservation": "1"}, None) == ("reserved", "tdmrep-header")


def test_tdmrep_protocol_errors_make_the_status_unknown():
    assert evaluate_rights("https://a.fr/", {"tdm-reservation": "2"}, None) == ("unknown", "tdmrep-header-invalid-value")
    bad = RightsSnapshot(tdmrep_json="{not json")
    assert evaluate_rights("https://a.fr/", {}, None, bad) == ("unknown", "tdmrep-file-invalid")
    with pytest.raises(ValueError, match="array"):
        parse_tdmrep_json('{"location": "/"}')


ROBOTS = """
User-agent: *
Disallow: /private/
Allow: /private/public-report.html

User-agent: GPTBot
User-agent: CCBot
Disallow: /

User-agent: Google-Extended
Disallow: /archive/
Allow: /archive/open$

# a second group naming the same crawler is merged with the first
User-agent: google-extended
Disallow: /drafts
"""


def test_robots_group_selection_and_merging():
    groups = parse_robots(ROBOTS)
    rules, named = robots_rules_for(groups, "gptbot")
    assert named and rules == [(False, "/")]
    rules, named = robots_rules_for(groups, "Google-Extended")
    assert named and (False, "/drafts") in rules and (False, "/archive/") in rules
    rules, named = robots_rules_for(groups, "SomeOtherBot")
    assert not named and (False, "/private/") in rules


@pytest.mark.parametrize(
    ("agent", "url", "allowed"),
    [
        ("Google-Extended", "https://n.se/archive/2020", False),
        ("Google-Extended", "https://n.se/archive/open", True),  # longer Allow wins
        ("Google-Extended", "https://n.se/archive/open/x", False),  # `$` anchors the Allow
        ("Google-Extended", "https://n.se/drafts/1", False),
        ("Google-Extended", "https://n.se/private/x", True),  # named group: the `*` group does not apply
        ("Other", "https://n.se/private/public-report.html", True),
        ("Other", "https://n.se/private/x", False),
        ("GPTBot", "https://n.se/robots.txt", True),
    ],
)
def test_robots_longest_match(agent, url, allowed):
    rules, _ = robots_rules_for(parse_robots(ROBOTS), agent)
    assert robots_allowed(rules, url) is allowed


def test_robots_equal_length_tie_goes_to_allow():
    rules, _ = robots_rules_for(parse_robots("User-agent: *\nDisallow: /page\nAllow: /page\n"), "x")
    assert robots_allowed(rules, "https://a.de/page")


def test_robots_ai_opt_out_decides_rights():
    snap = RightsSnapshot(robots_txt=ROBOTS)
    assert evaluate_rights("https://n.se/a", {}, None, snap) == ("reserved", "robots-txt-disallow:GPTBot")
    only_star = RightsSnapshot(robots_txt="User-agent: *\nDisallow: /private/\n")
    assert evaluate_rights("https://n.se/a", {}, None, only_star) == ("allowed", "no-reservation-signal")
    assert evaluate_rights("https://n.se/private/a", {}, None, only_star)[0] == "reserved"
    strict = RightsConfig(robots_wildcard_counts=False)
    assert evaluate_rights("https://n.se/private/a", {}, None, only_star, strict)[0] == "allowed"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("train-ai=n", {"train-ai": False}),
        ("train-ai=n, search=y", {"train-ai": False, "search": True}),
        ('train-genai="n";exp=1, bots=y', {"train-genai": False, "bots": True}),
        ("train-ai=maybe, search", {}),
        ("", {}),
    ],
)
def test_content_usage_parsing(value, expected):
    assert parse_content_usage(value) == expected


def test_content_usage_decides_rights():
    assert evaluate_rights("https://a.de/", {"content-usage": "search=y, train-ai=n"}, None) == (
        "reserved", "content-usage-train-ai-n")  # fmt: skip
    assert evaluate_rights("https://a.de/", {"content-usage": "train-ai=y"}, None) == ("allowed", "no-reservation-signal")
