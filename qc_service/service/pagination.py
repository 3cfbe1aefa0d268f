"""Opaque cursors: what a page needs to resume, as URL-safe text clients pass back."""

from __future__ import annotations

import base64
import binascii
import json

from qc_service.errors import FieldError, InvalidInput


def encode_cursor(position: dict) -> str:
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, keys: tuple[str, ...]) -> dict | None:
    """The position in ``cursor`` (None for the first page); 422 if it is not one of ours."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        position = None
    if not isinstance(position, dict) or set(position) != set(keys):
        raise bad_cursor()
    return position


_UNCHANGED = "pass the next_cursor of a previous answer unchanged"


def bad_cursor(message: str = _UNCHANGED) -> InvalidInput:
    """The 422 for a cursor that cannot resume this list."""
    return InvalidInput("bad cursor", [FieldError("/query/cursor", message)])
