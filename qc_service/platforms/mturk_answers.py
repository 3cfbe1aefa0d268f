"""MTurk's ``QuestionFormAnswers``: an assignment's answers as the API returns them.

``ListAssignmentsForHIT`` and ``GetAssignment`` give each assignment's ``Answer`` as
an XML document (https://docs.aws.amazon.com/AWSMechTurk/latest/AWSMturkAPI/
ApiReference_QuestionFormAnswersDataStructureArticle.html)::

    <QuestionFormAnswers xmlns="http://mechanicalturk.amazonaws.com/...">
      <Answer><QuestionIdentifier>shade</QuestionIdentifier>
              <FreeText>beige</FreeText></Answer>
      <Answer><QuestionIdentifier>pattern</QuestionIdentifier>
              <SelectionIdentifier>solid</SelectionIdentifier></Answer>
    </QuestionFormAnswers>

:func:`answer_columns` turns it into the ``Answer.*`` columns the batch results CSV
would hold for the same assignment, so both are read by the same code and give the
same labels and ids:

- ``FreeText`` (an HTML form field, a ``QuestionForm`` free-text question):
  ``Answer.<QuestionIdentifier>``;
- ``SelectionIdentifier`` elements (a ``QuestionForm`` selection question): the
  selected identifiers; several are a tag set, or refused by the taxonomy for a
  single-choice attribute;
- ``taskAnswers``, the one answer of a ``crowd-form``: its ``FreeText`` is JSON
  (``[{"category": {"label": "cat"}, "sentiment": {"positive": true}}]``), flattened
  with dots as MTurk flattens it for the CSV (``Answer.category.label``,
  ``Answer.sentiment.positive``);
- ``OtherSelectionText`` and uploaded files are not labels: counted as
  ``other_selection:<question>`` and ``unsupported_answer:<question>``.

Elements are matched by local name: the namespace names the schema version.
The XML is parsed by :mod:`defusedxml` with document type declarations forbidden
(the schema has none), so entity expansion (billion laughs) and external entities
are refused as unreadable, before any expansion.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from qc_service.events import EventBatch
from qc_service.platforms.base import PayloadError, json_type

ROOT = "QuestionFormAnswers"
#: The question a ``crowd-form`` reports all of its fields under, as JSON.
TASK_ANSWERS = "taskAnswers"
_UPLOADED_FILE = frozenset({"UploadedFileKey", "UploadedFileSizeInBytes"})


def answer_columns(document: object, where: str, batch: EventBatch) -> dict[str, Any]:
    """The ``Answer.*`` columns of one assignment's ``QuestionFormAnswers`` document
    (none for an empty one)."""
    if not isinstance(document, str):
        raise PayloadError(
            where, f"expected QuestionFormAnswers XML text, got {json_type(document)}"
        )
    if not document.strip():
        return {}
    root = _parse(document, where)
    columns: dict[str, Any] = {}
    for answer in root:
        if _name(answer) != "Answer":
            continue
        parts: dict[str, list[str]] = {}
        for element in answer:
            parts.setdefault(_name(element), []).append((element.text or "").strip())
        question = " ".join(parts.get("QuestionIdentifier", []))
        if not question:
            raise PayloadError(where, "an Answer has no QuestionIdentifier")
        if _UPLOADED_FILE & parts.keys():
            batch.skip(f"unsupported_answer:{question}")
        elif "OtherSelectionText" in parts and "SelectionIdentifier" not in parts:
            batch.skip(f"other_selection:{question}")
        elif question == TASK_ANSWERS and "FreeText" in parts:
            _flatten(_task_answers(parts["FreeText"][0], where), "Answer", columns)
        elif "FreeText" in parts:
            _add(columns, f"Answer.{question}", parts["FreeText"][0])
        else:  # a selection question; no SelectionIdentifier means nothing was selected
            _add(columns, f"Answer.{question}", parts.get("SelectionIdentifier", []))
    return columns


def _parse(document: str, where: str) -> Element:
    try:
        root = fromstring(document, forbid_dtd=True)
    except DefusedXmlException as error:
        raise PayloadError(
            where, f"XML with a document type declaration is refused ({type(error).__name__})"
        ) from None
    except ParseError as error:
        raise PayloadError(where, f"not a well-formed XML document: {error}") from None
    if _name(root) != ROOT:
        raise PayloadError(where, f"expected a {ROOT} document, got <{_name(root)}>")
    return root


def _name(element: Element) -> str:
    """An element's local name: ``{namespace}Answer`` -> ``Answer``."""
    return element.tag.rpartition("}")[2]


def _task_answers(text: str, where: str) -> dict[str, Any]:
    """The fields of a ``crowd-form``: a JSON list holding one object."""
    try:
        decoded = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise PayloadError(where, f"taskAnswers is not JSON: {error}") from None
    if isinstance(decoded, list) and len(decoded) == 1:
        decoded = decoded[0]
    if not isinstance(decoded, dict):
        raise PayloadError(where, "taskAnswers must hold one JSON object of form fields")
    return decoded


def _flatten(fields: dict[str, Any], prefix: str, columns: dict[str, Any]) -> None:
    for key, value in fields.items():
        column = f"{prefix}.{key}"
        if isinstance(value, dict) and value:
            _flatten(value, column, columns)
        else:
            _add(columns, column, value)


def _add(columns: dict[str, Any], column: str, value: Any) -> None:
    """Sets a column; a question answered twice in one document holds both answers."""
    if column not in columns:
        columns[column] = value
        return
    previous = columns[column]
    columns[column] = [
        *(previous if isinstance(previous, list) else [previous]),
        *(value if isinstance(value, list) else [value]),
    ]
