"""Get-Another-Label: the tab-separated label and gold files of Ipeirotis's tool.

Two files, neither with a header:

- labels: ``worker<TAB>object<TAB>label``, one answer per line;
- gold: ``object<TAB>label``, the known answer of an object.

The first line decides which of the two a file is; every other line must have as
many cells. All answers feed one attribute, the mapping's ``label_attribute``
(default ``label``); ``multilabel`` and ``separator`` apply as elsewhere. The other
mapping keys have nothing to name (the columns are positional). GAL's categories
and costs files are not imported: the project's taxonomy lists the values, and its
evaluation file is held-out truth, not gold.

GAL has no ids, so a label's id is a digest of its content:
``gal:<digest of object, worker, attribute, value>:<attribute>``. A line repeated
in the file is one label.

Webhook: GAL is a file format, not a platform; a script may post a labels or gold
file's contents as the body, read the same way.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from typing import IO

from qc_service.events import EventBatch, GoldEvent, LabelEvent
from qc_service.platforms.base import (
    DEFAULT_CHUNK_SIZE,
    Mapping,
    Payload,
    PayloadError,
    content_digest,
    id_text,
    stream_batches,
    text_stream,
    to_value,
)

#: Cells per line: the labels file and the gold file.
LABEL_CELLS = ("worker", "object", "label")
GOLD_CELLS = ("object", "label")


class GalAdapter:
    name = "gal"

    def parse_webhook(self, payload: Payload, mapping: Mapping) -> EventBatch:
        if not isinstance(payload, bytes | bytearray):
            raise PayloadError("", "expected the text of a GAL labels or gold file")
        whole = list(self.parse_export(io.BytesIO(payload), mapping, chunk_size=sys.maxsize))
        return whole[0] if whole else EventBatch()

    def parse_export(
        self, stream: IO[bytes], mapping: Mapping, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[EventBatch]:
        cells: list[tuple[str, ...]] = []  # the layout, decided by the first line

        def add(record: tuple[int, list[str]], batch: EventBatch) -> None:
            line, row = record
            if not cells:
                cells.append(LABEL_CELLS if len(row) == len(LABEL_CELLS) else GOLD_CELLS)
            layout = cells[0]
            if len(row) != len(layout):
                raise PayloadError(
                    f"line {line}",
                    f"expected {len(layout)} tab-separated cells ({', '.join(layout)}) like "
                    f"the first line, got {len(row)}",
                )
            where = {name: f"{name} (line {line})" for name in layout}
            fields = dict(zip(layout, row, strict=True))
            item = id_text(fields["object"], where["object"])
            attribute = mapping.label_attribute
            value = to_value(
                fields["label"],
                multilabel=mapping.is_multilabel(attribute),
                separator=mapping.separator,
                where=where["label"],
            )
            if value is None:
                batch.skip("empty_answer")
                return
            if layout == GOLD_CELLS:
                batch.gold.append(GoldEvent(item, attribute, value))
                return
            worker = id_text(fields["worker"], where["worker"])
            digest = content_digest(item, worker, attribute, value)
            batch.labels.append(
                LabelEvent(item, worker, attribute, value, f"gal:{digest}:{attribute}")
            )

        return stream_batches(_lines(stream), add, chunk_size)


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    """Non-blank lines as ``(line number, cells)``; quotes are plain text in GAL files."""
    with text_stream(stream) as text:
        reader = csv.reader(text, delimiter="\t", quoting=csv.QUOTE_NONE)
        try:
            for row in reader:
                cells = [value.strip() for value in row]
                if any(cells):
                    yield reader.line_num, cells
        except (csv.Error, UnicodeDecodeError) as error:
            raise PayloadError(f"line {reader.line_num + 1}", f"unreadable: {error}") from None
