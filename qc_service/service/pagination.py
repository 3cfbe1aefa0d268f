"""Opaque cursors: what a page needs to resume, as URL-safe text clients pass back."""

from __future__ import annotations

import base64
import binascii
import json

from qc_service.errors import FieldError, InvalidInput


def encode_cursor(position: dict) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


#: A cursor field holding a number, whole or not.
NUMBER = (int, float)
_INT64 = range(-(2**63), 2**63)


def is_a(value: object, kind: type | tuple[type, ...]) -> bool:
    """``isinstance``, except that JSON's true and false are not numbers and an
    integer must fit the database's 64 bits."""
    if isinstance(value, bool) or not isinstance(value, kind):
        return False
    return not isinstance(value, int) or value in _INT64


def decode_cursor(cursor: str | None, fields: dict[str, type | tuple[type, ...]]) -> dict | None:
    """The position in ``cursor`` (None for the first page): its ``fields``, each of
    its type; 422 naming the cursor if it is not one of ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        position = None
    if not (
        isinstance(position, dict)
        and set(position) == set(fields)
        and all(is_a(position[name], kind) for name, kind in fields.items())
    ):
        raise bad_cursor()
    return position


_UNCHANGED = "pass the next_cursor of a previous answer unchanged"


def bad_cursor(message: str = _UNCHANGED) -> InvalidInput:
    """The 422 for a cursor that cannot resume this list."""
    return InvalidInput("bad cursor", [FieldError("/query/cursor", message)])
