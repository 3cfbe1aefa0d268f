"""Running ``qc-service`` commands in-process against each test database."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from qc_service.cli import main


@pytest.fixture
def run(database_url: str, tmp_path):
    """Invoke a command with DATABASE_URL pointing at the test database."""
    runner = CliRunner()
    env = {"DATABASE_URL": database_url, "QC_DATA_DIR": str(tmp_path), "QC_LOG_LEVEL": "WARNING"}

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), env=env)

    return invoke
