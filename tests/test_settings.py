"""Settings come from the environment, with safe defaults."""

from __future__ import annotations

import pytest

from qc_service.settings import Settings, settings_table


def test_defaults_need_nothing_configured(tmp_path):
    settings = Settings.from_env({"QC_DATA_DIR": str(tmp_path)})
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'qc.db'}"
    assert settings.should_auto_migrate
    assert settings.admin_token == ""
    assert settings.broker_url == ""


def test_environment_overrides():
    settings = Settings.from_env(
        {
            "DATABASE_URL": "postgresql+psycopg://qc@db/qc",
            "QC_MAX_BATCH_LABELS": "50",
            "QC_AUTO_MIGRATE": "yes",
            "QC_REFIT_DEBOUNCE_SECONDS": "0.5",
        }
    )
    assert settings.resolved_database_url == "postgresql+psycopg://qc@db/qc"
    assert settings.max_batch_labels == 50
    assert settings.should_auto_migrate is True
    assert settings.refit_debounce_seconds == 0.5


def test_postgres_is_not_migrated_behind_your_back():
    assert not Settings.from_env(
        {"DATABASE_URL": "postgresql+psycopg://qc@db/qc"}
    ).should_auto_migrate


def test_bad_values_name_the_variable():
    with pytest.raises(ValueError, match="QC_MAX_BATCH_LABELS"):
        Settings.from_env({"QC_MAX_BATCH_LABELS": "lots"})


def test_every_setting_is_documented():
    rows = settings_table()
    assert {row["variable"] for row in rows} >= {
        "DATABASE_URL",
        "QC_ADMIN_TOKEN",
        "QC_MAX_BATCH_LABELS",
        "QC_MAX_BODY_BYTES",
    }
    assert all(row["meaning"] for row in rows)
