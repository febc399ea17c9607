"""ISO 3166-1 alpha-2 codes Terroir accepts as jurisdictions, and the country-code TLDs that differ from them."""

ISO_3166_ALPHA2 = frozenset(
    """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
    CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO
    FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE
    JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO
    MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM
    TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
    """.split()  # noqa: SIM905 - a block of codes reads better than a list literal
)

#: ccTLDs whose country is not simply the upper-cased TLD. `.eu` names no single jurisdiction and is absent.
CCTLD_EXCEPTIONS = {"uk": "GB", "ac": "SH"}


def cctld_to_jurisdiction(tld: str) -> str | None:
    """Map a top-level label (`se`, `co.uk` → `uk`) to an ISO code, or None for generic TLDs such as `com`."""
    label = tld.rsplit(".", 1)[-1].lower()
    if label in CCTLD_EXCEPTIONS:
        return CCTLD_EXCEPTIONS[label]
    code = label.upper()
    return code if len(code) == 2 and code in ISO_3166_ALPHA2 else None
