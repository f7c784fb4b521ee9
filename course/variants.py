"""Per-learner variants of numeric items: each learner gets their own numbers.

Parameters are drawn from a seed derived from the learner's id and the item's id (SHA-256,
so the same learner always sees the same numbers, and learners differ). The learner's id
is the JupyterHub user (``JUPYTERHUB_USER``) in a cohort, where nbgrader's student id is
that same name, or :data:`SELF_STUDY_ID` for a self-study learner, which is the student
id ``course check`` grades under.

The key is never written into a notebook: the learner's kernel shows the stem (the
numbers, :func:`course.views.variants.your_numbers`), and the hidden test, run by the
grader outside the learner's kernel with the learner it is grading as ``LEARNER_ID``
(:func:`graded_learner`; course.grading.trusted_tests), recomputes the key and prints the
learner's numbers and the working, which is what the learner's feedback shows. The
grader also gives the grading kernel that learner (:data:`LEARNER_ENV`), so the numbers
the graded notebook shows are the learner's own.

Pure functions: no display, no I/O beyond reading the environment in :func:`learner_id`.
"""

from __future__ import annotations

import calendar
import hashlib
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

SELF_STUDY_ID = "self-study"
"""The learner id of self-study (the nbgrader student id ``course check`` grades under)."""

LEARNER_ENV = "COURSE_LEARNER_ID"
"""Set by the grader in a grading kernel's environment: the learner being graded."""

_SALT = "mesotherapy-course-variants-v1"


def learner_id(environ: Mapping[str, str] | None = None) -> str:
    """The learner a grader named (:data:`LEARNER_ENV`, in a grading kernel), else the
    JupyterHub user when there is one, else the self-study id."""
    environ = os.environ if environ is None else environ
    return (environ.get(LEARNER_ENV, "").strip() or environ.get("JUPYTERHUB_USER", "").strip()
            or SELF_STUDY_ID)


def __getattr__(name: str) -> str:
    """``LEARNER_ID``: this process's learner (:func:`learner_id`), read when it is
    imported -- what a notebook's set-up cell imports (``from course.variants import
    LEARNER_ID``), so a kernel forked from a preloaded zygote still reads its own
    environment. The grader puts the learner it grades in its place
    (course.grading.trusted_tests)."""
    if name == "LEARNER_ID":
        return learner_id()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def graded_learner(student: str, environ: Mapping[str, str] | None = None) -> str:
    """The learner whose numbers a grader checks for nbgrader student ``student``: that
    student, except the self-study id, which stands for whoever runs the check (the hub
    user when ``course check`` runs on a hub)."""
    student = student.strip()
    return learner_id(environ) if student in ("", SELF_STUDY_ID) else student


def seed(learner: str, item: str) -> int:
    """A stable 64-bit seed for one learner and one item."""
    digest = hashlib.sha256(f"{_SALT}\x1f{item}\x1f{learner}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


Parameters = Mapping[str, float]
Shown = Mapping[str, float | str]
"""Values a stem or working names: parameters, and derived numbers or words (dates)."""


@dataclass(frozen=True)
class VariantItem:
    """A numeric item whose numbers vary by learner."""

    item: str
    choices: Mapping[str, Sequence[float]]
    """Each parameter's allowed values (plausible clinical values only)."""
    key: Callable[[Parameters], float]
    stem: str
    """The learner's numbers, as a sentence (``str.format`` with the parameters)."""
    working: str
    """The worked answer printed by the hidden test (``str.format`` with the parameters
    and ``key``)."""
    unit: str
    tolerance: float
    derived: Callable[[Parameters], Shown] = lambda parameters: {}
    """Intermediate values the stem and working name (e.g. mg per mL, a date)."""

    def draw(self, learner: str) -> Parameters:
        generator = random.Random(seed(learner, self.item))
        return {name: generator.choice(list(values)) for name, values in self.choices.items()}


@dataclass(frozen=True)
class Variant:
    item: VariantItem
    learner: str
    parameters: Parameters

    @property
    def key(self) -> float:
        return round(self.item.key(self.parameters), 6)

    @property
    def _values(self) -> dict[str, str]:
        return _shown({**self.parameters, **self.item.derived(self.parameters)})

    @property
    def stem(self) -> str:
        return self.item.stem.format(**self._values)

    @property
    def working(self) -> str:
        return self.item.working.format(**self._values, key=_number(self.key))

    @property
    def feedback(self) -> str:
        """What the hidden test prints: the learner's numbers, then the working."""
        return f"Your numbers: {self.stem}\n{self.working}"

    def within(self, answer: float | None) -> bool:
        """True when ``answer`` is within the item's tolerance of this variant's key."""
        return answer is not None and abs(answer - self.key) <= self.item.tolerance + 1e-9


def _number(value: float) -> str:
    """A number as a person writes it: 80, 2.2, 0.75 (no trailing zeros)."""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _shown(values: Shown) -> dict[str, str]:
    return {name: value if isinstance(value, str) else _number(value)
            for name, value in values.items()}


# ---------------------------------------------------------------- session spans (dates)

SPAN_YEAR_START = date(2025, 1, 1)
"""Day 0 of a session span's treatment date (``treatment_day`` counts days from it)."""

NTM_MEAN_WEEKS = 9.8
"""Mean weeks from treatment to diagnosis of NTM infection in a case series [R39]."""


def span_day(offset: float) -> date:
    """The date ``offset`` days after :data:`SPAN_YEAR_START`."""
    return SPAN_YEAR_START + timedelta(days=int(offset))


def long_date(day: date) -> str:
    """A date as a person writes it: 6 February 2025."""
    return f"{day.day} {day:%B} {day.year}"


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st, 22nd."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(
        number % 10, "th")
    return f"{number}{suffix}"


