"""qc-service import: counts, idempotency, resuming after Ctrl-C, errors, real exports."""

from __future__ import annotations

import csv
import json

import pytest
import yaml

from qc_service.service import ingest
from tests.conftest import ADMIN, PAYLOADS, project_spec, row_counts
from tests.platforms.test_a2i import LOOPS as A2I_LOOPS
from tests.platforms.test_gal import GOLD as GAL_GOLD
from tests.platforms.test_gal import LABELS as GAL_LABELS
from tests.platforms.test_mturk import OPTIONS_CSV


def counts(client, project="shirts") -> dict:
    return client.get(f"/api/v1/projects/{project}", headers=ADMIN).get_json()["counts"]


def write_csv(path, rows) -> str:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item", "annotator", "attribute", "value"])
        writer.writerows(rows)
    return str(path)


SHADES = ["white", "off-white", "cream", "beige", "light gray"]


def long_rows(n_items: int) -> list[list[str]]:
    return [
        [f"img-{i}", f"a{a}", "shade", SHADES[(i + a) % len(SHADES)]]
        for i in range(n_items)
        for a in range(3)
    ]


def test_import_twice_adds_nothing_the_second_time(run, client, project, engine, tmp_path):
    path = write_csv(tmp_path / "labels.csv", long_rows(40))
    first = run("import", path, "-f", "csv", "-p", "shirts", "--chunk-size", "25")
    assert first.exit_code == 0, first.output
    assert "120 labels read, 120 stored" in first.stdout
    assert "labels/s" in first.output
    assert counts(client) == {"labels": 120, "items": 40, "annotators": 3, "gold": 0}
    before = row_counts(engine)
    second = run("import", path, "-f", "csv", "-p", "shirts")
    assert second.exit_code == 0 and "120 labels read, 0 stored, 120 already there" in second.stdout
    assert row_counts(engine) == before


def test_interrupted_import_resumes_where_it_stopped(run, client, project, tmp_path, monkeypatch):
    path = write_csv(tmp_path / "labels.csv", long_rows(40))
    real_ingest = ingest.ingest_events
    calls = []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_ingest(*args, **kwargs)

    monkeypatch.setattr(ingest, "ingest_events", interrupted)
    stopped = run("import", path, "-f", "csv", "-p", "shirts", "--chunk-size", "25")
    assert stopped.exit_code == 130 and "Run the same command again" in stopped.output
    assert counts(client)["labels"] == 50  # two whole batches, nothing of the third
    monkeypatch.setattr(ingest, "ingest_events", real_ingest)
    resumed = run("import", path, "-f", "csv", "-p", "shirts", "--chunk-size", "25")
    assert "120 labels read, 70 stored, 50 already there" in resumed.stdout
    assert counts(client)["labels"] == 120


def test_answer_outside_the_taxonomy_names_the_row_and_stores_nothing_of_its_batch(
    run, client, project, engine, tmp_path
):
    rows = [*long_rows(10), ["img-x", "a9", "shade", "magenta"]]
    path = write_csv(tmp_path / "labels.csv", rows)
    before = row_counts(engine)
    result = run("import", path, "-f", "csv", "-p", "shirts")
    assert result.exit_code == 1
    assert "item 'img-x', annotator 'a9', 'shade': 'magenta'" in result.output
    assert "'magenta' is not one of" in result.output
    assert row_counts(engine) == before


