"""Origin evidence (issue 14): each signal family on real HTML and WARC input, the combiner (including the
contradiction case), the policy's settings and their errors, the IP database preflight, and an end-to-end run in
which a generic-domain page is placed and its ledger row names the signals."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from conftest import load_manifest, read_ledger, read_shards, run_terroir, write_policy
from filters.origin import EvidenceConfig, OriginEvidence, Signal, combine, confidences, parse_dns_record
from filters.origin.contact import contact_signals, contact_text
from filters.origin.content import currency_signals, iban_signals, language_signal, phone_signals, postal_signals
from filters.origin.locale import locale_signals, region_of_tag
from filters.origin.registry import registry_signals
from filters.origin.server import check_database, database_info, ip_country
from pipelines.tools.demo_text import SENTENCES
from schemas.policy import PolicyError, load_policy

W = EvidenceConfig().weights
EU = ("AT", "DE", "FI", "FR", "GB", "IE", "IT", "JP", "NL", "SE", "ES")


# ------------------------------------------------------------------ declared locale (markup and headers)

PAGE = """<!DOCTYPE html>
<html lang="de-AT" xmlns="http://www.w3.org/1999/xhtml"><head>
<meta charset="utf-8"><title>Wiener Hafenblatt</title>
<link rel="alternate" hreflang="de-AT" href="https://www.hafenblatt.com/artikel/1" />
<link rel="alternate" hreflang="en-GB" href="https://www.hafenblatt.com/en/article/1" />
<meta property="og:locale" content="de_AT" />
<meta name="geo.region" content="AT-9" /><meta name="ICBM" content="47.2692, 11.4041" />
<script type="application/ld+json">{"@context": "https://schema.org", "@type": "NewsMediaOrganization",
 "address": {"@type": "PostalAddress", "streetAddress": "Hafengasse 3", "addressCountry": "AT"}}</script>
