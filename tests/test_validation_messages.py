"""Validation messages speak to people: every field of every JSON body and every query parameter in the
served OpenAPI document is sent a wrong value, and no message in the answer (a 422's `errors`, a bulk row's
`detail`) shows a regular expression; a pattern's message says what the field takes."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.testclient import TestClient

from retail.errors import field_message
from tests.factories import order_body

KeyFactory = Callable[..., dict[str, str]]

# What a regular expression looks like in a message: anchors, classes, escapes, repetition counts.
REGEX_SYNTAX = re.compile(r"\^|\$|\\[dDsSwWx]|\[[^\]\s]*-[^\]\s]*\]|\{\d+,\d*\}|\(\?|match pattern")
PATH_VALUES = {
    "code": "S1",
    "sku": "KOFFIE",
    "order_id": "ord_unknown",
    "alert_id": "sta_unknown",
    "transfer_id": "trf_unknown",
}
MAX_DEPTH = 6


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    for union in ("anyOf", "oneOf"):
        if union in schema:
            # A nullable field: its non-null form is the one with rules to break.
            branches = [b for b in schema[union] if b.get("type") != "null"]
            if branches:
                return _resolve(document, branches[0])
    return schema


def wrong_values(schema: dict[str, Any]) -> list[Any]:
    """Values that break `schema`, each in another way."""
    kind = schema.get("type")
    values: list[Any] = []
    if "enum" in schema or "const" in schema:
        values.append("no-such-value")
    if kind == "string":
        if "pattern" in schema:
            values.append("not valid!")
        if "maxLength" in schema:
            values.append("x" * (schema["maxLength"] + 1))
        if schema.get("minLength", 0) > 0:
            values.append("")
        if schema.get("format") in ("date-time", "date"):
            values.append("the day after tomorrow")
        values.append(12)
    elif kind in ("integer", "number"):
        if "minimum" in schema:
            values.append(schema["minimum"] - 1)
        if "maximum" in schema:
            values.append(schema["maximum"] + 1)
        values.append("lots")
    elif kind == "boolean":
        values.append("maybe")
    elif kind == "array":
        values.append("not a list")
    elif kind == "object":
        values.append("not an object")
    return values


def fields(
    document: dict[str, Any], schema: dict[str, Any], path: tuple[str | int, ...] = ()
) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """(path, schema) of every field of a body schema, nested objects and list items included."""
    schema = _resolve(document, schema)
    if path:
        yield path, schema
    if len(path) >= MAX_DEPTH:
        return
    for name, child in schema.get("properties", {}).items():
        yield from fields(document, child, (*path, name))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from fields(document, schema["additionalProperties"], (*path, "monday"))
    if "items" in schema:
        yield from fields(document, schema["items"], (*path, 0))


def body_with(path: tuple[str | int, ...], value: Any) -> Any:
    """The smallest body that holds `value` at `path`."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    return [body_with(rest, value)] if isinstance(head, int) else {head: body_with(rest, value)}


def _headers(path: str, keys: dict[str, dict[str, str]]) -> dict[str, str]:
    if path.startswith(("/admin/", "/staff/")):
        return keys["admin"]
    if path.startswith("/sync/"):
        return keys["webshop"]
    return {"Idempotency-Key": "validation-messages"}


def messages_of(answer: Any) -> list[tuple[str, str | None]]:
    """(message, pydantic error type) of every field message in an answer."""
    if answer.headers.get("content-type", "").startswith("application/problem+json"):
        problem = answer.json()
        found = [(problem["detail"], None)]
        return found + [(e["message"], e.get("type")) for e in problem.get("errors", [])]
    body = answer.json()
    if isinstance(body, dict) and isinstance(body.get("errors"), list):
        return [(row["detail"], None) for row in body["errors"]]
    return []


def test_no_validation_message_shows_a_regular_expression(client: TestClient, make_key: KeyFactory) -> None:
    document = client.get("/openapi.json").json()
    keys = {"admin": make_key("admin"), "webshop": make_key("webshop")}
    seen: list[tuple[str, str, str, str | None]] = []  # (request, field, message, type)
    for path, item in document["paths"].items():
        url = path.format(**PATH_VALUES)
        for method, operation in item.items():
            headers = _headers(path, keys)
            for parameter in operation.get("parameters", []):
                if parameter["in"] != "query":
                    continue
                for value in wrong_values(_resolve(document, parameter["schema"])):
                    answer = client.request(method, url, params={parameter["name"]: value}, headers=headers)
                    for message, kind in messages_of(answer):
                        seen.append((f"{method} {path}", f"query.{parameter['name']}", message, kind))
            json_body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if json_body is None:
                continue
            for field, schema in fields(document, json_body["schema"]):
                for value in wrong_values(schema):
                    answer = client.request(method, url, json=body_with(field, value), headers=headers)
                    for message, kind in messages_of(answer):
                        seen.append((f"{method} {path}", ".".join(map(str, field)), message, kind))

    assert len(seen) > 400
    with_regex = [entry for entry in seen if REGEX_SYNTAX.search(entry[2])]
    assert with_regex == []
    # Every pattern a value broke was answered in words of its own (in a 422, or in a bulk row's detail),
    # never with the catch-all. (A movement's id is checked by the sync before its pattern, in words too.)
    described = {
        "a store code is 1 to 32 letters, digits, dashes or underscores, starting with a letter or digit",
        "a sku is 1 to 64 letters, digits, dots, slashes, dashes or underscores, starting with a letter or "
        "digit",
        "a country is two capital letters (ISO 3166-1), e.g. NL",
        "a subdivision is an ISO 3166-2 code in capitals, e.g. NL-NH",
        "a currency is three capital letters (ISO 4217), e.g. EUR",
        "an EAN is 8, 13 or 14 digits (GTIN-8, -13 or -14)",
        "not a web address: it starts with http:// or https:// and has no spaces",
        "not a valid email address",
        "not a valid phone number: 6 to 20 digits, spaces, brackets or dashes, with a + in front if "
        "international",
    }
    assert {message for _, _, message, kind in seen if kind == "string_pattern_mismatch"} <= described
    every_message = "\n".join(message for _, _, message, _ in seen)
    assert [meaning for meaning in described if meaning not in every_message] == []
    assert "is not in the form this field takes" not in every_message
    # pydantic's "Value error, " is for programmers; a rule's own message is what a person reads.
    assert not [entry for entry in seen if entry[2].startswith("Value error")]


def test_a_bad_email_address_is_answered_in_words(client: TestClient) -> None:
    order = order_body("S1", {"KOFFIE": 1}, customer={"name": "Sanne", "email": "sanne-at-example.nl"})
    answer = client.post("/mobile/v1/orders", json=order, headers={"Idempotency-Key": "k"})
    assert answer.status_code == 422
    assert answer.json()["errors"] == [
        {
            "field": "body.customer.email",
            "message": "not a valid email address",
            "type": "string_pattern_mismatch",
        }
    ]
    assert answer.json()["detail"] == "body.customer.email: not a valid email address"


def test_an_undescribed_pattern_never_shows_its_expression() -> None:
    error = {"type": "string_pattern_mismatch", "msg": "String should match pattern '^[a-z]+$'"}
    assert field_message({**error, "ctx": {"pattern": "^[a-z]+$"}}) == "is not in the form this field takes"
