"""Rendering a message: its subject, plain text and HTML from the Jinja2 templates of its type and language.

`templates/{locale}/{type}.j2` holds three blocks, `subject`, `text` and `html`; the HTML block goes into
`templates/layout.html`. Times are shown in the store's zone, in the message's language, by the filters
below (no locale database needed for two languages).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from orders.messages.models import MessageType

LOCALES = ("nl", "en")
TEMPLATES = Path(__file__).parent / "templates"

_DAYS = {
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
_MONTHS = {
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


@dataclass(frozen=True)
class Line:
    name: str
    sku: str
    quantity: int
    amount: Decimal | None = None


@dataclass(frozen=True)
class Alternative:
    name: str
    code: str
    distance_km: float


@dataclass(frozen=True)
class Shortage:
    name: str
    requested: int
    picked: int
    alternatives: list[Alternative]


@dataclass(frozen=True)
class Context:
    """What a message says, read from the order and its store by `outbox`; the templates' only input."""

    type: MessageType
    locale: str
    timezone: str
    customer_name: str | None = None
    order_id: str | None = None
    store_name: str = ""
    store_address: str = ""
    ready_by: datetime | None = None
    expires_at: datetime | None = None
    short_code: str | None = None
    # (from, until) of each open period between now and `expires_at`, for the ready message.
    hours: list[tuple[datetime, datetime]] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    total: Decimal | None = None
    shortages: list[Shortage] = field(default_factory=list)
    alternatives: list[Alternative] = field(default_factory=list)
    restocked: bool | None = None
    product_name: str | None = None
    alert_id: str | None = None
    alert_token: str | None = None
    # The `cid` of the inline QR image; None when the message carries none.
    qr_cid: str | None = None


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _environment(*, html: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=html,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


# Escaping is decided when a template compiles: the same file is compiled once for the subject and the
# plain text (as written) and once for the HTML (escaped).
_TEXT = _environment(html=False)
_HTML = _environment(html=True)


def when(value: datetime, locale: str, timezone: str) -> str:
    """`donderdag 3 december, 14:30` / `Thursday 3 December, 14:30`, in the store's zone."""
    local = value.astimezone(ZoneInfo(timezone))
    day, month = _DAYS[locale][local.weekday()], _MONTHS[locale][local.month - 1]
    return f"{day} {local.day} {month}, {local:%H:%M}"


def clock(value: datetime, timezone: str) -> str:
    return f"{value.astimezone(ZoneInfo(timezone)):%H:%M}"


def span(opened: datetime, closed: datetime, locale: str, timezone: str) -> str:
    """An open period: `donderdag 3 december, 09:00 - 18:00`, the closing's day named when it differs."""
    zone = ZoneInfo(timezone)
    same_day = opened.astimezone(zone).date() == closed.astimezone(zone).date()
    until = clock(closed, timezone) if same_day else when(closed, locale, timezone)
    return f"{when(opened, locale, timezone)} - {until}"


def money(value: Decimal, locale: str) -> str:
    amount = f"{value:,.2f}"
    if locale == "nl":
        amount = amount.replace(",", " ").replace(".", ",").replace(" ", ".")
        return f"€ {amount}"
    return f"€{amount}"


def render(context: Context) -> Rendered:
    """Subject, text and HTML of one message; a value the template names but the context lacks fails
    loudly (StrictUndefined) rather than leaving a gap in what the shopper reads."""
    locale = context.locale if context.locale in LOCALES else "en"
    name = f"{locale}/{context.type.value}.j2"
    values: dict[str, Any] = {
        **vars(context),
        "when": lambda value: when(value, locale, context.timezone),
        "clock": lambda value: clock(value, context.timezone),
        "span": lambda opened, closed: span(opened, closed, locale, context.timezone),
        "money": lambda value: money(value, locale),
    }
    plain = _TEXT.get_template(name)
    plain_context = plain.new_context(values)
    subject = " ".join("".join(plain.blocks["subject"](plain_context)).split())
    text = "".join(plain.blocks["text"](plain_context)).strip() + "\n"
    marked = _HTML.get_template(name)
    body = Markup("".join(marked.blocks["html"](marked.new_context(values))))
    html = _HTML.get_template("layout.html").render(subject=subject, body=body, lang=locale)
    return Rendered(subject=subject, text=text, html=html)
