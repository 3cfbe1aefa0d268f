"""Platform adapters: a platform's payload in, label events out.

``get_adapter(name)`` returns the adapter for ``labelstudio``, ``toloka``,
``mturk``, ``sagemaker``, ``a2i`` (Augmented AI), ``gal`` (Get-Another-Label),
``csv`` or ``jsonl``; see :mod:`.base` for the contract (mapping, errors, event ids,
streaming) and each module for its platform's defaults.
"""

from qc_service.platforms.a2i import A2IAdapter
from qc_service.platforms.base import (
    DEFAULT_CHUNK_SIZE,
    Adapter,
    Mapping,
    Payload,
    PayloadError,
    ProgressReader,
)
from qc_service.platforms.gal import GalAdapter
from qc_service.platforms.generic import CsvAdapter, JsonlAdapter
from qc_service.platforms.labelstudio import LabelStudioAdapter
from qc_service.platforms.mturk import MTurkAdapter
from qc_service.platforms.sagemaker import SageMakerAdapter
from qc_service.platforms.toloka import TolokaAdapter, TolokaNotification, parse_notifications

ADAPTERS: dict[str, Adapter] = {
    adapter.name: adapter
    for adapter in (
        LabelStudioAdapter(),
        TolokaAdapter(),
        MTurkAdapter(),
        SageMakerAdapter(),
        A2IAdapter(),
        GalAdapter(),
        CsvAdapter(),
        JsonlAdapter(),
    )
}


def get_adapter(name: str) -> Adapter:
    """The adapter registered under ``name``; ``KeyError`` lists the known names."""
    try:
        return ADAPTERS[name]
    except KeyError:
        raise KeyError(f"unknown platform {name!r}; known: {', '.join(sorted(ADAPTERS))}") from None


__all__ = [
    "ADAPTERS",
    "DEFAULT_CHUNK_SIZE",
    "Adapter",
    "Mapping",
    "Payload",
    "PayloadError",
    "ProgressReader",
    "TolokaNotification",
    "get_adapter",
    "parse_notifications",
]
