"""What a sku, a movement id and a GTIN (EAN) are: the one definition the API models, the sync's row
parsers and anything else check them with. (A store code is the store network's: `stores.codes`.)"""

from __future__ import annotations

import re
from typing import Final

# 1 to 64 letters, digits, dots, slashes, dashes or underscores, starting with a letter or digit.
SKU_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}"
SKU: Final = re.compile(SKU_PATTERN)
SKU_MEANING: Final = (
    "a sku is 1 to 64 letters, digits, dots, slashes, dashes or underscores, starting with a letter or digit"
)

# Printable ASCII, the webshop's own id of a till sale, a delivery or a correction.
MOVEMENT_ID_MAX_LENGTH: Final = 100
MOVEMENT_ID_CHARACTERS: Final = r"[\x21-\x7e]"
MOVEMENT_ID: Final = re.compile(rf"{MOVEMENT_ID_CHARACTERS}{{1,{MOVEMENT_ID_MAX_LENGTH}}}")
MOVEMENT_ID_MEANING: Final = "a movement id is printable ASCII: no spaces, accents or control characters"

# GTIN-8, -13 or -14 (what shoppers and webshops call the EAN).
GTIN_PATTERN: Final = r"^[0-9]{8}$|^[0-9]{13}$|^[0-9]{14}$"
GTIN_MEANING: Final = "an EAN is 8, 13 or 14 digits (GTIN-8, -13 or -14)"


def gtin_check_digit(digits: str) -> int:
    """The GS1 check digit for the GTIN `digits` without their check digit (7, 12 or 13 digits).

    From the right, digits are weighted 3, 1, 3, 1, ...; the check digit brings the sum to a multiple
    of 10. The same rule serves GTIN-8, GTIN-13 and GTIN-14.
    """
    if not digits.isdigit():
        raise ValueError(f"a GTIN has digits only: {digits!r}")
    total = sum(
        int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(digits))
    )
    return (10 - total % 10) % 10


def has_valid_check_digit(gtin: str) -> bool:
    """Whether the last digit of `gtin` is the check digit of the others."""
    return gtin_check_digit(gtin[:-1]) == int(gtin[-1])
