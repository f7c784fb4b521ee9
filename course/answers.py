"""Reading learners' answers tolerantly, and checking their format in plain words.

Check cells call :func:`check_choice`, :func:`check_number`, :func:`check_case` or
:func:`check_format`: each prints one line ("Format OK …", "Not answered yet …" or one
plain sentence saying what to change) and never raises, so Run All of a released
notebook reaches its end. Hidden tests call :func:`choice_value` and
:func:`number_within`, which read the same answers the same way: ``"b"``, ``"B"``,
``"b)"``, ``"(B)"`` and ``" b "`` are all option b; ``2.5``, ``"2,5"`` and ``"2,5 mL"`` are
all 2.5 mL. They return plain ``str``/``float``/``None``, so the comparison a hidden test
makes is on course data, never on a learner's object.

Importing this module in a kernel (the locked set-up cell does) also replaces the
``NameError`` traceback of two common slips with one sentence: an answer written without
quotes (``answer_q1_3_1 = b``) and a check cell run before its answer cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

NOT_ANSWERED = "Not answered yet: choose or type your answer above, then run this cell again."
ANSWER_NAME = re.compile(r"^answer_\w+$")

_CHOICE = re.compile(r"^[(\[]?\s*([a-z])\s*[)\].:]?$")
_NUMBER = re.compile(r"^([+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+))\s*(.*)$")
_THOUSANDS = re.compile(r"^\d{1,3}(?:,\d{3})+$")
UNIT_SYNONYMS = {
    "ml": ("ml", "millilitre", "millilitres", "milliliter", "milliliters"),
    "mg": ("mg", "milligram", "milligrams"),
    "µg": ("µg", "μg", "mcg", "ug", "microgram", "micrograms"),
    "mg/kg": ("mg/kg", "mg per kg", "mg/kilogram"),
    "%": ("%", "percent", "per cent"),
    "percentage points": ("percentage points", "percentage point", "points", "%", "pp"),
    "months": ("months", "month", "mo"),
    "weeks": ("weeks", "week", "wk", "wks"),
    "points": ("points", "point"),
    "sessions": ("sessions", "session"),
}


@dataclass(frozen=True)
class Reading:
    """An answer read for a check: its plain value, or why it could not be read."""

    value: Any = None
    problem: str = ""  # one plain sentence; empty when the value was read
    answered: bool = True

    @property
    def ok(self) -> bool:
        return self.answered and not self.problem


def _options(options: str | Iterable[str]) -> tuple[str, ...]:
    return tuple(o.strip().lower() for o in options)


def _or_list(items: Sequence[str]) -> str:
    quoted = [f'"{item}"' for item in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _blank(answer: object) -> bool:
    return answer is None or (type(answer) is str and not answer.strip())


def read_choice(answer: object, options: str | Iterable[str]) -> Reading:
    """One option letter from ``"b"``, ``"B"``, ``"b)"``, ``"(B)"`` or ``" b "``."""
    letters = _options(options)
    if _blank(answer):
        return Reading(answered=False)
    if type(answer) is not str:
        return Reading(problem=f"Write one letter in quotes, one of {_or_list(letters)}; "
                               f"{_shown(answer)} is not a letter.")
    match = _CHOICE.match(answer.strip().lower())
    if match is None or match.group(1) not in letters:
        return Reading(problem=f"{_shown(answer)} is not one of the options: write one of "
                               f"{_or_list(letters)}.")
    return Reading(match.group(1))


def choice_value(answer: object, options: str | Iterable[str]) -> str | None:
    """The option letter an answer means, or None (for hidden tests)."""
    return read_choice(answer, options).value


def _unit_names(unit: str | None) -> tuple[str, ...]:
    if not unit:
        return ()
    key = unit.strip().lower()
    return tuple(dict.fromkeys((key, *UNIT_SYNONYMS.get(key, ()))))


def read_number(answer: object, unit: str | None = None) -> Reading:
    """A number from ``2.5``, ``"2.5"``, ``"2,5"`` or ``"2,5 mL"`` (the item's own unit)."""
    if _blank(answer):
        return Reading(answered=False)
    if type(answer) is bool:
        return Reading(problem=f"Write a number, for example 2.5; {answer} is not a number.")
    if type(answer) in (int, float):
        if not math.isfinite(answer):
            return Reading(problem="Write an ordinary number, for example 2.5.")
        return Reading(float(answer))
    if type(answer) in (list, tuple) and len(answer) == 2 and all(type(x) is int for x in answer):
        whole, part = answer
        return Reading(problem=f"Without quotes, {whole},{part} is read as two numbers: "
                               f"write {whole}.{part} with a point, or \"{whole},{part}\" in "
                               "quotes.")
    if type(answer) is not str:
        return Reading(problem=f"Write a number, for example 2.5; {_shown(answer)} is not a "
                               "number.")
    text = " ".join(answer.strip().split())
    match = _NUMBER.match(text)
    if match is None:
        return Reading(problem=f"{_shown(answer)} is not a number: write digits, for example "
                               "2.5.")
    digits, rest = match.groups()
    if _THOUSANDS.match(digits.lstrip("+-")):
        return Reading(problem=f"{_shown(answer)} is ambiguous: write it without the comma, "
                               "with a point only for decimals, for example 1000 or 1.5.")
    if rest and rest.lower() not in _unit_names(unit):
        wanted = f"in {unit}" if unit else "without a unit"
        return Reading(problem=f"The answer is asked {wanted}; {_shown(rest)} is not that "
                               "unit.")
    return Reading(float(digits.replace(",", ".")))


def number_value(answer: object, unit: str | None = None) -> float | None:
    """The number an answer means, or None (for hidden tests)."""
    return read_number(answer, unit).value


def number_within(answer: object, target: float, tolerance: float,
                  unit: str | None = None) -> bool:
    """True when the answer, read as a number, is within ``tolerance`` of ``target``."""
    value = number_value(answer, unit)
    return value is not None and abs(value - target) <= tolerance + 1e-9


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- check-cell helpers


def _report(name: str, reading: Reading, what: str = "answer") -> None:
    if not reading.answered:
        print(f"{name}: {NOT_ANSWERED}")
    elif reading.problem:
        print(f"{name}: {reading.problem}")
    else:
        print(f"Format OK. Your {what} will be scored when the assignment is graded.")


def check_choice(name: str, answer: object, options: str | Iterable[str]) -> None:
    """Print whether a single-best-answer item is answered in a form that can be scored."""
    _report(name, read_choice(answer, options))


def check_number(name: str, answer: object, unit: str | None = None) -> None:
    """Print whether a numeric item is answered in a form that can be scored."""
    _report(name, read_number(answer, unit))


def check_case(name: str, answer: object, case_id: str, part: str = "decision") -> None:
    """Print whether a case is answered in a form that can be scored (one part's cell)."""
    from course.cases import format_problems

    if answer is None or answer == {}:
        _report(name, Reading(answered=False))
        return
    problems = format_problems(case_id, answer)
    if problems:
        more = f" (and {len(problems) - 1} more to fix)" if len(problems) > 1 else ""
        _report(name, Reading(problem=_sentence(problems[0]) + more))
    else:
        _report(name, Reading(answer), part)


def check_format(name: str, answer: object, ok: bool, hint: str, what: str = "answer") -> None:
    """Any other item: ``ok`` is the format condition, ``hint`` the sentence to show."""
    if _blank(answer):
        _report(name, Reading(answered=False))
    else:
        problem = _sentence(hint.removeprefix(name).lstrip(" :"))
        _report(name, Reading(answer) if ok else Reading(problem=problem), what)


def _sentence(text: str) -> str:
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


# ---------------------------------------------------------------- friendlier NameError


def name_error_message(missing: str, cell_source: str) -> str | None:
    """One sentence for a NameError a learner meets while answering, or None."""
    if ANSWER_NAME.match(missing):
        return (f"{missing} has no answer yet: run its answer cell above first (or choose "
                "an answer in its form), then run this cell again.")
    assigned = re.search(rf"^\s*(answer_\w+)\s*=\s*\(?\s*{re.escape(missing)}\b", cell_source,
                         re.MULTILINE)
    if assigned:
        return (f'Put the answer in quotes: {assigned.group(1)} = "{missing}". Without '
                f"quotes Python looks for something named {missing}.")
    return None


def _friendly_name_error(shell: Any, etype: type, value: BaseException, tb: Any,
                         tb_offset: int | None = None) -> list[str]:
    cells = shell.user_ns.get("_ih") or [""]
    message = name_error_message(getattr(value, "name", "") or "", cells[-1])
    if message is None:
        shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    else:
        print(message)
    return []


def install_friendly_errors() -> bool:
    """In an IPython kernel, answer the common NameErrors in one sentence."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython is a dependency of the course
        return False
    shell = get_ipython()
    if shell is None or not hasattr(shell, "set_custom_exc"):
        return False
    if NameError not in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((NameError,), _friendly_name_error)
    return True


install_friendly_errors()
