"""Names written in Greek and Hangul against their Latin spellings (screening/scripts.py)."""

from __future__ import annotations

from transship.screening.matcher import Matcher
from transship.screening.names import name_parts
from transship.screening.scripts import (
    GREEK,
    HANGUL,
    HEBREW,
    KANA,
    greek_latin,
    hebrew_vowels,
    kana_key,
    kana_latin,
    korean_key,
    mccune_reischauer,
    name_script,
)


def test_greek_is_romanized_as_modern_greek_names_are_spelt() -> None:
    # ICU writes classical Greek (basileios, demetrios, euangelos, photes)
    assert name_parts("Βασίλειος Παπαδόπουλος") == ("vasileios", "papadopoulos")
    assert name_parts("Δημήτριος Βασιλείου") == ("dimitrios", "vasileiou")
    assert greek_latin("ευάγγελος ευθύμιος φώτης") == "evangelos efthymios fotis"
    assert greek_latin("μπακογιάννης χρυσοχοΐδης") == "bakogiannis chrysochoidis"
    assert name_script("Αλέξανδρος") == GREEK and name_script("Alexandros") == ""


def test_greek_names_match_their_english_spellings() -> None:
    m = Matcher([])
    # watchman cross-script dev: Αλέξανδρος / Alexander scored 70.0 (ICU's alexandros)
    for greek, latin in (
        ("Αλέξανδρος", "Alexander"),
        ("Γεώργιος Παπαδόπουλος", "George Papadopoulos"),
        ("Θεόδωρος", "Theodore"),
        ("Κωνσταντίνος Μητσοτάκης", "Konstantinos Mitsotakis"),
        ("Νικόλαος", "Nikolaos"),
    ):
        score, why = m.compare(greek, latin, schema="Person")
        assert score >= 80, (greek, score, why)
    assert m.compare("Αλέξανδρος", "Alexander", schema="Person")[0] == 85.5
    for greek, latin in (("Αλέξανδρος", "David"), ("Νικόλαος", "Mohamed Ali"),
                         ("Αλέξανδρος", "Alexandra Petrova")):  # fmt: skip
        assert m.compare(greek, latin, schema="Person")[0] < 80, (greek, latin)


def test_korean_syllables_share_a_key_across_romanizations() -> None:
    # ICU's spelling, then McCune-Reischauer's and customary ones
    for icu, others in (
        ("bag", ("park", "pak", "bak")),
        ("i", ("lee", "yi", "rhee", "ri")),
        ("seong", ("sung", "song")),
        ("myeong", ("myung", "myong")),
        ("no", ("roh", "noh")),
        ("choe", ("choi",)),
        ("jeong", ("jung", "chung")),
        ("eun", ("un",)),
        ("mu", ("moo",)),
    ):
        assert all(korean_key(icu) == korean_key(o) for o in others), icu
    assert korean_key("gim") != korean_key("kang") and korean_key("bag") != korean_key("bae")
    assert korean_key("beulladimileu") == korean_key("vladimir")  # 블라디미르


def test_hangul_names_match_their_latin_spellings() -> None:
    m = Matcher([])
    assert name_script("박지성") == HANGUL
    assert name_parts("박지성") == ("bag", "ji", "seong")
    # watchman cross-script dev: 박지성 / Park Ji Sung 62.7; rigour's 블라디미르 푸틴 18.1
    for hangul, latin, want in (
        ("박지성", "Park Ji Sung", 90.0),
        ("박지성", "Park Jisung", 85.0),
        ("이명박", "Lee Myung-bak", 85.0),
        ("노무현", "Roh Moo-hyun", 85.0),
        ("김정은", "Kim Jong Un", 85.0),
        ("블라디미르 푸틴", "Vladimir Putin", 94.0),
    ):
        score, why = m.compare(hangul, latin, schema="Person")
        assert score == want, (hangul, score, why)
    for hangul, latin in (
        ("박지성", "Li Ming"),
        ("김정은", "Kim Jong Il"),
        ("김정은", "Alexander Petrov"),
        ("블라디미르 푸틴", "Dmitry Medvedev"),
    ):
        assert m.compare(hangul, latin, schema="Person")[0] < 80, (hangul, latin)


def test_latin_names_keep_their_spellings_apart() -> None:
    # the keys are for a name written in that script only: two Latin names are not one
    m = Matcher([])
    assert m.compare("Sung Park", "Song Bak", schema="Person")[0] < 80
    assert m.compare("Alexandros Nikou", "Alexander Nikou", schema="Person")[0] < 92


