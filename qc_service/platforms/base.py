"""What every platform adapter shares: the mapping, the error type, streaming helpers.

An adapter turns one platform's payloads (webhook bodies, export files) into
:class:`~qc_service.events.EventBatch` objects. Adapters never touch the database
or the network, so they can be tested on files alone and reused by the HTTP API
(webhooks) and the command line (imports).

Event ids
---------
Ids are deterministic so that importing the same data twice adds nothing: they are
built from the platform's own ids, namespaced by platform (``labelstudio:``,
``toloka:``, ``mturk:``...). Ids form a colon-separated hierarchy whose last
segment is the attribute, so a :class:`~qc_service.events.Retraction` can name a
whole annotation (``labelstudio:annotation:17``): it retracts every label whose id
equals it or starts with it followed by ``:``.

Where a platform has no id for an answer, the id is a digest of its content:
(item, annotator, attribute, value, created_at). Because the newest label per
(annotator, item, attribute) counts, a later *different* answer gets a new id and
wins. Without ``created_at``, an annotator who goes back to an answer they gave
earlier (A, then B, then A again) produces the first id again, which is dropped as a
duplicate, so B stays current: files that record changes of mind must carry an id
or a ``created_at``.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import IO, Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel, ConfigDict, ValidationError

from qc_service.events import EventBatch, Value

#: Labels (plus gold and retractions) per batch yielded by ``parse_export``: small
#: enough to keep memory flat, large enough for fast bulk inserts.
DEFAULT_CHUNK_SIZE = 5000

#: A webhook body: raw bytes as received, or JSON already decoded.
Payload = bytes | dict[str, Any] | list[Any]


class PayloadError(ValueError):
    """Input the adapter cannot read; ``errors`` name each offending field.

    ``field`` is a JSON pointer into the payload (``/annotation/completed_by``) or,
    for tables, a column name with its line (``WorkerId (line 12)``), so the API can
    answer an RFC 9457 problem document that says exactly what to fix.
    """

    def __init__(self, field: str, message: str) -> None:
        self.errors: list[dict[str, str]] = [{"field": field, "message": message}]
        super().__init__(f"{field or '/'}: {message}")

    @classmethod
    def combine(cls, errors: Iterable[PayloadError]) -> PayloadError:
        """One error carrying the entries of several, so a client sees all at once."""
        entries = [entry for error in errors for entry in error.errors]
        combined = cls(entries[0]["field"], entries[0]["message"])
        combined.errors = entries
        combined.args = ("; ".join(f"{e['field'] or '/'}: {e['message']}" for e in entries),)
        return combined


class Mapping(BaseModel):
    """Which of a platform's fields are the item, the annotator, each attribute and gold.

    Stored per project as JSON (:meth:`from_dict` / :meth:`to_dict`). Every field is
    optional: ``None`` means the platform's own default (see each adapter's module
    docstring), so an empty mapping works for the common case.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: Field holding the item key (a dotted path into JSON, or a column name).
    item: str | None = None
    #: Field holding the annotator id.
    annotator: str | None = None
    #: Field holding the platform's id of a label (generic formats only).
    id: str | None = None
    #: Field holding when the label was made (generic formats only).
    created_at: str | None = None
    #: Platform answer field -> attribute name. Empty: every answer field is
    #: imported under its own name. Non-empty: only the listed fields are imported.
    attributes: dict[str, str] = {}
    #: Attribute name -> field holding its known answer, for platforms whose format
    #: has no gold marker of its own (MTurk inputs, wide generic tables).
    gold: dict[str, str] = {}
    #: Attributes whose answers are tag sets: their value is always a list.
    multilabel: frozenset[str] = frozenset()
    #: How several tags are joined in one text cell.
    separator: str = "|"
    #: Attribute name for formats with one unnamed answer (crowd-kit's
    #: ``task, worker, label``; SageMaker's built-in classifiers).
    label_attribute: str = "label"

    @classmethod
    def from_dict(cls, data: object) -> Mapping:
        """Build from stored or posted JSON; a bad field becomes a :class:`PayloadError`."""
        if data is None:
            return cls()
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            raise PayloadError.combine(
                PayloadError(
                    "/mapping/" + "/".join(str(part) for part in entry["loc"]), entry["msg"]
                )
                for entry in error.errors()
            ) from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form that :meth:`from_dict` reads back; only non-default fields."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        if "multilabel" in data:
            data["multilabel"] = sorted(data["multilabel"])
        return data

    def attribute_for(self, field: str) -> str | None:
        """The attribute a platform answer field feeds, or ``None`` if it is not imported."""
        if not self.attributes:
            return field
        return self.attributes.get(field)

    def is_multilabel(self, attribute: str) -> bool:
        return attribute in self.multilabel


