"""Allergies matched by allergen class — part of the screening teaching aid.

Teaching aid — not a validated clinical tool. ``course/data/allergens.toml`` holds a curated
map from the ways an allergy is written ("salmon", "lignocaine", "wasp stings") to allergen
classes (fish, amide local anaesthetics, hymenoptera venom), and for each catalogue product
the classes it contains and the classes known to cross-react with it or that it is made
from. :func:`match` is pure: it says which of a patient's allergy entries concern a product,
directly or by cross-reaction. Normalisation (:func:`words`) folds case and accents, reads
hyphens, underscores, slashes and other punctuation as spaces, and makes simple plurals
singular, so "Local-Anaesthetics" and "local anaesthetic" are the same phrase.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.catalogue import DataFile
from course.content import TEXT, TEXT_LIST, ContentError, Rule, validated
from course.paths import DATA_DIR

_NOT_WORD = re.compile(r"[^a-z0-9]+")


def _singular(word: str) -> str:
    """'anchovies' → 'anchovy', 'wasps' → 'wasp', 'glass' and 'herpes'-like words kept apart."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(text: str) -> tuple[str, ...]:
    """'Bee-Stings (anaphylaxis)' → ('bee', 'sting', 'anaphylaxi'): the matching form."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return tuple(_singular(w) for w in _NOT_WORD.sub(" ", folded).split())


@dataclass(frozen=True)
class AllergenClass:
    id: str
    name: str


@dataclass(frozen=True)
class Product:
    """The allergen classes one catalogue substance contains, and its cross-reactions."""

    contains: frozenset[str]
    cross_reactive: Mapping[str, str]


@dataclass(frozen=True)
class Match:
    """One allergy entry that concerns a product."""

    entry: str
    classes: tuple[str, ...]
    why: str = ""
    """Empty for a direct allergy; the cross-reaction's explanation otherwise."""


@dataclass(frozen=True)
class AllergenMap:
    classes: Mapping[str, AllergenClass]
    phrases: Mapping[tuple[str, ...], frozenset[str]]
    products: Mapping[str, Product]
    longest: int

    def classes_of(self, entry: str) -> frozenset[str]:
        """The allergen classes one free-text entry names (longest phrase first)."""
        tokens, found, i = words(entry), set(), 0
        while i < len(tokens):
            for size in range(min(self.longest, len(tokens) - i), 0, -1):
                phrase = tokens[i:i + size]
                if phrase in self.phrases:
                    found |= self.phrases[phrase]
                    i += size
                    break
            else:
                i += 1
        return frozenset(found)

    def product(self, substance_id: str) -> Product:
        """The product's record; an unlisted substance is matched by its own id and name."""
        if substance_id in self.products:
            return self.products[substance_id]
        return Product(frozenset({f"substance:{substance_id}"}), {})

    def match(self, substance_id: str, entries: Iterable[str], name: str = ""
              ) -> tuple[list[Match], list[Match]]:
        """(direct, cross-reactive) matches of the allergy entries against one product."""
        product = self.product(substance_id)
        own = {words(substance_id), words(name)} if substance_id not in self.products else set()
        direct, cross = [], []
        for entry in entries:
            classes = self.classes_of(entry)
            if classes & product.contains or (own and words(entry) in own):
                hit = sorted(classes & product.contains) or [f"substance:{substance_id}"]
                direct.append(Match(entry.strip(), tuple(hit)))
                continue
            reactive = sorted(set(product.cross_reactive) & classes)
            if reactive:
                why = "; ".join(product.cross_reactive[c] for c in reactive)
                cross.append(Match(entry.strip(), tuple(reactive), why))
        return direct, cross

    def describe(self, matches: list[Match]) -> str:
        """'salmon [fish]: polynucleotides …': each entry, its classes and any cross-reaction."""
        parts = []
        for m in matches:
            names = ", ".join(self.classes[c].name if c in self.classes else c.split(":")[-1]
                              for c in m.classes)
            parts.append(f"{m.entry} [{names}]{': ' + m.why if m.why else ''}")
        return "; ".join(parts)


def _class_list(known: Iterable[str]) -> Rule:
    known = tuple(known)
    return Rule(lambda v: isinstance(v, list) and bool(v) and all(x in known for x in v),
                f"a non-empty list of allergen class ids ({', '.join(known)})")


def _allergens(data: dict[str, Any], path: Path,
               substance_ids: Iterable[str] | None = None) -> AllergenMap:
    where = path.name
    top = validated(data, where, {
        "classes": Rule(lambda v: isinstance(v, dict) and bool(v), "a non-empty table"),
        "not_allergens": Rule(lambda v: isinstance(v, dict), "a table"),
        "products": Rule(lambda v: isinstance(v, dict) and bool(v), "a non-empty table"),
    })
    classes: dict[str, AllergenClass] = {}
    phrases: dict[tuple[str, ...], set[str]] = {}
    for class_id, record in top["classes"].items():
        fields = validated(record, f"{where}: class {class_id!r}",
                           {"name": TEXT, "synonyms": TEXT_LIST})
        classes[class_id] = AllergenClass(class_id, fields["name"])
        for synonym in fields["synonyms"]:
            phrases.setdefault(words(synonym), set()).add(class_id)
    ignored = validated(top["not_allergens"], f"{where}: not_allergens", {"phrases": TEXT_LIST})
    for phrase in ignored["phrases"]:
        key = words(phrase)
        if phrases.get(key):
            raise ContentError(f"{where}: not_allergens: {phrase!r} is also a synonym of "
                               f"{', '.join(sorted(phrases[key]))}")
        phrases[key] = set()
    known = tuple(substance_ids) if substance_ids is not None else None
    products: dict[str, Product] = {}
    for substance_id, record in top["products"].items():
        at = f"{where}: product {substance_id!r}"
        if known is not None and substance_id not in known:
            raise ContentError(f"{at}: unknown substance id")
        fields = validated(record, at, {"contains": _class_list(classes)},
                           {"cross_reactive": Rule(
                               lambda v: isinstance(v, dict) and bool(v)
                               and all(k in classes and TEXT.check(t) for k, t in v.items()),
                               "a table of allergen class id = why")})
        cross = fields.get("cross_reactive", {})
        if set(cross) & set(fields["contains"]):
            raise ContentError(f"{at}: a class cannot be both contained and cross-reactive")
        products[substance_id] = Product(frozenset(fields["contains"]), dict(cross))
    return AllergenMap(
        classes=classes,
        phrases={k: frozenset(v) for k, v in phrases.items()},
        products=products,
        longest=max(len(k) for k in phrases),
    )


ALLERGENS = DataFile(DATA_DIR / "allergens.toml", _allergens)
ALLERGENS_PATH = ALLERGENS.path


def load_allergens(path: Path = ALLERGENS_PATH,
                   substance_ids: Iterable[str] | None = None) -> AllergenMap:
    """Read and validate the allergen map; ContentError names the file and the entry.

    With ``substance_ids``, every product must be one of them (the risk rules pass the
    course's substances).
    """
    return ALLERGENS.load(path, substance_ids=substance_ids)


def as_table(allergens: AllergenMap) -> list[dict[str, Any]]:
    """Every class with its synonyms (for a notebook table or a check)."""
    rows = []
    for class_id, allergen in allergens.classes.items():
        synonyms = sorted(" ".join(k) for k, v in allergens.phrases.items() if class_id in v)
        rows.append({"class": class_id, "name": allergen.name, "synonyms": synonyms})
    return rows
