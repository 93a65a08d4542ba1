"""Parser for the subset of OpenStreetMap ``opening_hours`` strings that store data uses, into OpeningHours.

Hand-written rather than built on a package: the OSM evaluators on PyPI (e.g. ``opening-hours-py``) answer
"open at t?" for the full syntax but don't hand back a structured weekly form, and we only accept strings
that the structured form can represent exactly. Everything else is rejected with a ValueError naming the
unsupported part and where it is, so an import never silently changes a store's hours.

Supported: ``24/7``; rules separated by ``;`` where a later rule replaces the earlier hours of the days it
names; weekday selectors ``Mo``..``Su`` with ranges (also wrapping, ``Fr-Mo``) and lists; time lists
``09:00-12:00,13:00-18:00``; overnight ``22:00-02:00`` (or OSM's extended ``22:00-26:00``); ``24:00``;
``off``/``closed``; additional rules after a comma (``Mo-Fr 09:00-18:00, Sa 10:00-16:00``); ``PH off``.
Weekday names, ``PH`` and ``off`` are matched case-insensitively and ``9:00`` is read as ``09:00``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from pydantic import ValidationError

from stores.hours.model import MINUTES_PER_DAY, WEEKDAYS, OpeningHours, Period, WeeklyHours

MAX_LENGTH: Final = 1000

_DAY_CODES: Final = ("mo", "tu", "we", "th", "fr", "sa", "su")
_MONTHS: Final = frozenset(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
)
_VARIABLE_TIMES: Final = frozenset(("sunrise", "sunset", "dawn", "dusk"))

_TOKEN = re.compile(
    r"(?P<space>\s+)"
    r"|(?P<always>24/7)"
    r"|(?P<time>[0-9]{1,2}:[0-9]{2})(?![0-9])"
    r"|(?P<number>[0-9]+)"
    r"|(?P<word>[A-Za-z]+)"
    r"|(?P<fallback>\|\|)"
    r"|(?P<punct>[-,;])"
    r"|(?P<other>.)",
    re.DOTALL,
)

_UNSUPPORTED_CHARACTERS: Final = {
    '"': "comments",
    "+": "open-ended times ('+')",
    "[": "nth-weekday selectors ('[...]')",
    "/": "repeating intervals ('/')",
    ":": "a colon outside a time",
}


@dataclass(frozen=True)
class _Token:
    kind: str  # always, time, day, ph, off, ',', '-', ';'
    text: str
    position: int  # 1-based character position, for messages


def _unsupported(what: str, token_text: str, position: int) -> ValueError:
    return ValueError(f"unsupported in opening_hours: {what} at character {position} ({token_text!r})")


def _classify_word(word: str, position: int) -> _Token:
    lower = word.lower()
    if lower in _DAY_CODES:
        return _Token("day", word, position)
    if lower == "ph":
        return _Token("ph", word, position)
    if lower in ("off", "closed"):
        return _Token("off", word, position)
    if lower == "sh":
        raise _unsupported("school holidays (SH)", word, position)
    if lower[:3] in _MONTHS and len(lower) <= 9:
        raise _unsupported("month or date selectors", word, position)
    if lower in _VARIABLE_TIMES:
        raise _unsupported("sunrise/sunset times", word, position)
    if lower == "week":
        raise _unsupported("week selectors", word, position)
    if lower == "easter":
        raise _unsupported("easter dates", word, position)
    if lower in ("open", "unknown"):
        raise _unsupported(f"the {lower!r} modifier", word, position)
    raise ValueError(f"unexpected word {word!r} at character {position} in opening_hours")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        value = match.group()
        position = match.start() + 1
        if kind == "space":
            continue
        if kind in ("always", "time", "punct"):
            tokens.append(_Token(value if kind == "punct" else str(kind), value, position))
        elif kind == "word":
            tokens.append(_classify_word(value, position))
        elif kind == "number":
            raise _unsupported("year, date or week numbers", value, position)
        elif kind == "fallback":
            raise _unsupported("fallback rules ('||')", value, position)
        elif value in _UNSUPPORTED_CHARACTERS:
            raise _unsupported(_UNSUPPORTED_CHARACTERS[value], value, position)
        else:
            raise ValueError(f"unexpected character {value!r} at character {position} in opening_hours")
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.week: list[list[tuple[int, int]]] = [[] for _ in range(7)]
        self.ph_closed = False

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str, expected: str) -> _Token:
        token = self.peek()
        if token is None or token.kind != kind:
            where = f"{token.text!r} at character {token.position}" if token else "end of input"
            raise ValueError(f"expected {expected} but found {where} in opening_hours")
        self.index += 1
        return token

    def parse(self) -> None:
        while self.peek() is not None:
            if self.peek_kind() == ";":  # empty rule, e.g. a trailing ';'
                self.index += 1
                continue
            self.rule(additional=False)
            if self.peek() is not None:
                self.take(";", "';' between rules")

    def peek_kind(self) -> str | None:
        token = self.peek()
        return token.kind if token else None

    def rule(self, additional: bool) -> None:
        first = self.peek()
        if first is not None and first.kind == "always":
            self.index += 1
            self.apply(set(range(7)), [(0, MINUTES_PER_DAY)], additional)
            return
        days, ph = self.selector()
        token = self.peek()
        if token is not None and token.kind == "off":
            self.index += 1
            self.apply(days, [], additional)
            self.ph_closed = self.ph_closed or ph
            self.maybe_additional()
            return
        if token is None or token.kind != "time":
            where = f"{token.text!r} at character {token.position}" if token else "the end"
            raise ValueError(
                f"expected opening times like 09:00-18:00 or 'off' but found {where} in opening_hours"
            )
        if ph:
            raise _unsupported("opening times on public holidays (only 'PH off')", token.text, token.position)
        spans = [self.span()]
        while self.peek_kind() == "," and self.index + 1 < len(self.tokens):
            following = self.tokens[self.index + 1]
            if following.kind != "time":
                break
            self.index += 1
            spans.append(self.span())
        self.apply(days, spans, additional)
        self.maybe_additional()

    def maybe_additional(self) -> None:
        following = self.tokens[self.index + 1] if self.index + 1 < len(self.tokens) else None
        if self.peek_kind() == "," and following is not None and following.kind in ("day", "ph"):
            self.index += 1
            self.rule(additional=True)

    def selector(self) -> tuple[set[int], bool]:
        token = self.peek()
        if token is None or token.kind not in ("day", "ph"):
            return set(range(7)), False  # a rule without weekdays applies to every day
        days: set[int] = set()
        ph = False
        while True:
            token = self.peek()
            if token is not None and token.kind == "ph":
                self.index += 1
                ph = True
            else:
                first = _DAY_CODES.index(self.take("day", "a weekday (Mo..Su) or PH").text.lower())
                last = first
                if self.peek_kind() == "-":
                    self.index += 1
                    last = _DAY_CODES.index(self.take("day", "a weekday (Mo..Su) after '-'").text.lower())
                days.update((first + offset) % 7 for offset in range((last - first) % 7 + 1))
            if self.peek_kind() != "," or self.index + 1 >= len(self.tokens):
                break
            if self.tokens[self.index + 1].kind not in ("day", "ph"):
                break
            self.index += 1
        return days, ph

    def span(self) -> tuple[int, int]:
        opens_token = self.take("time", "an opening time like 09:00")
        self.take("-", "'-' between opening and closing time")
        closes_token = self.take("time", "a closing time like 18:00")
        opens = _minutes(opens_token, allow_extended=False)
        closes = _minutes(closes_token, allow_extended=True)
        if closes > opens + MINUTES_PER_DAY:
            raise ValueError(
                f"period {opens_token.text}-{closes_token.text} at character {opens_token.position} "
                "is longer than 24 hours"
            )
        if closes > MINUTES_PER_DAY:  # OSM's extended time: 22:00-26:00 is 22:00-02:00
            closes -= MINUTES_PER_DAY
        return opens, closes

    def apply(self, days: set[int], spans: list[tuple[int, int]], additional: bool) -> None:
        for day in days:
            if additional:
                self.week[day].extend(spans)
            else:
                self.week[day] = list(spans)


def _minutes(token: _Token, allow_extended: bool) -> int:
    hours_text, minutes_text = token.text.split(":")
    hours, minutes = int(hours_text), int(minutes_text)
    if minutes > 59:
        raise ValueError(f"invalid time {token.text!r} at character {token.position}: minutes above 59")
    total = hours * 60 + minutes
    if not allow_extended and total >= MINUTES_PER_DAY:
        raise ValueError(
            f"invalid opening time {token.text!r} at character {token.position}: must be before 24:00"
        )
    if total > 2 * MINUTES_PER_DAY:
        raise ValueError(f"invalid time {token.text!r} at character {token.position}")
    return total


def _format(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_osm_opening_hours(text: str) -> tuple[OpeningHours, bool | None]:
    """Parse an OSM ``opening_hours`` value into OpeningHours and closed_on_public_holidays.

    The flag is True for ``PH off``/``PH closed`` and None when the string says nothing about public
    holidays. Raises ValueError for malformed or unsupported input.
    """
    if len(text) > MAX_LENGTH:
        raise ValueError(f"opening_hours is longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ValueError("opening_hours is empty")
    parser = _Parser(_tokenize(text))
    parser.parse()
    try:
        weekly = WeeklyHours.model_validate(
            {
                name: [
                    Period(opens=_format(opens), closes=_format(closes))
                    for opens, closes in sorted(parser.week[weekday])
                ]
                for weekday, name in enumerate(WEEKDAYS)
            }
        )
    except ValidationError as error:
        first = error.errors()[0]
        where = " ".join(str(part) for part in first["loc"])
        raise ValueError(f"opening_hours gives impossible hours ({where}): {first['msg']}") from None
    return OpeningHours(weekly=weekly), (True if parser.ph_closed else None)
