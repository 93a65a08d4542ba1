"""The counter's rule for a body's lines (`orders.counter.units_per_line`), without a database."""

from __future__ import annotations

import pytest

from orders.counter import units_per_line
from orders.exceptions import InvalidLines

ORDER = {"KOFFIE": 2, "THEE": 1}


def _errors(given: list[tuple[str, int]]) -> list[dict[str, str]]:
    with pytest.raises(InvalidLines) as refused:
        units_per_line(have=ORDER, given=given, field="picked", of_what="ordered")
    assert refused.value.status_code == 422
    errors: list[dict[str, str]] = refused.value.extra["errors"]
    return errors


def test_a_line_left_out_is_in_full() -> None:
    assert units_per_line(have=ORDER, given=[], field="picked", of_what="ordered") == ORDER
    given = [("THEE", 0)]
    assert units_per_line(have=ORDER, given=given, field="picked", of_what="ordered") == {
        "KOFFIE": 2,
        "THEE": 0,
    }
    everything = [("THEE", 1), ("KOFFIE", 0)]
    assert units_per_line(have=ORDER, given=everything, field="picked", of_what="ordered") == {
        "KOFFIE": 0,
        "THEE": 1,
    }


def test_every_bad_line_is_named_with_what_is_wrong() -> None:
    assert _errors([("KOFFIE", 3), ("MELK", 1), ("THEE", -1), ("KOFFIE", 1)]) == [
        {"field": "body.lines.0.picked", "message": "3 is more than the 2 ordered"},
        {"field": "body.lines.1.sku", "message": "sku 'MELK' is not in this order"},
        {"field": "body.lines.2.picked", "message": "-1 is negative"},
        {"field": "body.lines.3.sku", "message": "sku 'KOFFIE' appears twice; give each line once"},
    ]


def test_a_hand_over_names_its_own_field() -> None:
    with pytest.raises(InvalidLines) as refused:
        units_per_line(have={"THEE": 0}, given=[("THEE", 1)], field="quantity", of_what="picked")
    assert refused.value.extra["errors"] == [
        {"field": "body.lines.0.quantity", "message": "1 is more than the 0 picked"}
    ]
    assert str(refused.value) == "body.lines.0.quantity: 1 is more than the 0 picked"