@runtime_checkable
class Adapter(Protocol):
    """What the API and the CLI need from a platform module."""

    name: str

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        """Events in one pushed payload; raises :class:`PayloadError` on malformed input."""
        ...

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        """Events in a bulk export, streamed in batches of about ``chunk_size`` events."""
        ...


class ProgressReader(io.RawIOBase):
    """A binary stream that counts the bytes read through it.

    Wrap an export file in it before ``parse_export`` and read :attr:`bytes_read`
    between batches to drive a progress bar (works for pipes too, unlike ``tell``).
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


class _RawView(io.RawIOBase):
    """Any readable binary object as a raw stream that a ``BufferedReader`` can wrap.

    Closing the view (which the reader does when discarded) leaves the object open.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        super().__init__()
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def peekable(stream: IO[bytes]) -> io.BufferedReader:
    """A buffered view of ``stream`` with ``peek``, for sniffing a file's format."""
    if isinstance(stream, io.BufferedReader):
        return stream
    return io.BufferedReader(_RawView(stream))


# --- decoding -----------------------------------------------------------------


def load_json(payload: Payload) -> Any:
    """A webhook body as JSON, whether it arrived as bytes or already decoded."""
    if not isinstance(payload, bytes | bytearray):
        return payload
    try:
        return json.loads(payload)
    except (ValueError, RecursionError) as error:  # includes decode errors, huge integers
        raise PayloadError("", f"body is not valid JSON: {error}") from None


@contextlib.contextmanager
def text_stream(stream: IO[bytes]) -> Iterator[io.TextIOWrapper]:
    """UTF-8 text view of a binary stream (BOM tolerated) that leaves the stream open."""
    text = io.TextIOWrapper(peekable(stream), encoding="utf-8-sig", newline="")
    try:
        yield text
    finally:
        # When a half-read export is garbage-collected, the buffer may be closed first.
        if not text.buffer.closed:
            text.detach()


def iter_table(stream: IO[bytes], delimiter: str = ",") -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a CSV/TSV export as ``(line, {column: cell})``, streamed.

    Quoted multi-line cells are handled by :mod:`csv`. Rows shorter than the header
    (MTurk drops trailing empty ``Approve``/``Reject`` cells) get no entry for the
    missing columns; cells beyond the header are ignored.
    """
    with text_stream(stream) as text:
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader, None)
            if header is None:
                return
            header = [name.strip() for name in header]
            for row in reader:
                if not any(row):
                    continue
                yield reader.line_num, dict(zip(header, row, strict=False))
        except (csv.Error, UnicodeDecodeError) as error:
            raise PayloadError(
                f"line {reader.line_num + 1}", f"unreadable table: {error}"
            ) from None


def iter_json_records(stream: IO[bytes], read_size: int = 1 << 16) -> Iterator[tuple[int, Any]]:
    """Records of a JSON array, JSON Lines or a lone JSON document, streamed.

    A top-level array is read element by element, so a large export never sits in
    memory whole; otherwise each top-level value (one per line in JSON Lines) is a
    record. Yields ``(index, record)``.
    """
    decoder = json.JSONDecoder()
    with text_stream(stream) as text:
        buffer = ""
        position = 0
        at_end = False

        def refill() -> None:
            nonlocal buffer, position, at_end
            try:
                chunk = text.read(read_size)
            except UnicodeDecodeError as error:
                raise PayloadError("", f"file is not UTF-8: {error}") from None
            at_end = not chunk
            buffer = buffer[position:] + chunk
            position = 0

        def next_char() -> str:
            nonlocal position
            while True:
                while position < len(buffer) and buffer[position].isspace():
                    position += 1
                if position < len(buffer) or at_end:
                    return buffer[position] if position < len(buffer) else ""
                refill()

        def decode(index: int) -> Any:
            nonlocal position
            next_char()
            while True:
                try:
                    value, end = decoder.raw_decode(buffer, position)
                except (ValueError, RecursionError) as error:
                    if at_end:
                        raise PayloadError(f"/{index}", f"invalid JSON: {error}") from None
                    refill()
                    continue
                # A value ending exactly at the buffer's end may be cut short (a number).
                if end == len(buffer) and not at_end:
                    refill()
                    continue
                position = end
                return value

        refill()
        if next_char() == "[":
            position += 1
            if next_char() == "]":
                return
            index = 0
            while True:
                yield index, decode(index)
                index += 1
                separator = next_char()
                position += 1
                if separator == "]":
                    return
                if separator != ",":
                    raise PayloadError(f"/{index}", "expected ',' or ']' between array elements")
        index = 0
        while next_char():
            yield index, decode(index)
            index += 1


T = TypeVar("T")


def stream_batches(
    records: Iterable[T], add: Callable[[T, EventBatch], None], chunk_size: int
) -> Iterator[EventBatch]:
    """Feed records into batches and yield each once it holds ``chunk_size`` events.

    The last batch is yielded if it holds anything, including only skip counts, so
    an import summary always sees why nothing was imported.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    batch = EventBatch()
    iterator = iter(records)
    try:
        for record in iterator:
            add(record, batch)
            if batch_size(batch) >= chunk_size:
                yield batch
                batch = EventBatch()
    finally:
        # Release the reader (and its view of the caller's stream) even on errors.
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    if batch_size(batch) or batch.skipped:
        yield batch