</head><body><p>Text</p></body></html>"""


def test_locale_signals_from_real_markup():
    sigs = locale_signals(PAGE, {"content-language": "de-AT, en"}, "https://www.hafenblatt.com/artikel/1", W)
    by = {s.name: s.country for s in sigs}
    assert by == {"content_language": "AT", "html_lang": "AT", "hreflang": "AT", "og_locale": "AT",
                  "geo_region": "AT", "icbm": "AT", "schema_address": "AT"}  # fmt: skip
    # the en-GB alternate is another page: it says nothing about this one
    assert [s for s in sigs if s.name == "hreflang"] == [Signal("hreflang", "AT", "de-AT", W["hreflang"])]


def test_locale_without_region_or_malformed_says_nothing():
    assert locale_signals('<html lang="de"><head><meta property="og:locale" content="de"></head>', {}, None, W) == []
    assert locale_signals("<html lang=><head><meta name=geo.region content=XX-1></head", {}, None, W) == []
    assert locale_signals(None, {"content-language": "fr"}, None, W) == []
    assert region_of_tag("zh-Hant-TW") == "TW" and region_of_tag("en_UK") == "GB" and region_of_tag("es-419") is None


def test_schema_org_microdata_address_country():
    html = '<div itemscope itemtype="https://schema.org/PostalAddress"><meta itemprop="addressCountry" content="SE">'
    assert [s.country for s in locale_signals(html, {}, None, W) if s.name == "schema_address"] == ["SE"]


# ------------------------------------------------------------------ server location

def test_ip_lookup_uses_the_installed_registry_table():
    assert ip_country("193.166.3.1") == "FI"  # FUNET
    assert ip_country("1.0.16.1") == "JP"
    assert ip_country("10.1.2.3") is None and ip_country("172.18.95.66") is None  # private
    assert ip_country("not an address") is None
    info = database_info()
    assert info.package == "iptocc" and len(info.data_date) == 10


def test_warc_ip_address_reaches_the_document(shared):
    from pipelines.sources.reader import InputFile, read_file

    path = shared / "warc" / "solrwayback-gzip-chunked.warc.gz"
    docs = [d for k, d in read_file(InputFile("web", str(path), path.name, "warc")) if k == "doc"]
    assert docs[0].url == "http://mek.oszk.hu/" and docs[0].server_ip == "193.6.201.253"
    assert ip_country(docs[0].server_ip) == "HU"


def _warc(path: Path, records: list[tuple[str, str, bytes, list, dict]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for url, rtype, body, headers, warc_headers in records:
            http = None
            if url.startswith("http"):
                http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), *headers],
                                        protocol="HTTP/1.1")  # fmt: skip
            w.write_record(w.create_warc_record(url, rtype, payload=io.BytesIO(body), http_headers=http,
                                                warc_content_type="text/dns" if url.startswith("dns:") else None,
                                                warc_headers_dict=warc_headers))  # fmt: skip


def test_dns_record_in_the_same_warc_gives_the_address(tmp_path):
    from pipelines.sources.reader import InputFile, read_file

    dns = b"20260601120000\nwww.satamasanomat.net.\t300\tIN\tA\t193.166.3.1\nbad line\n"
    assert parse_dns_record(dns) == [("www.satamasanomat.net", "193.166.3.1")]
    _warc(tmp_path / "c.warc.gz", [
        ("dns:www.satamasanomat.net", "resource", dns, [], {}),
        ("https://www.satamasanomat.net/uutiset/1", "response", b"<html><body><p>Hei</p></body></html>", [], {}),
    ])  # fmt: skip
    docs = [d for k, d in read_file(InputFile("web", str(tmp_path / "c.warc.gz"), "c.warc.gz", "warc")) if k == "doc"]
    assert len(docs) == 1 and docs[0].server_ip is None and docs[0].dns_ip == "193.166.3.1"


# ------------------------------------------------------------------ content

def test_phone_numbers_international_and_national():
    text = "Redaktion: Tel. +49 30 901820, Fax 0049 30 9018 2222. Service in Wien: +43 1 5871234."
    got = {s.country: s.value for s in phone_signals(text, "de", EU, 0.4)}
    assert got == {"DE": "+49", "AT": "+43"}
    fi = phone_signals("Toimitus, puh. 09 310 1691 (arkisin).", "fi", EU, 0.4)
    assert [(s.country, s.value) for s in fi] == [("FI", "national format (FI)")]
    assert phone_signals("Order number 12345678 and 0049.", "de", EU, 0.4) == []  # no valid number
    assert all("901820" not in json.dumps(s.to_json()) for s in phone_signals(text, "de", EU, 0.4))  # never the value


def test_postal_addresses_of_the_policy_countries():
    cases = {
        "DE": "Verlag: Hafenstraße 12, 20457 Hamburg.",
        "FR": "Siège : 12 rue de la République, 69002 Lyon.",
        "NL": "Bezoekadres: Havenstraat 12, 3024 AB Rotterdam.",
        "SE": "Besöksadress: Storgatan 12, 411 38 Göteborg.",
        "GB": "Write to us at 1 Harbour Road, Bristol BS1 4RN.",
        "JP": "本社 〒100-0005 東京都千代田区丸の内1-1",
        "AT": "Kontakt: A-1010 Wien, Hafengasse 3.",
    }
    for cc, text in cases.items():
        assert [s.country for s in postal_signals(text, EU, 0.45)] == [cc], text
    assert postal_signals("Rue 12, 69002 Lyon", ("DE",), 0.45) == []  # only the policy's countries
    assert postal_signals("In 2024 there were 12345 Visitors.", EU, 0.45) == []


FOOTER_PAGE = """<!doctype html><html lang="fi"><head><title>Satamalehti</title></head><body>
<nav><a href="/">Etusivu</a></nav><article><h1>Uutiset</h1><p>Satamassa oli vilkasta.</p></article>
<footer><p>Satamalehti Oy &middot; Satamakatu 12, 00160 Helsinki</p>
<p><a href="tel:+358-9-310-1691">Soita meille</a> | puh. 09 310 1691</p></footer></body></html>"""


def test_contact_details_in_the_footer_become_content_signals():
    text = contact_text(FOOTER_PAGE)
    assert "00160 Helsinki" in text and "Tel +358-9-310-1691" in text and "Satamassa" not in text
    got = {(s.name, s.country) for s in contact_signals(FOOTER_PAGE, EU, W)}
    assert got == {("postal_address", "FI"), ("phone", "FI")}
    assert all(s.value.endswith("(page footer)") for s in contact_signals(FOOTER_PAGE, EU, W))
    assert all("1691" not in s.value and "Satamakatu" not in s.value for s in contact_signals(FOOTER_PAGE, EU, W))
    assert contact_text("<html><body><p>Tel +358 9 310 1691</p></body></html>") == ""  # only footer/address/tel:
    # a postcode format counts only for the policy's countries; an international number names its own country
    assert {(s.name, s.country) for s in contact_signals(FOOTER_PAGE, ("DE",), W)} == {("phone", "FI")}


def test_a_generic_domain_page_is_placed_by_its_footer_and_server():
    ev = OriginEvidence(EvidenceConfig(), EU, None)
    page = ev.page_signals(FOOTER_PAGE, {}, "https://satamalehti.com/uutiset/1", "193.166.3.1")
    decision = ev.decide("https://satamalehti.com/uutiset/1", None, "Satamassa oli vilkasta.", "fi", page)
    assert decision.country == "FI" and "postal_address" in decision.supporting
    without = ev.decide("https://satamalehti.com/uutiset/1", None, "Satamassa oli vilkasta.", "fi",
                        ev.page_signals(FOOTER_PAGE.replace("<footer>", "<div>").replace("</footer>", "</div>"), {},
                                        "https://satamalehti.com/uutiset/1"))  # fmt: skip
    assert "postal_address" not in without.supporting


def test_iban_country_needs_a_valid_checksum():
    assert [s.country for s in iban_signals("Spenden: IBAN DE89 3704 0044 0532 0130 00.", 0.3)] == ["DE"]
    assert iban_signals("IBAN DE89 3704 0044 0532 0130 01", 0.3) == []
    assert iban_signals("IBAN FI21 1234 5600 0007 85", 0.3)[0].value == "IBAN FI"


def test_currency_and_language():
    assert [s.country for s in currency_signals("Preis: 120 SEK, frakt 49 kr", 0.2)] == ["SE"]
    assert currency_signals("12 € or 12 EUR", 0.2) == []  # the euro names no single country
    assert [s.country for s in language_signal("fi", EU, 0.25)] == ["FI"]
    assert language_signal("de", EU, 0.25) == []  # German is the first language in DE and AT
    assert language_signal("es", ("ES", "MX"), 0.25) == []  # Spanish is not Spain
    assert [s.country for s in language_signal("es", ("ES", "DE"), 0.25)] == ["ES"]


# ------------------------------------------------------------------ registries and the combiner

def test_registry_signals():
    assert [(s.name, s.country) for s in registry_signals("www.gov.uk", W)] == [("public_suffix", "GB"),
                                                                                ("cctld", "GB")]  # fmt: skip
    assert next((s.name, s.country) for s in registry_signals("portal.gouv.fr", W)) == ("public_suffix", "FR")
    assert registry_signals("startup.io", W) == [] and registry_signals("news.tv", W) == []  # brand ccTLDs
    assert registry_signals("example.com", W) == [] and registry_signals("193.166.3.1", W) == []


def test_combiner_family_is_one_witness_and_confidence_formula():
    sigs = [Signal("html_lang", "DE", "de-DE", 0.35), Signal("og_locale", "DE", "de_DE", 0.35),
            Signal("hreflang", "DE", "de-DE", 0.35)]  # fmt: skip
    assert confidences(sigs)["DE"] == (0.35, 0.35, 0.0)  # one family: counted once
    d = combine([*sigs, Signal("server_ip", "DE", "217.160.0.1", 0.4)], 0.5)
    assert (d.country, d.basis, d.confidence) == ("DE", "combined", 0.61)
    # a theme's default og:locale weakens the locale family but does not reverse it
    mixed = [Signal("html_lang", "DE", "de-DE", 0.35), Signal("og_locale", "US", "en_US", 0.3)]
    assert confidences(mixed)["DE"][1] == 0.05 and confidences(mixed)["US"][0] == 0.0


def test_cctld_stays_strong_but_can_be_contradicted():
    ev = OriginEvidence(EvidenceConfig(), EU, {})
    url = "https://www.hafenblatt.de/artikel/1"
    de_text = " ".join(SENTENCES["de"][:6])
    # on a US content-delivery network, in German: still German
    cdn = ev.decide(url, None, de_text, "de", ev.page_signals("<html lang=de>", {}, url, "104.28.20.25"))
    assert (cdn.country, cdn.basis) == ("DE", "cctld")
    # served from Japan, in Japanese, declared ja-JP: not silently German
    html = '<html lang="ja-JP"><head><meta property="og:locale" content="ja_JP"></head><body></body></html>'
    jp = ev.decide(url, None, " ".join(SENTENCES["ja"]), "ja", ev.page_signals(html, {}, url, "1.0.16.1"))
    assert jp.country is None and jp.confidence < 0.5
    assert "contradicted by" in jp.reason and "server_ip" in jp.reason and "cctld" in jp.reason
    # the ledger detail keeps every signal, with value and weight
    assert {s["signal"] for s in jp.detail()["signals"]} == {"cctld", "server_ip", "html_lang", "og_locale", "language"}


def test_declaration_and_domain_table_are_authoritative():
    ev = OriginEvidence(EvidenceConfig(), EU, {"hafenblatt.com": "AT"})
    assert ev.decide("https://x.jp/", "SE", "", None, []).basis == "registry"
    d = ev.decide("https://www.hafenblatt.com/a", None, "", None, [Signal("server_ip", "US", "8.8.8.8", 0.4)])
    assert (d.country, d.basis, d.supporting) == ("AT", "domain-table", ("domain_table",))


def test_weak_signals_alone_never_place():
    for s in (Signal("language", "FI", "fi", 0.25), Signal("server_ip", "FI", "193.166.3.1", 0.4),
              Signal("html_lang", "FI", "fi-FI", 0.35)):  # fmt: skip
        assert combine([s], 0.5).country is None
    tie = combine([Signal("phone", "DE", "+49", 0.4), Signal("postal_address", "FR", "x", 0.4)], 0.3)
    assert tie.country is None and "tied" in tie.reason


# ------------------------------------------------------------------ policy settings

BASE = """
policy_id: ev
residency:
  regions:
    eu: {{jurisdictions: [DE, FI, SE], storage: shards/eu}}
{extra}
"""


def test_policy_evidence_settings(tmp_path):
    p = load_policy(write_policy(tmp_path / "p.yaml", BASE.format(extra="""  unknown_origin: drop
  evidence:
    signals: [cctld, server_ip, html_lang]
    weights: {server_ip: 0.6}
    min_confidence: 0.7
    ip_database: {max_age_days: 30}""")))
    cfg = EvidenceConfig.from_policy(p.origin_evidence)
    assert cfg.weights == {"cctld": 0.95, "server_ip": 0.6, "html_lang": 0.35}
    assert (cfg.min_confidence, cfg.max_db_age_days, p.unknown_origin) == (0.7, 30, "drop")
    default = EvidenceConfig.from_policy(load_policy(write_policy(tmp_path / "d.yaml", BASE.format(extra=""))).origin_evidence)
    assert default.enabled and default.min_confidence == 0.5 and len(default.weights) == 16


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("  evidence: {weights: {server_location: 0.5}}", r"residency\.evidence\.weights.*server_location"),
        ("  evidence: {weights: {server_ip: 1.5}}", r"residency\.evidence\.weights\.server_ip: found 1\.5"),
        ("  evidence: {min_confidence: 0}", r"residency\.evidence\.min_confidence"),
        ("  evidence: {signals: [cctld], weights: {phone: 0.3}}", r"weights\.phone: phone is not in .*signals"),
        ("  evidence: {signals: [cctld], weights: {cctld: 0}}", r"every listed signal has weight 0"),
        ("  unknown_origin: delete", r"residency\.unknown_origin: found \"delete\"; allowed values"),
        ("  evidence: {ip_database: {max_age_days: 0}}", r"max_age_days"),
    ],
)
def test_policy_evidence_errors_name_the_field(tmp_path, extra, message):
    with pytest.raises(PolicyError, match=message):
        load_policy(write_policy(tmp_path / "p.yaml", BASE.format(extra=extra)))


def test_schema_and_model_name_the_same_signals():
    from filters.origin import DEFAULT_WEIGHTS, SIGNAL_FAMILIES
    from schemas.policy import _schema

    names = _schema()["properties"]["residency"]["properties"]["evidence"]["properties"]["signals"]["items"]["enum"]
    assert sorted(names) == sorted(DEFAULT_WEIGHTS) == sorted(set(SIGNAL_FAMILIES) - {"domain_table"})


# ------------------------------------------------------------------ preflight

def test_stale_database_is_a_preflight_error(tmp_path, shared):
    from pipelines.cli import main

    info = database_info()
    check_database(10_000)
    with pytest.raises(Exception, match="iptocc.*days old"):
        check_database(1, today=date(2100, 1, 1))
    policy = write_policy(tmp_path / "p.yaml", BASE.format(extra="  evidence: {ip_database: {max_age_days: 1}}"))
    age = (date.today() - date.fromisoformat(info.data_date)).days
    out = tmp_path / "out"
    rc = main(["run", "--policy", str(policy), "--input", str(shared / "tei"), "--output", str(out)])
    assert (rc == 2) == (age > 1) and (not out.exists() if age > 1 else True)


def test_missing_database_package_is_a_preflight_error(tmp_path, shared, monkeypatch, capsys):
    from filters.origin import server
    from pipelines.cli import main

    monkeypatch.setattr(server, "IP_DATABASE_PACKAGE", "iptocc-not-installed")
    policy = write_policy(tmp_path / "p.yaml", BASE.format(extra=""))
    out = tmp_path / "out"
    rc = main(["run", "--policy", str(policy), "--input", str(shared / "tei"), "--output", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and "iptocc-not-installed" in err and "is not installed" in err and not out.exists()
    # turning the server signals off needs no database
    off = write_policy(tmp_path / "off.yaml", BASE.format(extra="  evidence: {weights: {server_ip: 0, dns_ip: 0}}"))
    from pipelines.run import RunOptions, preflight

    preflight(RunOptions(policy_path=str(off), inputs=[str(shared / "tei")], output_dir=str(tmp_path / "o2")))


# ------------------------------------------------------------------ end to end

E2E_POLICY = """
policy_id: origin-e2e
residency:
  regions:
    eu: {jurisdictions: [DE, FI, SE, FR], storage: shards/eu}
    jp: {jurisdictions: [JP], storage: shards/jp}
  unknown_origin: quarantine
