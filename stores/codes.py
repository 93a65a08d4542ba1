"""What a store code is: the one definition every domain checks a store code with."""

from __future__ import annotations

import re
from typing import Final

# 1 to 32 letters, digits, dashes or underscores, starting with a letter or digit. No "." (a pickup token
# splits on it) and nothing that needs escaping in a URL path.
STORE_CODE_PATTERN: Final = r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}"
STORE_CODE: Final = re.compile(STORE_CODE_PATTERN)
STORE_CODE_MEANING: Final = (
    "a store code is 1 to 32 letters, digits, dashes or underscores, starting with a letter or digit"
)
