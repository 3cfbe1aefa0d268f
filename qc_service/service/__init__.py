"""Use cases: what the API, the command line and the dashboard ask the service to do.

Each function takes a :class:`Context` and request models, talks to ``store`` and
``engine``, and returns response models or raises ``qc_service.errors``.
"""

from qc_service.service.context import Context

__all__ = ["Context"]
