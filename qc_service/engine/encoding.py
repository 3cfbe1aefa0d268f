"""Integer coding of one attribute's labels, and back.

Every estimator works on three parallel integer arrays (item, annotator, value).
Keys are sorted before they are numbered, so neither the order of the rows nor the
order in which ids first appear can change a fit: the same set of labels always gives
the same codes, hence the same output.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "Encoder",
    "LabelArrays",
    "align",
    "binary_relevance",
    "encode",
    "natural_key",
]


@dataclass(frozen=True)
class LabelArrays:
    """One attribute's labels as parallel integer arrays.

    ``item[r]``, ``annotator[r]`` and ``value[r]`` describe label ``r``; codes run from 0
    to ``n_items - 1`` etc. Sizes are explicit so that items, annotators or values
    without any label still get a row in the output (an item with no label gets the
    prior).
    """

    item: np.ndarray
    annotator: np.ndarray
    value: np.ndarray
    n_items: int
    n_annotators: int
    n_values: int

    def __post_init__(self) -> None:
        item = np.ascontiguousarray(self.item, dtype=np.int64)
        annotator = np.ascontiguousarray(self.annotator, dtype=np.int64)
        value = np.ascontiguousarray(self.value, dtype=np.int64)
        if not (item.ndim == annotator.ndim == value.ndim == 1):
            raise ValueError("item, annotator and value must be one-dimensional")
        if not (len(item) == len(annotator) == len(value)):
            raise ValueError(
                f"item, annotator and value differ in length: "
                f"{len(item)}, {len(annotator)}, {len(value)}"
            )
        for name, arr, size in (
            ("item", item, self.n_items),
            ("annotator", annotator, self.n_annotators),
            ("value", value, self.n_values),
        ):
            if size < 0:
                raise ValueError(f"n_{name}s must be >= 0, got {size}")
            if len(arr) and (arr.min() < 0 or arr.max() >= size):
                raise ValueError(f"{name} codes must lie in [0, {size})")
        object.__setattr__(self, "item", item)
        object.__setattr__(self, "annotator", annotator)
        object.__setattr__(self, "value", value)

    @property
    def n_labels(self) -> int:
        """Number of labels (rows)."""
        return len(self.item)

    @classmethod
    def from_codes(
        cls,
        item: Sequence[int] | np.ndarray,
        annotator: Sequence[int] | np.ndarray,
        value: Sequence[int] | np.ndarray,
        n_items: int | None = None,
        n_annotators: int | None = None,
        n_values: int | None = None,
    ) -> LabelArrays:
        """Build from integer codes, inferring any size left out as ``max + 1``."""
        item, annotator, value = (np.asarray(x, dtype=np.int64) for x in (item, annotator, value))

        def size(arr: np.ndarray, given: int | None) -> int:
            if given is not None:
                return int(given)
            return int(arr.max()) + 1 if len(arr) else 0

        return cls(
            item,
            annotator,
            value,
            size(item, n_items),
            size(annotator, n_annotators),
            size(value, n_values),
        )

    def subset(self, mask: np.ndarray) -> LabelArrays:
        """The labels selected by a boolean mask or index array, with the same code space."""
        return LabelArrays(
            self.item[mask],
            self.annotator[mask],
            self.value[mask],
            self.n_items,
            self.n_annotators,
            self.n_values,
        )


def natural_key(key: Hashable) -> tuple:
    """Sort key putting integer-looking keys first, in numeric order, then the rest.

    So values "1", "2", "10" keep their numeric order (as pandas would sort integer
    labels) and ties broken "by the lowest code" match what a reader expects.
    """
    text = str(key)
    try:
        return (0, int(text), text)
    except ValueError:
        return (1, 0, text)


def _codes(keys: Sequence[Hashable]) -> tuple[np.ndarray, list[Hashable]]:
    """Codes of ``keys`` in naturally sorted order of their distinct values."""
    distinct = sorted(set(keys), key=natural_key)
    index = {k: i for i, k in enumerate(distinct)}
    return np.fromiter((index[k] for k in keys), dtype=np.int64, count=len(keys)), distinct


@dataclass(frozen=True)
class Encoder:
    """Maps item, annotator and value keys to integer codes and back.

    ``values`` may be fixed up front (the attribute's taxonomy order); otherwise the
    distinct values seen are sorted with :func:`natural_key`. Items and annotators are
    always sorted, so the coding depends only on the set of keys.
    """

    items: list[Hashable] = field(default_factory=list)
    annotators: list[Hashable] = field(default_factory=list)
    values: list[Hashable] = field(default_factory=list)

    def item_index(self) -> dict[Hashable, int]:
        """Key -> code for items."""
        return {k: i for i, k in enumerate(self.items)}

    def annotator_index(self) -> dict[Hashable, int]:
        """Key -> code for annotators."""
        return {k: i for i, k in enumerate(self.annotators)}

    def value_index(self) -> dict[Hashable, int]:
        """Key -> code for values."""
        return {k: i for i, k in enumerate(self.values)}

    def decode_values(self, codes: Iterable[int]) -> list[Hashable]:
        """Value keys of value codes."""
        return [self.values[int(c)] for c in codes]

    def encode_gold(self, gold: dict[Hashable, Hashable] | Iterable[tuple]) -> np.ndarray:
        """Gold as an int array over items, -1 where unknown; unknown items are ignored."""
        pairs = gold.items() if isinstance(gold, dict) else gold
        items, values = self.item_index(), self.value_index()
        out = np.full(len(self.items), -1, dtype=np.int64)
        for item, value in pairs:
            if item in items:
                if value not in values:
                    raise ValueError(f"gold value {value!r} is not one of the attribute's values")
                out[items[item]] = values[value]
        return out


def encode(
    items: Sequence[Hashable],
    annotators: Sequence[Hashable],
    values: Sequence[Hashable],
    value_order: Sequence[Hashable] | None = None,
    extra_items: Iterable[Hashable] = (),
) -> tuple[LabelArrays, Encoder]:
    """Encode one attribute's labels given as three parallel key sequences.

    ``value_order`` fixes the value codes (e.g. the taxonomy) and lets values nobody
    chose still be a class; ``extra_items`` adds items without labels (e.g. gold-only
    items) so they get a row too.
    """
    if not (len(items) == len(annotators) == len(values)):
        raise ValueError("items, annotators and values must have the same length")
    extra = [k for k in extra_items]
    item_keys = sorted(set(items).union(extra), key=natural_key)
    item_index = {k: i for i, k in enumerate(item_keys)}
    item_codes = np.fromiter((item_index[k] for k in items), dtype=np.int64, count=len(items))
    annotator_codes, annotator_keys = _codes(annotators)
    if value_order is None:
        value_codes, value_keys = _codes(values)
    else:
        value_keys = list(value_order)
        if len(set(value_keys)) != len(value_keys):
            raise ValueError("value_order has duplicates")
        vindex = {k: i for i, k in enumerate(value_keys)}
        unknown = set(values) - vindex.keys()
        if unknown:
            raise ValueError(f"values not in value_order: {sorted(map(str, unknown))[:5]}")
        value_codes = np.fromiter((vindex[k] for k in values), dtype=np.int64, count=len(values))
    labels = LabelArrays(
        item_codes,
        annotator_codes,
        value_codes,
        len(item_keys),
        len(annotator_keys),
        len(value_keys),
    )
    return labels, Encoder(list(item_keys), list(annotator_keys), list(value_keys))


def align(old_keys: Sequence[Hashable], new_keys: Sequence[Hashable]) -> np.ndarray:
    """For each new key, its code in ``old_keys`` or -1.

    Used to carry a previous fit's annotator parameters over to a new coding for a
    warm start (see ``BaseEstimator.reindexed``).
    """
    index = {k: i for i, k in enumerate(old_keys)}
    return np.array([index.get(k, -1) for k in new_keys], dtype=np.int64)


def binary_relevance(
    items: Sequence[Hashable],
    annotators: Sequence[Hashable],
    tag_sets: Sequence[Iterable[Hashable]],
    tags: Sequence[Hashable] | None = None,
) -> dict[Hashable, tuple[LabelArrays, Encoder]]:
    """Split a multilabel attribute into one binary problem per tag.

    Each annotator's answer (a set of tags) becomes, for every tag, a 1 if the tag is
    in the set and a 0 otherwise, so every tag gets its own annotator parameters
    (someone may spot "striped" reliably but not "dotted"). Values are coded 0 = absent,
    1 = present in every problem.
    """
    sets = [frozenset(s) for s in tag_sets]
    if tags is None:
        tags = sorted(frozenset().union(*sets), key=natural_key) if sets else []
    out: dict[Hashable, tuple[LabelArrays, Encoder]] = {}
    for tag in tags:
        values = [int(tag in s) for s in sets]
        out[tag] = encode(items, annotators, values, value_order=[0, 1])
    return out
