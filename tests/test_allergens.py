"""Allergies matched by allergen class (course/allergens.py, course/data/allergens.toml).

The synonym map is curated data; these tests pin the clinically important matches of
clinical-brief.md §9 (fish → polynucleotides/PDRN; lidocaine or "local anaesthetic" → HA skin
boosters; bee or wasp venom → hyaluronidase), the normalisation, and the non-matches that
keep the aid from declining everyone (shellfish is not fish, bee pollen is not venom).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from course.allergens import ALLERGENS_PATH, AllergenMap, as_table, load_allergens, words
from course.content import ContentError, content
from course.risk import rules

AMIDE, ESTER = "amide_local_anaesthetics", "ester_local_anaesthetics"
VENOM = "hymenoptera_venom"


@pytest.fixture(scope="module")
def allergens() -> AllergenMap:
    return rules().allergens


# ---------------------------------------------------------------- normalisation


@pytest.mark.parametrize(("a", "b"), [
    ("Local-Anaesthetics", "local anaesthetic"),
    ("BEE  STINGS", "bee sting"),
    ("Lidocaïne", "lidocaine"),
    ("anchovies", "anchovy"),
    ("sodium_deoxycholate", "Sodium deoxycholate"),
    ("wasps", "wasp"),
    ("PC/DC", "pc dc"),
    ("NSAIDs", "nsaid"),
])
def test_case_accents_spacing_punctuation_and_plurals_are_folded(a: str, b: str) -> None:
    assert words(a) == words(b)


def test_folding_keeps_different_words_apart() -> None:
    assert words("shellfish") != words("fish")
    assert words("glass") == ("glass",) and words("hyaluronidase") != words("hyaluronic")


# ---------------------------------------------------------------- the synonym map

SYNONYMS = [
    # (free text as a patient or a letter writes it, classes it must name)
    ("fish", {"fish"}), ("Salmon", {"fish"}), ("trout", {"fish"}), ("smoked salmon", {"fish"}),
    ("fish (hives)", {"fish"}), ("Seafood", {"fish"}), ("cod and haddock", {"fish"}),
    ("lidocaine", {AMIDE}), ("Lignocaine", {AMIDE}), ("xylocaine", {AMIDE}),
    ("bupivacaine", {AMIDE}),
    ("local anaesthetic", {AMIDE, ESTER}), ("Local anesthetics", {AMIDE, ESTER}),
    ("allergic to local anaesthetic at the dentist", {AMIDE, ESTER}),
    ("procaine", {ESTER}), ("Novocaine", {ESTER}), ("benzocaine", {ESTER}),
    ("bee venom", {VENOM}), ("wasp", {VENOM}), ("Wasp stings", {VENOM}),
    ("bee/wasp venom", {VENOM}), ("anaphylaxis to a hornet sting", {VENOM}),
    ("hyaluronidase", {"hyaluronidase"}), ("Hyalase", {"hyaluronidase"}),
    ("PDRN", {"polynucleotides"}), ("polynucleotides", {"polynucleotides"}),
    ("salmon DNA", {"polynucleotides", "fish"}),
    ("salmon calcitonin", {"calcitonin"}),
    ("ethylenediamine", {"ethylenediamine"}), ("aminophylline", {"methylxanthines",
                                                                  "ethylenediamine"}),
    ("caffeine", {"methylxanthines"}), ("theophylline", {"methylxanthines"}),
    ("ibuprofen", {"nsaids"}), ("aspirin", {"nsaids"}), ("Ketoprofen", {"nsaids"}),
    ("finasteride", {"five_alpha_reductase_inhibitors"}),
    ("TXA", {"tranexamic_acid"}), ("soya lecithin", {"soya"}), ("PABA", {"paba"}),
    ("sodium hyaluronate", {"hyaluronic_acid"}),
]


@pytest.mark.parametrize(("entry", "expected"), SYNONYMS, ids=[s[0] for s in SYNONYMS])
def test_synonyms_name_their_allergen_class(allergens: AllergenMap, entry: str,
                                            expected: set[str]) -> None:
    assert allergens.classes_of(entry) == expected


@pytest.mark.parametrize("entry", ["penicillin", "shellfish", "prawns", "bee pollen",
                                   "honey", "NKDA", "no known allergies", "latex", "nickel",
                                   "jellyfish", "snake venom"])
def test_unrelated_or_look_alike_entries_name_no_class(allergens: AllergenMap,
                                                       entry: str) -> None:
    assert allergens.classes_of(entry) == frozenset()


def test_every_synonym_in_the_file_finds_its_own_class(allergens: AllergenMap) -> None:
    for row in as_table(allergens):
        assert row["synonyms"], row["class"]
        for synonym in row["synonyms"]:
            assert row["class"] in allergens.classes_of(synonym), (row["class"], synonym)


# ---------------------------------------------------------------- products


def test_every_catalogue_substance_has_an_allergen_record(allergens: AllergenMap) -> None:
    assert set(allergens.products) == set(content().substances)


@pytest.mark.parametrize("substance_id", sorted(content().substances))
def test_an_allergy_written_as_the_substance_id_or_name_is_direct(
    allergens: AllergenMap, substance_id: str
) -> None:
    name = content().substances[substance_id].name
    for entry in (substance_id, name, substance_id.upper().replace("_", " ")):
        direct, cross = allergens.match(substance_id, [entry], name)
        assert [m.entry for m in direct] == [entry.strip()], entry
        assert cross == []


@pytest.mark.parametrize(("substance", "entry", "klass"), [
    ("hyaluronidase", "wasp venom", VENOM),
    ("hyaluronidase", "bee stings", VENOM),
    ("polynucleotides", "salmon", "fish"),
    ("polynucleotides", "trout", "fish"),
    ("hyaluronic_acid", "lignocaine", AMIDE),
    ("hyaluronic_acid", "local anaesthetic", AMIDE),
    ("procaine", "PABA", "paba"),
    ("pc_dc", "soya", "soya"),
])
def test_known_cross_reactions_match_with_their_reason(allergens: AllergenMap, substance: str,
                                                       entry: str, klass: str) -> None:
    direct, cross = allergens.match(substance, ["penicillin", entry])
    assert direct == []
    assert [(m.entry, m.classes) for m in cross] == [(entry, (klass,))]
    assert cross[0].why and entry in allergens.describe(cross)


@pytest.mark.parametrize(("substance", "entry"), [
    ("lidocaine", "lignocaine"), ("lidocaine", "local anaesthetic"), ("procaine", "novocaine"),
    ("polynucleotides", "PDRN"), ("aminophylline", "theophylline"),
    ("ketoprofen", "NSAIDs"), ("deoxycholic_acid", "Kybella"),
])
def test_direct_matches_go_by_class(allergens: AllergenMap, substance: str, entry: str) -> None:
    direct, cross = allergens.match(substance, [entry])
    assert [m.entry for m in direct] == [entry] and cross == []


def test_an_entry_matched_directly_is_not_repeated_as_a_cross_reaction(
        allergens: AllergenMap) -> None:
    direct, cross = allergens.match("polynucleotides", ["salmon DNA"])
    assert [m.entry for m in direct] == ["salmon DNA"] and cross == []


@pytest.mark.parametrize(("substance", "entry"), [
    ("lidocaine", "procaine"),          # amide vs ester: no class cross-reaction assumed
    ("hyaluronic_acid", "bee venom"),   # venom cross-reacts with hyaluronidase, not HA
    ("hyaluronic_acid", "hyaluronidase"),
    ("calcitonin", "fish"),
    ("polynucleotides", "shellfish"),
])
def test_look_alikes_do_not_match(allergens: AllergenMap, substance: str, entry: str) -> None:
    assert allergens.match(substance, [entry]) == ([], [])


def test_a_substance_missing_from_the_map_still_matches_its_own_name(
        allergens: AllergenMap) -> None:
    direct, cross = allergens.match("new_drug", ["New drug", "fish"], "New drug")
    assert [m.entry for m in direct] == ["New drug"] and cross == []


# ---------------------------------------------------------------- the data file


@pytest.fixture
def allergen_file(tmp_path: Path) -> Path:
    path = tmp_path / "allergens.toml"
    path.write_text(ALLERGENS_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.mark.parametrize(("old", "new", "message"), [
    ('[products.vitamin_c]\ncontains = ["vitamin_c"]',
     '[products.vitamin_c]\ncontains = ["vitamin_d"]', r"product 'vitamin_c'.*allergen class"),
    ("[products.buflomedil]", "[products.botox]", r"product 'botox': unknown substance id"),
    ('phrases = ["no known allergy"', 'phrases = ["salmon", "no known allergy"',
     r"'salmon' is also a synonym of fish"),
    ('[classes.buflomedil]\nname = "buflomedil"\n', '[classes.buflomedil]\n',
     r"class 'buflomedil': missing required field 'name'"),
    ('contains = ["polynucleotides"]', 'contains = ["polynucleotides", "fish"]',
     r"both contained and cross-reactive"),
])
def test_an_invalid_allergen_file_is_refused(allergen_file: Path, old: str, new: str,
                                             message: str) -> None:
    text = allergen_file.read_text(encoding="utf-8")
    assert old in text
    allergen_file.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ContentError, match=message):
        load_allergens(allergen_file, content().substances)


def test_the_course_allergen_file_loads(allergen_file: Path) -> None:
    loaded = load_allergens(allergen_file, content().substances)
    assert loaded.classes_of("wasp") == frozenset({VENOM})
