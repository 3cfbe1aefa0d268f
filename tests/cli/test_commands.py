"""token, project, export and demo commands, and --help everywhere."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import click
import pytest
import yaml
from click.testing import CliRunner

from qc_service.cli import COMMANDS, main
from tests.conftest import ADMIN, bearer, project_spec, row_counts


def test_token_create_service_wide_and_project_scoped(run, client, project):
    admin = run("token", "create", "--name", "ops")
    assert admin.exit_code == 0, admin.output
    secret = admin.stdout.strip()
    assert client.get("/api/v1/projects/shirts", headers=bearer(secret)).status_code == 200
    ingest = run("token", "create", "-p", "shirts", "-s", "ingest", "-s", "read")
    scoped = bearer(ingest.stdout.strip())
    label = {"item": "i", "annotator": "a", "attribute": "shade", "value": "cream"}
    posted = client.post("/api/v1/projects/shirts/labels", json={"labels": [label]}, headers=scoped)
    assert posted.status_code == 200
    created = client.post("/api/v1/projects", json=project_spec(id="x"), headers=scoped)
    assert created.status_code == 403


def test_token_for_a_missing_project_fails_cleanly(run, engine):
    before = row_counts(engine)
    result = run("token", "create", "-p", "nope", "-s", "read")
    assert result.exit_code == 1 and "'nope' does not exist" in result.output
    assert row_counts(engine) == before


def test_project_create_from_yaml(run, client, tmp_path):
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(project_spec()))
    result = run("project", "create", "--from", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "shirts"
    body = client.get("/api/v1/projects/shirts", headers=ADMIN).get_json()
    assert [a["name"] for a in body["attributes"]] == ["shade", "pattern", "has_logo", "tags"]
    again = run("project", "create", "--from", str(path))
    assert again.exit_code == 1 and "exists already" in again.output


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"attributes": [{"name": "shade", "kind": "colour", "values": ["a", "b"]}]},
         "/attributes/0/kind"),
        ({"min_labels": 0}, "/min_labels"),
        ({"colour": "red"}, "/colour"),
        ({"method": "guess"}, "/method"),
    ],
)  # fmt: skip
def test_project_create_names_the_bad_field_and_writes_nothing(
    run, engine, tmp_path, change, field
):
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(project_spec(**change)))
    before = row_counts(engine)
    result = run("project", "create", "--from", str(path))
    assert result.exit_code == 1
    assert f"  {field}:" in result.output
    assert row_counts(engine) == before


def test_project_create_from_a_file_that_is_not_yaml(run, tmp_path):
    path = tmp_path / "taxonomy.yaml"
    path.write_text("name: [unclosed")
    result = run("project", "create", "--from", str(path))
    assert result.exit_code == 1 and "is not YAML" in result.output


def test_demo_builds_once_fits_and_exports(run, client, engine, tmp_path):
    first = run("demo")
    assert first.exit_code == 0, first.output
    assert "token:" in first.output and "curl" in first.output
    counts = client.get("/api/v1/projects/demo", headers=ADMIN).get_json()["counts"]
    assert (counts["items"], counts["annotators"], counts["gold"]) == (200, 25, 80)
    # 200 items x 3 to 5 annotators x 4 attributes.
    assert 200 * 3 * 4 <= counts["labels"] <= 200 * 5 * 4
    before = {k: v for k, v in row_counts(engine).items() if k != "token"}
    second = run("demo")
    assert second.exit_code == 0 and "(0 labels new)" in second.output
    assert {k: v for k, v in row_counts(engine).items() if k != "token"} == before

    exported = run("export", "-p", "demo", "-f", "csv")
    assert exported.exit_code == 0, exported.output
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert len(rows) == 200 * 4 and {row["attribute"] for row in rows} == {
        "shade", "pattern", "texture", "has_logo"}  # fmt: skip
    target = tmp_path / "demo.parquet"
    assert run("export", "-p", "demo", "-f", "parquet", "-o", str(target)).exit_code == 0
    assert target.read_bytes()[:4] == b"PAR1"


def test_db_prune_forgets_replay_records_past_the_window(
    run, client, project, engine, database_url, tmp_path
):
    from tests.service.test_retention import age

    for key, days in (("old", 31), ("recent", 5)):
        headers = {**ADMIN, "Idempotency-Key": key}
        label = {"item": "i", "annotator": key, "attribute": "shade", "value": "cream"}
        client.post("/api/v1/projects/shirts/labels", json={"labels": [label]}, headers=headers)
        age(engine, "idempotent_request", "key", key, days)
    result = run("db", "prune")
    assert result.exit_code == 0, result.output
    assert "pruned 0 webhook deliveries and 1 idempotency keys stored before" in result.stdout
    assert row_counts(engine)["idempotent_request"] == 1
    off = CliRunner().invoke(main, ["db", "prune"], env={
        "DATABASE_URL": database_url, "QC_DATA_DIR": str(tmp_path),
        "QC_REPLAY_RETENTION_DAYS": "0"})  # fmt: skip
    assert off.exit_code == 0 and "retention is off" in off.stdout
    assert row_counts(engine)["idempotent_request"] == 1
    assert "1 idempotency keys" in run("db", "prune", "--days", "1").stdout
    assert run("db", "prune", "--days", "0").exit_code == 2


def test_export_of_a_missing_project_fails_cleanly(run):
    result = run("export", "-p", "nope")
    assert result.exit_code == 1 and "nope" in result.output


def leaf_commands(group: click.Group, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            found += leaf_commands(command, (*path, name))
        else:
            found.append((*path, name))
    return found


@pytest.mark.parametrize("path", leaf_commands(main), ids=" ".join)
def test_every_command_explains_itself_with_an_example(path):
    result = CliRunner().invoke(main, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output, f"qc-service {' '.join(path)} --help has no example"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_listed_command_is_the_command_of_that_name(name):
    command = main.get_command(click.Context(main), name)
    assert isinstance(command, click.Command) and command.name == name


def test_help_and_version_do_not_import_the_heavy_libraries():
    """The listing comes from COMMANDS, so --help answers without SQLAlchemy and co."""
    heavy = ["sqlalchemy", "alembic", "scipy", "pyarrow", "numpy", "flask"]
    script = (
        "import sys\n"
        "from qc_service.cli import main\n"
        "for args in (['--help'], ['--version']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit as done:\n"
        "        assert done.code == 0, done.code\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules))\n"
    )
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    assert "Commands:" in ran.stdout and "qc-service, version" in ran.stdout
    assert ran.stdout.strip().splitlines()[-1] == "[]"
