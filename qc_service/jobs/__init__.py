"""Refit scheduling: coalesced, debounced refits run off the request path.

With no broker configured, an in-process worker thread runs them; with
``QC_BROKER_URL`` set they go to Celery workers (``qc-service worker``). Either way
each refit is a row in the ``job`` table and at most one is queued per project.
"""

from qc_service.jobs.scheduler import Scheduler, make_scheduler

__all__ = ["Scheduler", "make_scheduler"]