def days_counted(start: date, end: date) -> str:
    """How the days from ``start`` to ``end`` (same year, start day 1-28) are counted, month
    by month: "22 left in February 2025 after the 6th (February 2025 has 28 days), 31 in
    March and 24 in April: 22 + 31 + 24 = 77 days"."""
    total = (end - start).days
    if (start.year, start.month) == (end.year, end.month):
        return f"{end.day} − {start.day} = {total} days"
    length = calendar.monthrange(start.year, start.month)[1]
    month = f"{start:%B} {start.year}"
    terms = [(f"{length - start.day} left in {month} after the {ordinal(start.day)} "
              f"({month} has {length} days)", length - start.day)]
    for number in range(start.month + 1, end.month):
        days = calendar.monthrange(start.year, number)[1]
        terms.append((f"{days} in {calendar.month_name[number]}", days))
    terms.append((f"{end.day} in {end:%B}", end.day))
    words = ", ".join(text for text, _ in terms[:-1]) + f" and {terms[-1][0]}"
    return f"{words}: {' + '.join(str(days) for _, days in terms)} = {total} days"


def _span_dates(p: Parameters) -> tuple[date, date]:
    treated = span_day(p["treatment_day"])
    return treated, treated + timedelta(weeks=int(p["weeks"]))


def _span_key(p: Parameters) -> float:
    from course.complications import weeks_since

    return weeks_since(*_span_dates(p))


def _span_derived(p: Parameters) -> Shown:
    treated, presented = _span_dates(p)
    weeks = p["weeks"]
    mean = ("near" if abs(weeks - NTM_MEAN_WEEKS) < 2 else
            "earlier than" if weeks < NTM_MEAN_WEEKS else "later than")
    return {"treatment": long_date(treated), "presentation": long_date(presented),
            "treatment_iso": treated.isoformat(), "presentation_iso": presented.isoformat(),
            "days": (presented - treated).days, "days_counted": days_counted(treated, presented),
            "mean": f"{mean} the mean of {NTM_MEAN_WEEKS:g} weeks to diagnosis in another series"}


SPAN_TREATMENT_DAYS = tuple(offset for offset in range(243) if span_day(offset).day <= 28)
"""Treatment dates from 1 January to 28 August 2025, never after the 28th of a month (so
the days left in it are counted), so that 12 weeks later is still in 2025."""


ITEMS: Mapping[str, VariantItem] = {
    item.item: item for item in (
        VariantItem(
            item="q2_3_4",
            choices={"volume_ml": (1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5),
                     "percent": (1, 2)},
            key=lambda p: p["volume_ml"] * p["percent"] * 10,
            stem=("Before a session on the neck, a practitioner draws up {volume_ml} mL of plain "
                  "lidocaine {percent}% (weight in volume) to add to the mixture."),
            working=("Working. {percent}% means {percent} g per 100 mL, that is "
                     "{mg_per_ml} mg/mL. {volume_ml} mL × {mg_per_ml} mg/mL = {key} mg. "
                     "Reading {percent}% as {percent} mg/mL gives {tenth} mg, ten times too "
                     "little; reading it as {too_strong} mg/mL gives {tenfold} mg, ten times "
                     "too much. The conversion is arithmetic; dose limits are expert practice "
                     "[GK]."),
            unit="mg", tolerance=0.5,
            derived=lambda p: {"mg_per_ml": p["percent"] * 10,
                               "tenth": p["volume_ml"] * p["percent"],
                               "too_strong": p["percent"] * 100,
                               "tenfold": p["volume_ml"] * p["percent"] * 100}),
        VariantItem(
            item="q2_3_5",
            choices={"points": tuple(range(150, 260, 10))},
            key=lambda p: p["points"] * 0.01,
            stem=("A practitioner follows the injection volume of a facial rejuvenation trial, "
                  "0.01 mL per point [R11], and plans {points} injection points in one session."),
            working=("Working. Total volume = points × volume per point = {points} × 0.01 mL = "
                     "{key} mL [R11]. Using 0.1 mL per point gives ten times too much: count the "
                     "decimal places. The trial used 200–250 injections, so 2.0–2.5 mL per "
                     "session; these are trial parameters, not a standard [R11]."),
            unit="mL", tolerance=0.01),
        VariantItem(
            item="q3_5_11",
            choices={"treatment_day": SPAN_TREATMENT_DAYS, "weeks": tuple(range(2, 13))},
            key=_span_key,
            stem=("A 39-year-old woman had mesotherapy to her abdomen on {treatment}. She "
                  "presents on {presentation} with four painful nodules at injection sites and "
                  "no fever."),
            working=("Working. Days: {days_counted}; {days} ÷ 7 = {key} weeks, as "
                     "weeks_since(\"{treatment_iso}\", \"{presentation_iso}\") gives. That is "
                     "within the 1–12 week window of a 15-case series [R34], {mean} [R39]; "
                     "multiple painful nodules without fever fit NTM infection [R37], and "
                     "mycobacterial culture decides [R35]."),
            unit="weeks", tolerance=0.1, derived=_span_derived),
    )
}


class UnknownVariant(KeyError):
    pass


def variant(item: str, learner: str) -> Variant:
    """The numbers of ``item`` for ``learner`` (the same every time)."""
    try:
        spec = ITEMS[item]
    except KeyError:
        raise UnknownVariant(f"{item} has no per-learner variant; known: "
                             f"{', '.join(sorted(ITEMS))}") from None
    if not learner.strip():
        raise ValueError("a variant needs a learner id")
    return Variant(spec, learner, spec.draw(learner))
