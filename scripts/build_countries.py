"""Build src/transship/reference/data/countries.csv (committed; this script is not run at runtime).

Base list: every ISO 3166-1 entry from pycountry (ISO 3166-1 alpha-3/alpha-2/numeric, names).
Deviations applied on top, each from a named source:

* UN Comtrade partner codes: the legacy Comtrade partner list (partnerAreas.json of the
  pre-2023 API, as stored in the public repository sashakrasnov/uncomtrade), transcribed
  below as COMTRADE_LEGACY_IDS. Comtrade uses its own codes where its trade area differs
  from the ISO territory: 251 France (incl. Monaco), 699 India, 579 Norway (incl. Svalbard
  and Jan Mayen), 757 Switzerland (incl. Liechtenstein), 842 USA (incl. Puerto Rico and US
  Virgin Islands). Italy is 381 in the legacy list but 380 in the current (v1) API and in
  BACI, so 380 is primary and 381 an alternative code.
* CEPII BACI codes: country_codes_V202301.csv of BACI (as stored in the public repository
  IaBrilliant/Economic_Complexity_MSc), transcribed below as BACI_V202301.
* Special trade areas (World, Other Asia nes, ...): see SPECIAL_AREAS.

Run: /work/venv/bin/python scripts/build_countries.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pycountry

OUT = Path(__file__).resolve().parents[1] / "src" / "transship" / "reference" / "data"

# Ids of the legacy UN Comtrade partner list (partnerAreas.json), in file order.
_LEGACY_IDS_TEXT = """
0 4 472 8 12 16 20 24 660 10 28 899 32 51 533 36 40 31 44 48 50 52 112 56 58 84 204 60 64 68
535 70 72 74 80 86 92 76 96 100 837 854 108 132 471 116 120 124 129 136 140 148 152 156 344
446 162 166 170 174 178 184 188 384 191 192 531 196 203 200 408 180 208 262 212 214 588 221
218 818 222 226 232 233 231 697 492 234 238 242 246 886 278 866 720 230 280 582 590 592 868
717 736 835 810 890 836 260 251 838 254 258 583 266 270 268 276 288 292 300 304 308 312 316
320 324 624 328 332 334 336 340 348 352 699 356 360 364 368 372 376 381 388 392 400 398 404
296 414 417 473 418 428 422 426 430 434 440 442 450 454 458 462 466 470 584 474 478 480 175
484 496 499 500 504 508 104 580 516 520 524 530 532 528 536 540 554 558 562 566 570 574 637
290 579 527 512 577 490 568 586 585 591 598 600 459 604 608 612 616 620 634 410 498 636 638
642 643 646 647 461 654 659 658 662 534 666 670 882 674 678 457 682 686 688 891 690 694 698
702 703 705 711 90 706 710 239 728 724 839 144 275 729 740 748 752 757 760 762 807 764 626
768 772 776 780 788 792 795 796 798 800 804 784 826 834 581 858 849 850 842 841 860 548 862
704 876 879 732 887 894 716
"""
COMTRADE_LEGACY_IDS = {int(x) for x in _LEGACY_IDS_TEXT.split()}

# Comtrade codes that collide with an unrelated ISO numeric code: never map them by identity.
COMTRADE_NOT_ISO = {492: "Europe EU, nes (ISO 492 is Monaco)"}

# CEPII BACI country_codes_V202301.csv: code -> ISO alpha-3 as given by CEPII ("" = N/A).
_BACI_TEXT = """
4:AFG 8:ALB 12:DZA 16:ASM 20:AND 24:AGO 28:ATG 31:AZE 32:ARG 36:AUS 40:AUT 44:BHS 48:BHR
50:BGD 51:ARM 52:BRB 56:BEL 58:BEL 60:BMU 64:BTN 68:BOL 70:BIH 72:BWA 76:BRA 84:BLZ 86:IOT
90:SLB 92:VGB 96:BRN 100:BGR 104:MMR 108:BDI 112:BLR 116:KHM 120:CMR 124:CAN 132:CPV 136:CYM
140:CAF 144:LKA 148:TCD 152:CHL 156:CHN 162:CXR 166:CCK 170:COL 174:COM 175:MYT 178:COG
180:COD 184:COK 188:CRI 191:HRV 192:CUB 196:CYP 200:CSK 203:CZE 204:BEN 208:DNK 212:DMA
214:DOM 218:ECU 222:SLV 226:GNQ 231:ETH 232:ERI 233:EST 238:FLK 242:FJI 246:FIN 251:FRA
258:PYF 260:ATF 262:DJI 266:GAB 268:GEO 270:GMB 275:PSE 276:DEU 278:DDR 280:DEU 288:GHA
292:GIB 296:KIR 300:GRC 304:GRL 308:GRD 316:GUM 320:GTM 324:GIN 328:GUY 332:HTI 340:HND
344:HKG 348:HUN 352:ISL 360:IDN 364:IRN 368:IRQ 372:IRL 376:ISR 380:ITA 384:CIV 388:JAM
392:JPN 398:KAZ 400:JOR 404:KEN 408:PRK 410:KOR 414:KWT 417:KGZ 418:LAO 422:LBN 426:LSO
428:LVA 430:LBR 434:LBY 440:LTU 442:LUX 446:MAC 450:MDG 454:MWI 458:MYS 462:MDV 466:MLI
470:MLT 478:MRT 480:MUS 484:MEX 490: 496:MNG 498:MDA 499:MNE 500:MSR 504:MAR 508:MOZ
512:OMN 516:NAM 520:NRU 524:NPL 528:NLD 530:ANT 531:CUW 533:ABW 534:SXM 535:BES 540:NCL
548:VUT 554:NZL 558:NIC 562:NER 566:NGA 570:NIU 574:NFK 579:NOR 580:MNP 583:FSM 584:MHL
585:PLW 586:PAK 591:PAN 598:PNG 600:PRY 604:PER 608:PHL 612:PCN 616:POL 620:PRT 624:GNB
626:TLS 634:QAT 642:ROU 643:RUS 646:RWA 652:BLM 654:SHN 659:KNA 660:AIA 662:LCA 666:SPM
670:VCT 674:SMR 678:STP 682:SAU 686:SEN 688:SRB 690:SYC 694:SLE 697: 699:IND 702:SGP
703:SVK 704:VNM 705:SVN 706:SOM 710:ZAF 711:ZAF 716:ZWE 724:ESP 728:SSD 729:SDN 736:SDN
740:SUR 748:SWZ 752:SWE 757:CHE 760:SYR 762:TJK 764:THA 768:TGO 772:TKL 776:TON 780:TTO
784:ARE 788:TUN 792:TUR 795:TKM 796:TCA 798:TUV 800:UGA 804:UKR 807:MKD 810:SUN 818:EGY
826:GBR 834:TZA 842:USA 849: 854:BFA 858:URY 860:UZB 862:VEN 876:WLF 882:WSM 887:YEM
891:SCG 894:ZMB
"""
BACI_V202301 = {int(k): v for k, v in (p.split(":") for p in _BACI_TEXT.split())}

# Comtrade (and BACI) codes that differ from the ISO numeric code of the same country.
COMTRADE_PRIMARY = {"FRA": 251, "IND": 699, "NOR": 579, "CHE": 757, "USA": 842, "ITA": 380}
COMTRADE_ALT = {
    "ITA": "381",  # legacy Comtrade code for Italy
    "USA": "841",  # "USA (before 1981)"
    "IND": "356",  # "India, excl. Sikkim" (historic)
    "DEU": "280",  # "Fmr Fed. Rep. of Germany"
}
BACI_ALT = {"DEU": "280"}  # BACI labels 280 (Fmr Fed. Rep. of Germany) DEU

# Non-ISO areas that occur in Comtrade/BACI trade data.
# iso3_origin: comtrade = Comtrade's own alpha-3-like code; iso3166-3 = retired ISO code;
# transship = code assigned here from the ISO user-assigned range X.. because no published
# alpha-3 code was found; design = fixed by DESIGN.md (WLD for world).
SPECIAL_AREAS: list[dict[str, str]] = [
    dict(iso3="WLD", name="World", comtrade="0", baci="", origin="design",
         note="Comtrade itself reports World as W00; the canonical schema uses WLD"),
    dict(iso3="S19", name="Other Asia, nes", comtrade="490", baci="490", origin="comtrade",
         note="S19 is the code UN Comtrade and recent BACI releases give 490 (BACI V202301: N/A);"
         " in practice partners' trade with Taiwan, which Comtrade does not list separately"),
    dict(iso3="R20", name="Europe EFTA, nes", comtrade="697", baci="697", origin="comtrade",
         note="R20 as given for 697 in recent BACI country_codes files (BACI V202301: N/A)"),
    dict(iso3="ZA1", name="Southern African Customs Union (...1999)", comtrade="711",
         baci="711", origin="comtrade",
         note="ZA1 as given for 711 in recent BACI country_codes files;"
         " BACI V202301 labels it ZAF"),
    dict(iso3="XBL", name="Belgium-Luxembourg", comtrade="58", baci="58", origin="transship",
         note="reported until 1998; BACI V202301 labels it BEL; Comtrade alpha-3 code unknown"),
    dict(iso3="SCG", name="Serbia and Montenegro", comtrade="891", baci="891",
         origin="iso3166-3", note=""),
    dict(iso3="ANT", name="Netherlands Antilles", comtrade="530", baci="530",
         origin="iso3166-3", note=""),
    dict(iso3="XNA", name="Neth. Antilles and Aruba", comtrade="532", baci="",
         origin="transship", note="Comtrade alpha-3 code unknown"),
    dict(iso3="SUN", name="Former USSR", comtrade="810", baci="810", origin="iso3166-3",
         note=""),
    dict(iso3="CSK", name="Czechoslovakia", comtrade="200", baci="200", origin="iso3166-3",
         note=""),
    dict(iso3="DDR", name="Former Democratic Republic of Germany", comtrade="278",
         baci="278", origin="iso3166-3", note=""),
    dict(iso3="YUG", name="Former Yugoslavia", comtrade="890", baci="", origin="iso3166-3",
         note=""),
    dict(iso3="XSD", name="Former Sudan", comtrade="736", baci="736", origin="transship",
         note="Sudan before South Sudan's secession (2011); BACI V202301 labels it SDN"),
    dict(iso3="PUS", name="US Misc. Pacific Isds", comtrade="849", baci="849",
         origin="iso3166-3", note="BACI V202301 gives no alpha-3 code (N/A)"),
    dict(iso3="XNS", name="Areas, nes", comtrade="899", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XBK", name="Bunkers", comtrade="837", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XFZ", name="Free Zones", comtrade="838", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XSC", name="Special Categories", comtrade="839", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XEU", name="Europe EU, nes", comtrade="492", baci="", origin="transship",
         note="Comtrade 492 collides with ISO 492 (Monaco)"),
    dict(iso3="XOE", name="Other Europe, nes", comtrade="568", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XOF", name="Other Africa, nes", comtrade="577", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XNF", name="Northern Africa, nes", comtrade="290", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XAF", name="Africa CAMEU region, nes", comtrade="472", baci="",
         origin="transship", note="Comtrade alpha-3 code unknown"),
    dict(iso3="XOC", name="Oceania, nes", comtrade="527", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XRA", name="Rest of America, nes", comtrade="636", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XNC", name="North America and Central America, nes", comtrade="637", baci="",
         origin="transship", note="Comtrade alpha-3 code unknown"),
    dict(iso3="XCB", name="Caribbean, nes", comtrade="129", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XCM", name="CACM, nes", comtrade="471", baci="", origin="transship",
         note="Central American Common Market; Comtrade alpha-3 code unknown"),
    dict(iso3="XLA", name="LAIA, nes", comtrade="473", baci="", origin="transship",
         note="Latin American Integration Association; Comtrade alpha-3 code unknown"),
    dict(iso3="XEE", name="Eastern Europe, nes", comtrade="221", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
    dict(iso3="XWA", name="Western Asia, nes", comtrade="879", baci="", origin="transship",
         note="Comtrade alpha-3 code unknown"),
]

# Common English short names used on the command line, beyond pycountry's names.
EXTRA_ALIASES = {
    "RUS": ["Russia"], "TUR": ["Turkey", "Turkiye"], "GBR": ["UK", "Great Britain"],
    "USA": ["US", "United States of America"], "KOR": ["South Korea", "Korea"],
    "PRK": ["North Korea"], "IRN": ["Iran"], "TWN": ["Taiwan"], "VNM": ["Vietnam"],
    "CZE": ["Czech Republic"], "SYR": ["Syria"], "LAO": ["Laos"], "MDA": ["Moldova"],
    "BOL": ["Bolivia"], "VEN": ["Venezuela"], "TZA": ["Tanzania"], "ARE": ["UAE"],
    "HKG": ["Hong Kong"], "MAC": ["Macao", "Macau"], "KGZ": ["Kyrgyz Republic"],
}

# Comtrade / BACI short names (aliases) where they differ from the ISO name.
TRADE_NAMES = {
    "USA": ["USA"], "KOR": ["Rep. of Korea"], "CZE": ["Czechia"], "BIH": ["Bosnia Herzegovina"],
    "CHN": ["China"], "HKG": ["China, Hong Kong SAR"], "MAC": ["China, Macao SAR"],
    "MDA": ["Rep. of Moldova"], "TZA": ["United Rep. of Tanzania"],
    "COD": ["Dem. Rep. of the Congo"], "PRK": ["Dem. People's Rep. of Korea"],
    "LAO": ["Lao People's Dem. Rep."], "CAF": ["Central African Rep."],
    "DOM": ["Dominican Rep."], "MKD": ["TFYR of Macedonia"], "SWZ": ["Swaziland"],
}


# Territories BACI V202301 folds into another code (its full names for 251, 757, 579, 842).
BACI_INCLUDED_IN = {
    "MCO": "251 (France, Monaco)", "LIE": "757 (Switzerland, Liechtenstein)",
    "SJM": "579 (Norway, Svalbard and Jan Mayen)",
    "PRI": "842 (USA, Puerto Rico and US Virgin Islands)",
    "VIR": "842 (USA, Puerto Rico and US Virgin Islands)",
}


def build() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    baci_by_iso = {v: k for k, v in BACI_V202301.items() if v and k not in (58, 280, 711, 736)}
    for c in sorted(pycountry.countries, key=lambda c: c.alpha_3):
        iso3, num = c.alpha_3, int(c.numeric)
        if iso3 in COMTRADE_PRIMARY:
            comtrade = str(COMTRADE_PRIMARY[iso3])
        elif num in COMTRADE_LEGACY_IDS and num not in COMTRADE_NOT_ISO:
            comtrade = str(num)
        else:
            comtrade = ""
        aliases = [getattr(c, "common_name", ""), getattr(c, "official_name", "")]
        aliases += EXTRA_ALIASES.get(iso3, []) + TRADE_NAMES.get(iso3, [])
        aliases = sorted({a for a in aliases if a and a != c.name})
        notes = []
        if iso3 == "TWN":
            notes.append("not in UN M49; Comtrade/BACI record Taiwan's partner trade as 490 "
                         "'Other Asia, nes' (S19)")
        if comtrade and comtrade != str(num):
            notes.append(f"Comtrade code {comtrade} differs from ISO/M49 {num}")
        if not comtrade and iso3 != "TWN":
            notes.append("no own code in the Comtrade partner list")
        if iso3 in BACI_INCLUDED_IN:
            notes.append(f"BACI includes it in {BACI_INCLUDED_IN[iso3]}")
        rows.append(
            dict(
                iso3=iso3,
                iso2=c.alpha_2,
                name=c.name,
                kind="country",
                iso3_origin="iso3166-1",
                m49="" if iso3 == "TWN" else str(num),
                comtrade=comtrade,
                comtrade_alt=COMTRADE_ALT.get(iso3, ""),
                baci=str(baci_by_iso[iso3]) if iso3 in baci_by_iso else "",
                baci_alt=BACI_ALT.get(iso3, ""),
                aliases=";".join(aliases),
                notes="; ".join(notes),
            )
        )
    for s in SPECIAL_AREAS:
        rows.append(
            dict(iso3=s["iso3"], iso2="", name=s["name"], kind="area",
                 iso3_origin=s["origin"], m49="", comtrade=s["comtrade"], comtrade_alt="",
                 baci=s["baci"], baci_alt="", aliases="", notes=s["note"])
        )
    _check(rows)
    return rows


def _check(rows: list[dict[str, str]]) -> None:
    """Every BACI and Comtrade code is used once, and every listed BACI code is placed."""
    for scheme in ("comtrade", "baci"):
        seen: dict[str, str] = {}
        for r in rows:
            for code in filter(None, [r[scheme], *r[scheme + "_alt"].split(";")]):
                if code in seen:
                    sys.exit(f"{scheme} code {code} used by {seen[code]} and {r['iso3']}")
                seen[code] = r["iso3"]
    placed = {r["baci"] for r in rows} | {r["baci_alt"] for r in rows}
    missing = sorted(str(k) for k in BACI_V202301 if str(k) not in placed)
    if missing:
        sys.exit(f"BACI codes not placed: {missing}")
    for r in rows:
        if r["baci"] and r["kind"] == "country":
            expected = BACI_V202301[int(r["baci"])]
            if expected != r["iso3"]:
                sys.exit(f"BACI {r['baci']} is {expected}, not {r['iso3']}")


def main() -> None:
    rows = build()
    OUT.mkdir(parents=True, exist_ok=True)
    with (OUT / "countries.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    unplaced = sorted(COMTRADE_LEGACY_IDS - {int(x) for r in rows for x in
                      filter(None, [r["comtrade"], *r["comtrade_alt"].split(";")])})
    print(f"wrote {len(rows)} rows; legacy Comtrade ids not placed (pre-1990 areas): {unplaced}")


if __name__ == "__main__":
    main()
