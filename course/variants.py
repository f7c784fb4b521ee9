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

import hashlib
import os
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

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
    derived: Callable[[Parameters], Parameters] = lambda parameters: {}
    """Intermediate values the working names (e.g. mg per mL)."""

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
    def stem(self) -> str:
        return self.item.stem.format(**_shown(self.parameters))

    @property
    def working(self) -> str:
        values = {**self.parameters, **self.item.derived(self.parameters)}
        return self.item.working.format(**_shown(values), key=_number(self.key))

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


def _shown(parameters: Parameters) -> dict[str, str]:
    return {name: _number(value) for name, value in parameters.items()}


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
