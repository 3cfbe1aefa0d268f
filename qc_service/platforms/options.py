"""Answers given as a checked state per option: radio buttons and checkboxes.

Crowd HTML elements (``crowd-radio-button``, ``crowd-checkbox``) report a question as
``{"<question>": {"<value>": true, "<other value>": false}}``; MTurk's results CSV
flattens that into a column per option (``Answer.<question>.<value>``), and HTML
checkboxes send ``on``. The question's answer is the checked value, or every
checked value for a tag set. A checkbox without a ``value`` reports under ``on``:
it is a yes/no answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from qc_service.events import Value

CHECKED = frozenset({"true", "on"})
UNCHECKED = frozenset({"false", "off"})
#: The option name a checkbox without a ``value`` attribute reports under.
VALUELESS_CHECKBOX = "on"


def option_state(raw: object) -> bool | None:
    """An option's checked state; ``None`` for an empty cell. ``ValueError`` otherwise."""
    if raw is None or isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        state = raw.strip().lower()
        if not state:
            return None
        if state in CHECKED or state in UNCHECKED:
            return state in CHECKED
    raise ValueError(f"expected a checkbox state (true, false, on), got {raw!r:.40}")


def options_answer(states: Sequence[tuple[str, bool | None]], *, multilabel: bool) -> Value | None:
    """The answer of a question given as ``(option, state)`` pairs, or ``None`` if unanswered.

    Several checked options of a question that is not ``multilabel`` are kept as a
    list, for the taxonomy check to refuse with the attribute named.
    """
    if [option for option, _ in states] == [VALUELESS_CHECKBOX]:
        state = states[0][1]
        return None if state is None else ("true" if state else "false")
    checked = sorted({option for option, state in states if state})
    if not checked:
        # Boxes left unchecked on purpose are an answer for a tag set: none apply.
        return [] if multilabel and any(state is False for _, state in states) else None
    return checked if multilabel or len(checked) > 1 else checked[0]
