"""What every use case needs: the settings, the database and a few process caches."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from qc_service.settings import Settings


class TTLCache:
    """A small thread-safe cache whose entries expire, for facts that almost never
    change (a token's scopes, a project's taxonomy) but are read on every request."""

    def __init__(self, seconds: float, max_entries: int = 10_000) -> None:
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_load(self, key: Any, load: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] > now:
            return entry[1]
        value = load()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (now + self.seconds, value)
        return value


class PageCache:
    """Rendered answers by key, the least recently used dropped first once they hold
    more than ``max_bytes``. Entries are never invalidated, only pushed out, so a key
    must name everything its answer depends on, the version of the data included."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_render(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
                return body
        body = render()
        with self._lock:
            if key not in self._entries:
                self._entries[key] = body
                self._size += len(body)
            while self._size > self.max_bytes and self._entries:
                self._size -= len(self._entries.popitem(last=False)[1])
        return body


class LatestCache:
    """The value of each key at its newest version seen, thread-safe: a value is
    loaded again when the caller reads a version other than the one it was stored
    at, so the caller's version must change with everything the value depends on."""

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: dict[Hashable, tuple[Hashable, Any]] = {}
        self._lock = threading.Lock()

    def get_or_load(self, key: Hashable, version: Hashable, load: Callable[[], Any]) -> Any:
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            return entry[1]
        value = load()
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (version, value)
        return value


class KeyIds:
    """Row ids of item and annotator keys by (table, project, key), thread-safe.

    A key's row is never deleted nor renumbered, so a committed id stays right for
    good; callers remember ids only after their transaction commits, since a
    rollback takes back the rows it created. Cleared when full.
    """

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._ids: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()

    def known(self, table: str, project_id: str, keys: Iterable[str]) -> dict[str, int]:
        """The ids of those of ``keys`` remembered."""
        found = {}
        for key in keys:
            row_id = self._ids.get((table, project_id, key))
            if row_id is not None:
                found[key] = row_id
        return found

    def remember(self, table: str, project_id: str, ids: dict[str, int]) -> None:
        with self._lock:
            if len(self._ids) + len(ids) > self.max_entries:
                self._ids.clear()
            self._ids.update(((table, project_id, key), row_id) for key, row_id in ids.items())


@dataclass
class Context:
    settings: Settings
    engine: Engine
    #: Called with a project id after each write that should lead to a refit.
    on_change: list[Callable[[str], None]] = field(default_factory=list)
    #: Token hash -> principal. Tokens cannot be edited, so a stale entry is harmless.
    principals: TTLCache = field(default_factory=lambda: TTLCache(seconds=60))
    #: Project id -> (project, attributes). Taxonomies are fixed once created.
    taxonomies: TTLCache = field(default_factory=lambda: TTLCache(seconds=60))
    #: Project id -> its counts of labels, items, annotators and gold, at the
    #: project's revision (every write of labels, gold or verdicts moves it).
    project_counts: LatestCache = field(default_factory=LatestCache)
    #: Row ids of the item and annotator keys this process has seen committed.
    key_ids: KeyIds = field(default_factory=KeyIds)
    #: Rendered list pages that polling clients ask for again and again (each key
    #: holds the version of the data it shows). 16 MB is ~450 pages of 100 results.
    pages: PageCache = field(init=False)
    #: When this process last pruned replay records (``time.monotonic()``); see
    #: :mod:`qc_service.service.retention`.
    replay_pruned_at: float | None = None

    def __post_init__(self) -> None:
        self.pages = PageCache(max_bytes=self.settings.page_cache_bytes)

    def changed(self, project_id: str) -> None:
        for callback in self.on_change:
            callback(project_id)
