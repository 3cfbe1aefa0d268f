"""Aggregation engine: integer-coded labels in, posteriors and annotator parameters out.

Pure numpy/scipy; crowd-kit (and pandas) are imported only when a crowd-kit method is
fitted. Choose a method by name with :func:`make_estimator`; ``"auto"`` is the default.
"""

from __future__ import annotations

from typing import Any

from qc_service.engine.auto import Auto
from qc_service.engine.base import BaseEstimator, EMEstimator
from qc_service.engine.crowdkit_adapter import CROWDKIT_METHODS, CrowdKit
from qc_service.engine.dawid_skene import DawidSkene
from qc_service.engine.encoding import (
    Encoder,
    LabelArrays,
    align,
    binary_relevance,
    encode,
)
from qc_service.engine.glad import GLAD
from qc_service.engine.mace import MACE
from qc_service.engine.majority_vote import MajorityVote
from qc_service.engine.metrics import (
    accuracy,
    confusable_pairs,
    expected_calibration_error,
    krippendorff_alpha,
)
from qc_service.engine.one_coin import OneCoin
from qc_service.engine.reliability import Reliability, reliability, spammer_score

__all__ = [
    "GLAD",
    "MACE",
    "METHODS",
    "Auto",
    "BaseEstimator",
    "CrowdKit",
    "DawidSkene",
    "EMEstimator",
    "Encoder",
    "LabelArrays",
    "MajorityVote",
    "OneCoin",
    "Reliability",
    "accuracy",
    "align",
    "binary_relevance",
    "confusable_pairs",
    "encode",
    "expected_calibration_error",
    "krippendorff_alpha",
    "make_estimator",
    "reliability",
    "spammer_score",
]

_OWN: dict[str, type[BaseEstimator]] = {
    "auto": Auto,
    "majority_vote": MajorityVote,
    "dawid_skene": DawidSkene,
    "one_coin": OneCoin,
    "glad": GLAD,
    "mace": MACE,
}

#: every method name :func:`make_estimator` accepts
METHODS: tuple[str, ...] = (*_OWN, *CROWDKIT_METHODS)


def make_estimator(name: str, **params: Any) -> BaseEstimator:
    """A fresh estimator by method name, hyper-parameters as keyword arguments."""
    if name in _OWN:
        return _OWN[name](**params)
    if name in CROWDKIT_METHODS:
        return CrowdKit(name, **params)
    raise ValueError(f"unknown method {name!r}; choose one of {', '.join(METHODS)}")