admission:
  default_min_lang_score: 0.3
quality: {enabled: false}
"""


def _page(lang: str, head: str = "", extra: str = "", html_lang: str | None = None) -> bytes:
    body = "".join(f"<p>{s}</p>" for s in SENTENCES[lang][:8])
    return (f'<html lang="{html_lang or lang}"><head><title>t</title>{head}</head><body><article>{body}'
            f"<p>{extra}</p></article></body></html>").encode()  # fmt: skip


@pytest.mark.slow
def test_generic_domain_page_is_placed_and_its_ledger_row_names_the_signals(tmp_path):
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    _warc(crawl / "c.warc.gz", [
        ("https://www.hafenkurier.com/artikel/1", "response",
         _page("de", '<meta property="og:locale" content="de_DE">', "Redaktion: Hafenstraße 12, 20457 Hamburg.",
               "de-DE"), [("Content-Language", "de-DE")], {"WARC-IP-Address": "217.160.0.1"}),
        ("https://www.hafenblatt.de/artikel/2", "response", _page("ja", html_lang="ja-JP"), [],
         {"WARC-IP-Address": "1.0.16.1"}),
        ("https://global-news.example.org/story/1", "response", _page("de", html_lang="de"), [], {}),
        ("https://www.satamasanomat.fi/uutiset/1", "response", _page("fi"), [], {"WARC-IP-Address": "104.28.20.25"}),
    ])  # fmt: skip
    out = tmp_path / "out"
    res = run_terroir(write_policy(tmp_path / "p.yaml", E2E_POLICY), [f"crawl={crawl}"], out)
    rows = {r["url"]: r for r in read_shards(res.manifest, out).to_pylist()}
    assert set(rows) == {"https://www.hafenkurier.com/artikel/1", "https://www.satamasanomat.fi/uutiset/1"}
    placed = rows["https://www.hafenkurier.com/artikel/1"]
    assert (placed["origin_jurisdiction"], placed["origin_basis"], placed["residency_region"]) == ("DE", "combined",
                                                                                                    "eu")  # fmt: skip
    ledger = [r for r in read_ledger(out).to_pylist() if r["stage"] == "residency"]
    row = next(r for r in ledger if r["doc_id"] == placed["doc_id"])
    detail = json.loads(row["detail"])
    assert row["decision"] == "kept" and detail["confidence"] >= 0.5 and detail["region"] == "eu"
    assert {"server_ip", "html_lang", "content_language", "og_locale", "postal_address"} <= set(detail["placed_by"])
    assert {"signal": "server_ip", "country": "DE", "value": "217.160.0.1", "weight": 0.4} in detail["signals"]
    assert "20457" not in row["detail"] and "Hafenstraße" not in row["detail"]  # the address itself is never kept
    fi = next(r for r in ledger if r["doc_id"] == rows["https://www.satamasanomat.fi/uutiset/1"]["doc_id"])
    assert json.loads(fi["detail"])["basis"] == "cctld"  # a US CDN does not contradict the .fi TLD
    unplaced = {json.loads(r["detail"])["domain"]: r for r in ledger if r["decision"] == "quarantined"}
    assert set(unplaced) == {"hafenblatt.de", "example.org"}
    assert "contradicted by" in unplaced["hafenblatt.de"]["reason"]
    assert unplaced["example.org"]["reason"].startswith("unknown origin jurisdiction")
    m = load_manifest(out)
    assert m["origin_evidence"]["ip_database"]["package"] == "iptocc"
    assert m["origin_evidence"]["ip_database"]["data_date"] == database_info().data_date
    html = (out / "report" / "index.html").read_text()
    assert "Top unplaced domains" in html and "hafenblatt.de" in html and "combined" in html


@pytest.mark.slow
def test_unknown_origin_drop_and_evidence_off(tmp_path):
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    _warc(crawl / "c.warc.gz", [
        ("https://www.hafenkurier.com/artikel/1", "response", _page("de", html_lang="de-DE"), [],
         {"WARC-IP-Address": "217.160.0.1"}),
        ("https://global-news.example.org/story/1", "response", _page("de", html_lang="de"), [], {}),
    ])  # fmt: skip
    drop = E2E_POLICY.replace("unknown_origin: quarantine", "unknown_origin: drop")
    out = tmp_path / "drop"
    res = run_terroir(write_policy(tmp_path / "drop.yaml", drop), [f"crawl={crawl}"], out)
    assert read_shards(res.manifest, out).column("url").to_pylist() == ["https://www.hafenkurier.com/artikel/1"]
    decisions = {r["decision"] for r in read_ledger(out).to_pylist() if r["stage"] == "residency"}
    assert decisions == {"kept", "dropped"}
    off = E2E_POLICY.replace("unknown_origin: quarantine", "unknown_origin: quarantine\n  evidence: {enabled: false}")
    out2 = tmp_path / "off"
    res2 = run_terroir(write_policy(tmp_path / "off.yaml", off), [f"crawl={crawl}"], out2)
    assert res2.manifest["counts"]["documents_published"] == 0  # before origin evidence: both unknown
    assert "ip_database" not in res2.manifest["origin_evidence"]
