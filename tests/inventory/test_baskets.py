"""The basket decision on its own: which baskets fit the locked counts, in order, each whole or not at
all. Plain values in and out; no database."""

from __future__ import annotations

from inventory.ledger import BasketOutcome, Quantity, decide_baskets

A, B, C = 1, 2, 3


def test_a_basket_that_fits_is_reserved_and_sees_what_was_available() -> None:
    assert decide_baskets({A: 5, B: 2}, [[Quantity(A, 3), Quantity(B, 2)]]) == [
        BasketOutcome(True, {A: 5, B: 2})
    ]


def test_a_basket_that_does_not_fit_takes_nothing() -> None:
    # B is short; A would fit, but the basket is all or nothing, so the next basket still finds all of A.
    outcomes = decide_baskets({A: 5, B: 1}, [[Quantity(A, 3), Quantity(B, 2)], [Quantity(A, 5)]])
    assert outcomes == [BasketOutcome(False, {A: 5, B: 1}), BasketOutcome(True, {A: 5})]


def test_later_baskets_get_their_turn_after_one_that_does_not_fit() -> None:
    outcomes = decide_baskets(
        {A: 2, B: 4}, [[Quantity(A, 2)], [Quantity(A, 1)], [Quantity(B, 4)], [Quantity(B, 1)]]
    )
    assert outcomes == [
        BasketOutcome(True, {A: 2}),
        BasketOutcome(False, {A: 0}),
        BasketOutcome(True, {B: 4}),
        BasketOutcome(False, {B: 0}),
    ]


def test_a_product_repeated_in_a_basket_counts_with_its_sum() -> None:
    outcomes = decide_baskets({A: 3}, [[Quantity(A, 2), Quantity(A, 2)], [Quantity(A, 1), Quantity(A, 2)]])
    assert outcomes == [BasketOutcome(False, {A: 3}), BasketOutcome(True, {A: 3})]


def test_an_unknown_product_has_none_and_sinks_its_basket() -> None:
    outcomes = decide_baskets({A: 9}, [[Quantity(A, 1), Quantity(C, 1)], [Quantity(A, 1)]])
    assert outcomes == [BasketOutcome(False, {A: 9, C: 0}), BasketOutcome(True, {A: 9})]


def test_zero_available_fits_nothing() -> None:
    assert decide_baskets({A: 0}, [[Quantity(A, 1)]]) == [BasketOutcome(False, {A: 0})]


def test_order_matters_the_first_basket_takes_the_last_unit() -> None:
    first, second = [Quantity(A, 1)], [Quantity(A, 1), Quantity(B, 1)]
    assert decide_baskets({A: 1, B: 1}, [first, second]) == [
        BasketOutcome(True, {A: 1}),
        BasketOutcome(False, {A: 0, B: 1}),
    ]
    assert decide_baskets({A: 1, B: 1}, [second, first]) == [
        BasketOutcome(True, {A: 1, B: 1}),
        BasketOutcome(False, {A: 0}),
    ]


def test_no_baskets_decide_nothing_and_the_counts_given_stay_as_they_were() -> None:
    available = {A: 2}
    assert decide_baskets(available, []) == []
    decide_baskets(available, [[Quantity(A, 2)]])
    assert available == {A: 2}