def located(body: Any, base: str = "") -> list[tuple[str, Any]]:
    """(JSON pointer, record) for each record of a body that is one record or a list."""
    if isinstance(body, list):
        return [(pointer(base, index), record) for index, record in enumerate(body)]
    return [(base, body)]


def add_each(records: Iterable[tuple[str, T]], add: Callable[[str, T], None]) -> None:
    """``add(where, record)`` for every record; the errors of all records are raised
    together, so a platform learns every problem of a delivery from one answer."""
    errors: list[PayloadError] = []
    for where, record in records:
        try:
            add(where, record)
        except PayloadError as error:
            errors.append(error)
    if errors:
        raise PayloadError.combine(errors)


def stream_json_records(
    stream: IO[bytes], add: Callable[[str, Any, EventBatch], None], chunk_size: int
) -> Iterator[EventBatch]:
    """Batches from a JSON array or JSON Lines export: ``add(where, record, batch)``
    for each record, ``where`` its JSON pointer."""
    return stream_batches(
        iter_json_records(stream),
        lambda record, batch: add(f"/{record[0]}", record[1], batch),
        chunk_size,
    )


def batch_size(batch: EventBatch) -> int:
    return len(batch.labels) + len(batch.gold) + len(batch.retractions)


# --- field access ----------------------------------------------------------------


def pointer(base: str, *parts: object) -> str:
    """A JSON pointer (RFC 6901) extending ``base``."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "/".join([base, *escaped])


def require_dict(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(where, f"expected an object, got {json_type(value)}")
    return value


def require_list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise PayloadError(where, f"expected an array, got {json_type(value)}")
    return value


def json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def get_path(record: dict[str, Any], path: str, where: str) -> Any:
    """The value at a dotted ``path`` in nested objects; missing -> :class:`PayloadError`.

    A key containing dots itself (a CSV column ``Input.image_url``) is matched whole
    first, so column names never need escaping.
    """
    if path in record:
        return record[path]
    current: Any = record
    walked = where
    for part in path.split("."):
        walked = pointer(walked, part)
        if not isinstance(current, dict) or part not in current:
            raise PayloadError(walked, "is required")
        current = current[part]
    return current


#: Names a column or key for error messages: a line number, or a JSON pointer.
FieldNamer = Callable[[str], str]


def cell(row: dict[str, Any], column: str, where: FieldNamer) -> Any:
    """A required column of a table row (or key of a flat JSON row)."""
    if column not in row:
        raise PayloadError(where(column), "column is missing")
    return row[column]


def id_text(value: object, where: str) -> str:
    """A platform id (string or integer) as text."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PayloadError(where, f"expected a string or integer id, got {json_type(value)}")
    text = number_text(value, where) if isinstance(value, int) else value.strip()
    if not text:
        raise PayloadError(where, "must not be empty")
    return text


def number_text(number: int | float, where: str) -> str:
    """A JSON number as text; integers too long to print are a payload error."""
    try:
        return str(number)
    except ValueError:
        raise PayloadError(where, "number is too long") from None


