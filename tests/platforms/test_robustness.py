"""Arbitrary input never escapes as anything but a PayloadError."""

import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qc_service.events import EventBatch
from qc_service.platforms import ADAPTERS, Mapping, PayloadError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["action", "annotation", "annotations", "task", "id", "result", "type", "value",
             "choices", "from_name", "completed_by", "events", "items", "tasks", "solutions",
             "output_values", "dataObject", "s3Uri", "workerId", "annotationData", "content",
             "labels", "gold", "item", "annotator", "attribute", "HITId", "WorkerId",
             "AssignmentId", "Answer.q", "Answer.q.a", "Answer.r.on", "updated_at",
             "ground_truth", "uuid", "user_id"]
        ) | st.text(max_size=5),
        children,
        max_size=5,
    ),
    max_leaves=20,
)  # fmt: skip

payload_values = json_values | st.builds(
    lambda action, annotation: {"action": action, "annotation": annotation},
    st.sampled_from(["ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATIONS_DELETED"]),
    json_values,
)

MAPPINGS = [Mapping(), Mapping(item="data.image", multilabel=frozenset({"q"}))]


@pytest.mark.parametrize("name", sorted(ADAPTERS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=payload_values, raw=st.booleans(), mapping=st.sampled_from(MAPPINGS))
def test_webhook_raises_only_payload_errors(name, body, raw, mapping):
    payload = json.dumps(body).encode() if raw else body
    try:
        assert isinstance(ADAPTERS[name].parse_webhook(payload, mapping), EventBatch)
    except PayloadError as error:
        assert error.errors and all({"field", "message"} <= set(entry) for entry in error.errors)


@pytest.mark.parametrize("name", sorted(ADAPTERS))
@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_export_raises_only_payload_errors(name, body):
    try:
        for batch in ADAPTERS[name].parse_export(io.BytesIO(body), Mapping()):
            assert isinstance(batch, EventBatch)
    except PayloadError:
        pass
