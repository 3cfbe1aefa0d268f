"""Configuration: one table of settings, read from the environment.

Every setting has a safe default so that ``qc-service serve`` works on a fresh
machine with nothing configured. The table below is the single source of truth:
the README's configuration table is generated from it (``qc-service settings``).
"""

from __future__ import annotations

import os
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any


def _default_data_dir() -> str:
    return os.environ.get("QC_DATA_DIR", str(Path.cwd() / "data"))


@dataclass(frozen=True)
class Settings:
    """Runtime configuration; each field maps to one environment variable."""

    data_dir: str = field(
        default_factory=_default_data_dir,
        metadata={"env": "QC_DATA_DIR", "doc": "Folder for the embedded SQLite database."},
    )
    database_url: str = field(
        default="",
        metadata={
            "env": "DATABASE_URL",
            "doc": "SQLAlchemy URL. Empty: a SQLite file `qc.db` in the data folder. "
            "PostgreSQL: `postgresql+psycopg://user@host/db`.",
        },
    )
    admin_token: str = field(
        default="",
        metadata={
            "env": "QC_ADMIN_TOKEN",
            "doc": "Seeds an admin token (all projects, all scopes) at start. Empty: none.",
        },
    )
    auto_migrate: bool | None = field(
        default=None,
        metadata={
            "env": "QC_AUTO_MIGRATE",
            "doc": "Upgrade the schema at start. Default: yes on SQLite, no elsewhere "
            "(run `qc-service db upgrade` in your deploy step).",
        },
    )
    max_batch_labels: int = field(
        default=10_000,
        metadata={"env": "QC_MAX_BATCH_LABELS", "doc": "Most labels in one POST (400 above)."},
    )
    max_body_bytes: int = field(
        default=16 * 1024 * 1024,
        metadata={"env": "QC_MAX_BODY_BYTES", "doc": "Largest request body (413 above)."},
    )
    broker_url: str = field(
        default="",
        metadata={
            "env": "QC_BROKER_URL",
            "doc": "Celery broker (e.g. `redis://127.0.0.1:6379/0`). Empty: refits run in "
            "a worker thread inside the service.",
        },
    )
    refit_debounce_seconds: float = field(
        default=2.0,
        metadata={
            "env": "QC_REFIT_DEBOUNCE_SECONDS",
            "doc": "Wait this long after the last change before refitting, so bursts "
            "of labels cost one refit.",
        },
    )
    replay_retention_days: int = field(
        default=30,
        metadata={
            "env": "QC_REPLAY_RETENTION_DAYS",
            "doc": "Days a webhook delivery id or `Idempotency-Key` is remembered: a retry "
            "within them gets the first answer back. Older records are pruned after refits "
            "(at most hourly) and by `qc-service db prune`. 0: keep them forever.",
        },
    )
    page_cache_bytes: int = field(
        default=16 * 1024 * 1024,
        metadata={
            "env": "QC_PAGE_CACHE_BYTES",
            "doc": "Bytes of rendered `results`, `annotators` and `review/queue` pages each "
            "worker keeps, each under the version of the data it shows (never served stale). "
            "0: no cache.",
        },
    )
    secret_key: str = field(
        default="",
        metadata={
            "env": "QC_SECRET_KEY",
            "doc": "Signs dashboard session cookies. Empty: a random key per process "
            "(sessions end on restart; set it when running several workers).",
        },
    )
    log_level: str = field(
        default="INFO", metadata={"env": "QC_LOG_LEVEL", "doc": "Python logging level."}
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every setting from ``environ`` (default ``os.environ``); ``overrides`` win."""
        environ = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(f.metadata["env"])
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.type, raw, f.metadata["env"])
        values.update(overrides)
        return cls(**values)

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{Path(self.data_dir).resolve() / 'qc.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def should_auto_migrate(self) -> bool:
        return self.is_sqlite if self.auto_migrate is None else self.auto_migrate


def _coerce(annotation: Any, raw: str, env: str) -> Any:
    kind = str(annotation)
    try:
        if "bool" in kind:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
    except ValueError:
        raise ValueError(f"{env}={raw!r} is not a valid {kind}") from None
    return raw


def settings_table() -> list[dict[str, str]]:
    """The documented settings: variable, default, meaning."""
    rows = []
    for f in fields(Settings):
        if f.default is MISSING:
            default = "./data"
        else:
            default = "(see meaning)" if f.default is None else str(f.default)
        rows.append(
            {"variable": f.metadata["env"], "default": str(default), "meaning": f.metadata["doc"]}
        )
    return rows