def test_unreadable_file_names_the_line(run, project, tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("item,annotator,attribute,value\nimg-1,,shade,cream\n")
    result = run("import", str(path), "-f", "csv", "-p", "shirts")
    assert result.exit_code == 1 and "(line 2)" in result.output


def test_mapping_file_and_its_errors(run, client, project, tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text("image,worker,colour\nimg-1,w1,cream\nimg-1,w2,beige\n")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({"item": "image", "annotator": "worker",
                                       "attributes": {"colour": "shade"}}))  # fmt: skip
    result = run("import", str(path), "-f", "csv", "-p", "shirts", "-m", str(mapping))
    assert result.exit_code == 0, result.output
    assert counts(client)["labels"] == 2
    mapping.write_text(yaml.safe_dump({"itme": "image"}))
    bad = run("import", str(path), "-f", "csv", "-p", "shirts", "-m", str(mapping))
    assert bad.exit_code == 1 and "/mapping/itme" in bad.output


def test_stored_platform_mapping_is_used_by_default(run, client, project, tmp_path):
    client.put("/api/v1/projects/shirts/platforms/jsonl", headers=ADMIN,
               json={"mapping": {"label_attribute": "shade"}})  # fmt: skip
    path = tmp_path / "crowdkit.jsonl"
    path.write_text("".join(json.dumps({"task": "t1", "worker": f"w{n}", "label": "cream"}) + "\n"
                            for n in range(3)))  # fmt: skip
    result = run("import", str(path), "-f", "jsonl", "-p", "shirts")
    assert result.exit_code == 0, result.output
    assert counts(client) == {"labels": 3, "items": 1, "annotators": 3, "gold": 0}


def test_missing_project(run, tmp_path):
    path = write_csv(tmp_path / "labels.csv", long_rows(1))
    result = run("import", path, "-f", "csv", "-p", "nope")
    assert result.exit_code == 1 and "'nope' does not exist" in result.output


# --- real exports from ../shared/payloads ------------------------------------------------


def real(relative: str) -> str:
    path = PAYLOADS / relative
    if not path.is_file():
        pytest.skip(f"real payload {path} is absent (set QC_PAYLOADS to the payloads folder)")
    return str(path)


def make_project(client, project_id: str, attributes: list[dict]) -> None:
    spec = project_spec(id=project_id, name=project_id, attributes=attributes)
    assert client.post("/api/v1/projects", json=spec, headers=ADMIN).status_code == 201


def test_real_toloka_results_tsv(run, client):
    path = real("toloka/results_tsv_pool_42774131_first2000records.tsv")
    make_project(client, "toloka", [{"name": "R-4", "values": ["0", "1", "2", "3"]}])
    result = run("import", path, "-f", "toloka", "-p", "toloka")
    assert result.exit_code == 0, result.output
    # 2000 APPROVED records; 562 tasks, 89 workers; GOLDEN:R-4 on 20 distinct tasks.
    assert counts(client, "toloka") == {"labels": 2000, "items": 562, "annotators": 89, "gold": 20}
    again = run("import", path, "-f", "toloka", "-p", "toloka")
    assert "0 stored, 2,000 already there" in again.stdout


MTURK_CLASSES = ["angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"]


def test_real_mturk_batch_results(run, client):
    path = real("mturk/Batch_4350992_batch_results_first1200rows.csv")
    make_project(client, "mturk", [{"name": "category", "values": MTURK_CLASSES}])
    result = run("import", path, "-f", "mturk", "-p", "mturk")
    assert result.exit_code == 0, result.output
    # 1200 Submitted assignments: 400 HITs x 3, 68 workers, no gold in the format.
    assert counts(client, "mturk") == {"labels": 1200, "items": 400, "annotators": 68, "gold": 0}


def test_real_mturk_crowdtruth_fixture(run, client):
    path = real("mturk/crowdtruth_test_platform_amt2.csv")
    make_project(client, "amt", [{"name": "output", "values": list("ABCDE")}])
    result = run("import", path, "-f", "mturk", "-p", "amt")
    assert result.exit_code == 0, result.output
    assert counts(client, "amt") == {"labels": 63, "items": 7, "annotators": 17, "gold": 0}


def test_mturk_radio_buttons_and_checkboxes(run, client, tmp_path):
    make_project(client, "opinions", [
        {"name": "sentiment", "values": ["negative", "neutral", "positive"]},
        {"name": "topics", "kind": "multilabel", "values": ["food", "price", "service"]},
        {"name": "offensive", "kind": "binary", "values": ["false", "true"]},
    ])  # fmt: skip
    path = tmp_path / "Batch_1_batch_results.csv"
    path.write_text(OPTIONS_CSV, newline="")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({"attributes": {"sentiment": "sentiment", "topics": "topics",
                                                      "offensive": "offensive"},
                                       "multilabel": ["topics"]}))  # fmt: skip
    result = run("import", str(path), "-f", "mturk", "-p", "opinions", "-m", str(mapping))
    assert result.exit_code == 0, result.output
    # 9 answers of 2 workers on 2 HITs (the rejected assignment and empty answers skipped).
    assert "9 labels read, 9 stored" in result.stdout
    assert counts(client, "opinions") == {"labels": 9, "items": 2, "annotators": 2, "gold": 0}


def test_get_another_label_labels_and_gold_files(run, client, tmp_path):
    make_project(client, "porn", [{"name": "label", "values": ["notporn", "porn"]}])
    labels, gold = tmp_path / "labels.txt", tmp_path / "gold.txt"
    labels.write_text(GAL_LABELS)
    gold.write_text(GAL_GOLD)
    result = run("import", str(labels), "-f", "gal", "-p", "porn")
    assert result.exit_code == 0, result.output
    # 6 label lines, one repeated; the empty answer skipped.
    assert "6 labels read, 5 stored, 1 already there" in result.stdout
    assert "skipped: empty_answer 1" in result.stdout
    assert run("import", str(gold), "-f", "gal", "-p", "porn").exit_code == 0
    assert counts(client, "porn") == {"labels": 5, "items": 3, "annotators": 3, "gold": 2}