def test_hebrew_names_match_their_english_spellings() -> None:
    # י is English j and ת its th: 42.5 before (bnymyn / benjamin kept its j as Arabic ج's g)
    m = Matcher([])
    assert name_script("בנימין נתניהו") == HEBREW
    for hebrew, latin in (
        ("בנימין נתניהו", "Benjamin Netanyahu"),
        ("יוסף כהן", "Joseph Cohen"),
        ("יעקב לוי", "Jacob Levy"),
        ("יונתן", "Jonathan"),
    ):
        assert m.compare(hebrew, latin, schema="Person")[0] == 85.0, hebrew
    assert m.compare("סרגיי לברוב", "Sergey Lavrov", schema="Person")[0] == 86.5  # ב as v
    assert m.compare("בנימין נתניהו", "Bashar al-Assad", schema="Person")[0] < 80
    assert m.compare("יוסף כהן", "Jamal Cohen", schema="Person")[0] < 80


def test_a_hangul_name_retrieves_its_mccune_reischauer_spelling() -> None:
    # ICU's i byeong cheol shares too few retrieval keys with the listed RI, Pyong Chol: 40
    # names spelt like ICU's crowd it out unless the McCune-Reischauer spelling is looked up
    assert [mccune_reischauer(t) for t in ("li", "byeong", "cheol", "bag", "bong")] == [
        "ri", "pyong", "chol", "pak", "pong"
    ]  # fmt: skip
    names = ["RI, Pyong Chol"] + [f"Yun{k} Byeong Cheol" for k in range(40)]
    names += [f"Company{k} Trading" for k in range(300)]
    rows = [("t", f"e{k}", n, n, n.lower(), [], "", "Person") for k, n in enumerate(names)]
    m = Matcher.from_rows(rows)
    hits = m.screen("리병철")
    assert [(h.entity_id, h.level, h.score) for h in hits] == [("e0", "FLAG", 85.0)]
    assert not m.screen("박봉주")  # no such person listed


def test_a_hebrew_name_retrieves_by_its_vowel_letters_read() -> None:
    # ICU's wldymyr pwtyn shares no skeleton with Putin (pvtn / ptn): not retrieved before
    assert hebrew_vowels("pwtyn") == "putin" and hebrew_vowels("wldymyr") == "vldimir"
    names = ["PUTIN, Vladimir Vladimirovich", "LAVROV, Sergey Viktorovich"]
    names += [f"Company{k} Trading" for k in range(300)]
    rows = [("t", f"e{k}", n, n, n.lower(), [], "", "Person") for k, n in enumerate(names)]
    m = Matcher.from_rows(rows)
    assert [h.entity_id for h in m.screen("ולדימיר פוטין")] == ["e0"]
    assert [h.entity_id for h in m.screen("סרגיי לברוב")] == ["e1"]


def test_foreign_names_in_kana_match_their_latin_spellings() -> None:
    # ICU writes urajimiru puchin: a vowel after each consonant, l as r, v as b or u
    m = Matcher([])
    assert name_script("ウラジーミル・プーチン") == KANA and name_script("山田タロウ") == ""
    assert kana_key("puchin") == kana_key("putin") and kana_key("toranpu") == kana_key("trump")
    for kana, latin, schema, want in (
        ("ウラジーミル・プーチン", "Vladimir Putin", "Person", 85.0),
        ("セルゲイ・ラブロフ", "Sergey Lavrov", "Person", 86.5),
        ("ドナルド・トランプ", "Donald Trump", "Person", 85.0),
        ("ガスプロム", "Gazprom", "Organization", 88.0),
        ("バシャール・アル＝アサド", "Bashar al-Assad", "Person", 86.5),
    ):
        assert m.compare(kana, latin, schema=schema)[0] == want, kana
    for kana, latin, schema in (
        ("セルゲイ・ラブロフ", "Sergey Lebedev", "Person"),
        ("ドナルド・トランプ", "Ronald Tramp", "Person"),
        ("ガスプロム", "Rosneft", "Organization"),
        ("ウラジーミル・プーチン", "Dmitry Medvedev", "Person"),
    ):
        assert m.compare(kana, latin, schema=schema)[0] < 80, (kana, latin)
    # and retrieves by its spelling without the vowels Japanese adds
    assert kana_latin("urajimiru") == "uradimir" and kana_latin("gasupuromu") == "gasprom"
    names = ["PUTIN, Vladimir Vladimirovich"] + [f"Company{k} Trading" for k in range(300)]
    rows = [("t", f"e{k}", n, n, n.lower(), [], "", "Person") for k, n in enumerate(names)]
    assert [h.entity_id for h in Matcher.from_rows(rows).screen("ウラジーミル・プーチン")] == ["e0"]