def to_value(raw: object, *, multilabel: bool, separator: str, where: str) -> Value | None:
    """An answer as the service stores it, or ``None`` when there is no answer.

    Scalars become text (booleans ``true``/``false``). Tag sets become a sorted list
    without repeats (order carries no meaning). A single tag for an attribute that is
    not multilabel becomes plain text; several are kept as a list and left for the
    service, which knows the taxonomy, to accept or reject.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | float):
        return number_text(raw, where)
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None
        if not multilabel:
            return text
        if text.startswith("["):
            try:
                decoded = json.loads(text)
            except (json.JSONDecodeError, RecursionError):
                decoded = None
            if isinstance(decoded, list):
                return to_value(decoded, multilabel=True, separator=separator, where=where)
        return sorted({tag.strip() for tag in text.split(separator) if tag.strip()}) or None
    if isinstance(raw, list):
        tags: set[str] = set()
        for index, element in enumerate(raw):
            if isinstance(element, dict | list) or element is None:
                raise PayloadError(
                    pointer(where, index), f"expected a tag, got {json_type(element)}"
                )
            tag = to_value(element, multilabel=False, separator=separator, where=where)
            if isinstance(tag, str):
                tags.add(tag)
        if not tags:
            return None
        if len(tags) == 1 and not multilabel:
            return tags.pop()
        return sorted(tags)
    raise PayloadError(where, f"expected an answer, got {json_type(raw)}")


_US_ZONES = {
    "UTC": 0, "GMT": 0, "EST": -5, "EDT": -4, "CST": -6, "CDT": -5,
    "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}  # fmt: skip


def to_datetime(raw: object, where: str) -> datetime | None:
    """A timestamp as an aware datetime (naive ones are taken as UTC), or ``None``.

    Accepts ISO 8601, epoch seconds, MTurk's ``Mon Mar 01 20:50:54 PST 2021`` and
    Figure Eight's ``3/24/2016 17:57:02``.
    """
    if raw is None or raw == "":
        return None
    try:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return datetime.fromtimestamp(raw, tz=UTC)
        if isinstance(raw, str):
            text = raw.strip()
            parsed = _parse_text_time(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except (ValueError, OverflowError, OSError):
        pass
    raise PayloadError(where, f"not a timestamp: {raw!r:.60}")


def _parse_text_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    try:  # Figure Eight reports: 3/24/2016 17:57:02
        return datetime.strptime(text, "%m/%d/%Y %H:%M:%S")
    except ValueError:
        return _mturk_time(text)


def _mturk_time(text: str) -> datetime:
    parts = text.split()
    if len(parts) != 6 or parts[4] not in _US_ZONES:
        raise ValueError(text)
    naive = datetime.strptime(" ".join(parts[:4] + parts[5:]), "%a %b %d %H:%M:%S %Y")
    return naive.replace(tzinfo=timezone(timedelta(hours=_US_ZONES[parts[4]])))


#: Built once: ``json.dumps`` with options builds a new encoder per call. Same output
#: as ``json.dumps`` with these options.
_DIGEST_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str)
#: The encoder's own function for strings (C-accelerated), for the common parts.
_encode_text = json.encoder.encode_basestring


def content_digest(*parts: object) -> str:
    """A short stable digest of an answer's content, for ids where the platform has none.

    The digest of ``_DIGEST_ENCODER.encode(parts)``: stored event ids depend on it,
    so it must never change. Imports call this once per label, so the usual parts
    (text, tag lists, timestamps, ``None``) are encoded directly, byte for byte as the
    encoder would, without its per-call setup.
    """
    encoded = "[" + ",".join(map(_json_text, parts)) + "]"
    return hashlib.sha256(encoded.encode()).hexdigest()[:24]


def _json_text(part: object) -> str:
    if isinstance(part, str):
        return _encode_text(part)
    if part is None:
        return "null"
    if isinstance(part, datetime):
        return _encode_text(str(part))  # the encoder's ``default=str``
    if isinstance(part, list) and all(isinstance(tag, str) for tag in part):
        return "[" + ",".join(map(_encode_text, part)) + "]"
    return _DIGEST_ENCODER.encode(part)


def version_tag(timestamp: datetime | None) -> str:
    """A timestamp as an id segment: compact and free of the ``:`` that separates segments."""
    if timestamp is None:
        return "0"
    return timestamp.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