def test_real_get_another_label_files(run, client):
    make_project(client, "adult", [{"name": "label", "values": ["notporn", "porn"]}])
    for name in ("AdultContent_labels.txt", "AdultContent_gold.txt"):
        result = run("import", real(f"get_another_label/{name}"), "-f", "gal", "-p", "adult")
        assert result.exit_code == 0, result.output
    # README: 5 workers x 5 URLs; gold for url1 and url2.
    assert counts(client, "adult") == {"labels": 25, "items": 5, "annotators": 5, "gold": 2}
    make_project(client, "barzan", [{"name": "label", "kind": "binary"}])
    for name in ("BarzanMozafari_labels.txt", "BarzanMozafari_gold-30items.txt"):
        result = run("import", real(f"get_another_label/{name}"), "-f", "gal", "-p", "barzan")
        assert result.exit_code == 0, result.output
    # awk -F'\t': 5000 distinct lines, 1000 objects, 83 workers; 30 gold objects.
    assert counts(client, "barzan") == {"labels": 5000, "items": 1000, "annotators": 83,
                                        "gold": 30}  # fmt: skip


def test_a2i_human_loop_outputs_as_json_lines(run, client, tmp_path):
    make_project(client, "loops", [
        {"name": "shade", "values": ["beige", "cream", "white"]},
        {"name": "tags", "kind": "multilabel", "values": ["cotton", "silk"]},
        {"name": "logo", "kind": "binary", "values": ["false", "true"]},
        {"name": "label", "values": ["beige", "cream", "white"]},
    ])  # fmt: skip
    path = tmp_path / "loops.jsonl"
    path.write_text("".join(json.dumps(entry) + "\n" for entry in A2I_LOOPS))
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({"item": "inputContent.taskObject",
                                       "multilabel": ["tags"]}))  # fmt: skip
    result = run("import", str(path), "-f", "a2i", "-p", "loops", "-m", str(mapping))
    assert result.exit_code == 0, result.output
    assert "7 labels read, 7 stored" in result.stdout
    assert "unsupported_answer:notes 1" in result.stdout
    assert counts(client, "loops") == {"labels": 7, "items": 2, "annotators": 2, "gold": 0}


def test_real_a2i_output(run, client, tmp_path):
    path = real("sagemaker_groundtruth/docs_a2i_output_custom_task_type.json")
    make_project(client, "a2i", [{"name": "label", "values": ["a", "b"]}])
    result = run("import", path, "-f", "a2i", "-p", "a2i")
    assert result.exit_code == 0, result.output
    # One worker's free-text transcription: not a label unless mapped.
    assert "0 labels read" in result.stdout
    assert "unsupported_answer:transcription 1" in result.stdout


def test_real_label_studio_exports(run, client):
    make_project(client, "ls", [{"name": "sentiment", "kind": "multilabel",
                                 "values": ["Evil", "Good", "Neutral"]}])  # fmt: skip
    client.put("/api/v1/projects/ls/platforms/labelstudio", headers=ADMIN,
               json={"mapping": {"multilabel": ["sentiment"]}})  # fmt: skip
    legacy = run("import", real("labelstudio/export_json_legacy_completions_format.json"),
                 "-f", "labelstudio", "-p", "ls")  # fmt: skip
    assert legacy.exit_code == 0, legacy.output
    # Task 6057960: three completions by annotator 103.
    assert counts(client, "ls") == {"labels": 3, "items": 1, "annotators": 1, "gold": 0}
    boxes = run("import", real("labelstudio/export_json_5images_3annotators_bbox.json"),
                "-f", "labelstudio", "-p", "ls")  # fmt: skip
    # 5 tasks x 3 annotators, 91 rectanglelabels results: nothing is a label.
    assert "0 labels read" in boxes.stdout
    assert "unsupported_result:rectanglelabels 91" in boxes.stdout


def test_real_figure_eight_report_as_generic_csv(run, client, tmp_path):
    path = real("figure_eight_crowdflower/full_report_relex-multiple-choice.csv")
    with open(path, newline="") as handle:
        tags = sorted({tag for row in csv.DictReader(handle)
                       for tag in row["relations"].split("\n") if tag})  # fmt: skip
    make_project(client, "relex", [{"name": "relation", "kind": "multilabel", "values": tags}])
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(yaml.safe_dump({
        "item": "_unit_id", "annotator": "_worker_id", "id": "_id",
        "attributes": {"relations": "relation"}, "multilabel": ["relation"], "separator": "\n",
    }))  # fmt: skip
    result = run("import", path, "-f", "csv", "-p", "relex", "-m", str(mapping))
    assert result.exit_code == 0, result.output
    # 150 judgments of 10 units by 67 workers.
    assert counts(client, "relex") == {"labels": 150, "items": 10, "annotators": 67, "gold": 0}


def test_real_sagemaker_consolidation_request(run, client):
    path = real("sagemaker_groundtruth/recipe_sample_annotation_consolidation_payload.json")
    make_project(client, "gt", [{"name": "label", "values": ["a", "b"]}])
    result = run("import", path, "-f", "sagemaker", "-p", "gt")
    assert result.exit_code == 0, result.output
    # Two data objects, one bounding-box response each: nothing is a label.
    assert "unsupported_answer:annotatedResult 2" in result.stdout
    assert counts(client, "gt")["labels"] == 0
