import numpy as np
import pytest

from qc_service.engine import LabelArrays, align, binary_relevance, encode


def test_codes_do_not_depend_on_row_order():
    rows = [("i2", "b", "x"), ("i1", "a", "y"), ("i1", "b", "x"), ("i3", "a", "z")]
    a, enc_a = encode(*zip(*rows, strict=True))
    b, enc_b = encode(*zip(*reversed(rows), strict=True))
    assert enc_a == enc_b
    as_set = lambda L: sorted(zip(L.item, L.annotator, L.value, strict=True))  # noqa: E731
    assert as_set(a) == as_set(b)


def test_integer_looking_values_sort_numerically_and_decode_back():
    labels, enc = encode(["a", "b", "c"], ["w", "w", "w"], ["10", "2", "1"])
    assert enc.values == ["1", "2", "10"]
    assert enc.decode_values(labels.value) == ["10", "2", "1"]


def test_value_order_fixes_codes_and_rejects_unknown_values():
    labels, _ = encode(["a"], ["w"], ["red"], value_order=["blue", "red", "green"])
    assert labels.n_values == 3 and labels.value.tolist() == [1]
    with pytest.raises(ValueError, match="not in value_order"):
        encode(["a"], ["w"], ["pink"], value_order=["blue"])


def test_gold_and_extra_items():
    labels, enc = encode(["a"], ["w"], ["x"], value_order=["x", "y"], extra_items=["z"])
    assert labels.n_items == 2
    assert enc.encode_gold({"z": "y", "unknown": "x"}).tolist() == [-1, 1]


def test_label_arrays_validate():
    with pytest.raises(ValueError, match="length"):
        LabelArrays(np.array([0]), np.array([0, 1]), np.array([0]), 1, 2, 1)
    with pytest.raises(ValueError, match="codes"):
        LabelArrays(np.array([3]), np.array([0]), np.array([0]), 1, 1, 1)


def test_align_maps_new_codes_to_old():
    assert align(["a", "b", "c"], ["b", "d", "a"]).tolist() == [1, -1, 0]


def test_binary_relevance_one_problem_per_tag():
    problems = binary_relevance(
        ["i1", "i1", "i2"], ["w1", "w2", "w1"], [{"dots"}, {"dots", "stripes"}, set()]
    )
    assert sorted(problems) == ["dots", "stripes"]
    stripes, enc = problems["stripes"]
    assert enc.values == [0, 1]
    assert sorted(zip(stripes.item, stripes.annotator, stripes.value, strict=True)) == [
        (0, 0, 0),
        (0, 1, 1),
        (1, 0, 0),
    ]
