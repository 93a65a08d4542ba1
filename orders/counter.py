"""The counter's rule for the lines of a body, a plain function (no database): how many units of each line
the store picked (`POST .../ready`), or the collector takes of what was picked (`POST /pickups/confirm`).

Both bodies read the same way: a line left out is in full; a sku the order does not have, a sku given
twice, a negative count or more units than the line has is refused, each bad line named
(`body.lines.1.picked`), all of them in one answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from orders.exceptions import InvalidLines


def units_per_line(
    *, have: Mapping[str, int], given: Sequence[tuple[str, int]], field: str, of_what: str
) -> dict[str, int]:
    """The units of each of the order's lines (by sku): what `given` says of it, else all `have` holds.

    `have`: per sku, the most a line can be given (its quantity for a pick, its picked units for a
    hand-over); `given`: the body's lines, (sku, units) in the body's order; `field`: the name of their
    units in the body; `of_what`: what `have` counts, for the message ("ordered", "picked").
    Raises `InvalidLines` naming every bad line."""
    units = dict(have)
    seen: set[str] = set()
    errors: list[tuple[str, str]] = []
    for index, (sku, count) in enumerate(given):
        if sku not in have:
            errors.append((f"body.lines.{index}.sku", f"sku {sku!r} is not in this order"))
        elif sku in seen:
            errors.append((f"body.lines.{index}.sku", f"sku {sku!r} appears twice; give each line once"))
        elif count < 0:
            errors.append((f"body.lines.{index}.{field}", f"{count} is negative"))
        elif count > have[sku]:
            errors.append((f"body.lines.{index}.{field}", f"{count} is more than the {have[sku]} {of_what}"))
        else:
            units[sku] = count
        seen.add(sku)
    if errors:
        raise InvalidLines(errors)
    return units
