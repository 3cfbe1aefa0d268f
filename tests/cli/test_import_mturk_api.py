"""qc-service import -f mturk of a table of API assignments (``Answer`` holds the XML)."""

from __future__ import annotations

from tests.cli.test_import import counts, make_project
from tests.conftest import row_counts
from tests.platforms.test_mturk_answers import (
    BILLION_LAUGHS,
    answers_xml,
    assignment,
    free_text,
    selection,
    table_of,
)


def test_a_table_of_api_assignments_imports_and_bad_xml_stops_naming_the_line(
    run, client, engine, tmp_path
):
    make_project(client, "shades", [{"name": "shade", "values": ["beige", "cream"]}])
    path = tmp_path / "assignments.csv"
    path.write_bytes(table_of([
        assignment("a1", "W1", answers_xml(free_text("shade", "beige"))),
        assignment("a2", "W2", answers_xml(selection("shade", "cream"))),
        assignment("a3", "W1", answers_xml(free_text("shade", "cream")), hit="h2"),
    ]))  # fmt: skip
    result = run("import", str(path), "-f", "mturk", "-p", "shades")
    assert result.exit_code == 0, result.output
    assert "3 labels read, 3 stored" in result.stdout
    assert counts(client, "shades") == {"labels": 3, "items": 2, "annotators": 2, "gold": 0}
    bad = tmp_path / "bad.csv"
    bad.write_bytes(table_of([assignment("a9", "W9", BILLION_LAUGHS)]))
    before = row_counts(engine)
    result = run("import", str(bad), "-f", "mturk", "-p", "shades")
    assert result.exit_code != 0
    assert "Answer (line " in result.output and "document type declaration" in result.output
    assert row_counts(engine) == before
