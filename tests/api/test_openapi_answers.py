"""The answers the API really sends fit their documented schemas: a field every answer holds is
``required`` (a client generated from the document reads any other as one that may be absent), a
``required`` field is in every answer, and no answer holds a field its schema does not list."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from store.pool import Database
from tests.support.commute import DAY_RANGE, commuted

_TYPES: dict[str, type | tuple[type, ...]] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "null": type(None),
}


def _resolved(document: dict[str, Any], schema: dict[str, Any], where: str) -> tuple[dict[str, Any], str]:
    ref = schema.get("$ref")
    if ref is None:
        return schema, where
    name = ref.rsplit("/", 1)[-1]
    return document["components"]["schemas"][name], name


def _fits(document: dict[str, Any], schema: dict[str, Any], value: Any) -> bool:
    kind: str | None = _resolved(document, schema, "")[0].get("type")
    if kind is None:
        return True
    if isinstance(value, bool):  # an int to Python, not to JSON
        return kind == "boolean"
    return isinstance(value, _TYPES[kind])


def objects(
    document: dict[str, Any], schema: dict[str, Any], value: Any, where: str
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """Each JSON object in ``value``, with the object schema documenting it and that schema's name
    (its component's, or where it is)."""
    schema, where = _resolved(document, schema, where)
    if "oneOf" in schema:
        branch = next(b for b in schema["oneOf"] if _fits(document, b, value))
        yield from objects(document, branch, value, where)
    elif isinstance(value, dict) and "properties" in schema:
        yield where, schema, value
        for name, item in value.items():
            if name in schema["properties"]:
                yield from objects(document, schema["properties"][name], item, f"{where}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            prefix = schema.get("prefixItems", [])
            item_schema = prefix[index] if index < len(prefix) else schema.get("items", {})
            yield from objects(document, item_schema, item, f"{where}[]")


async def test_every_field_an_answer_always_holds_is_required(
    http: httpx.AsyncClient, invite_code: str, db: Database
) -> None:
    # A trip's `hidden` (and the coaching answers' fields with a default) is in every answer, and
    # was documented as optional: Litestar requires only a Struct's fields without a default.
    document = await _document(http)
    t, trips = await commuted(http, invite_code, db)
    first, section = trips[0], trips[0]["sections"][0]
    at = {"at": first["started_at"]}
    calls: list[tuple[str, str, dict[str, Any] | None, dict[str, Any]]] = [
        ("put", "/v1/coach/places", {"home": {"lat": first["origin"][0], "lon": first["origin"][1]}}, {}),
        ("patch", f"/v1/sections/{section['id']}", {"mode": "bike"}, {}),
        ("post", "/v1/me/devices", {"label": "tablet"}, {}),
        ("get", f"/v1/trips/{first['id']}", None, {}),
        ("post", f"/v1/trips/{first['id']}/confirm", None, {}),
        ("post", f"/v1/me/trips/{first['id']}/hide", None, {}),
        ("get", "/v1/trips", None, {**DAY_RANGE, "hidden": "true"}),
        ("get", "/v1/trips", None, DAY_RANGE),
        ("get", "/v1/me", None, {}),
        ("get", "/v1/me/devices", None, {}),
        ("get", "/v1/me/consents", None, {}),
        ("get", "/v1/me/answers", None, {}),
        ("get", "/v1/me/profile", None, {}),
        ("get", "/v1/coach/footprint", None, at),
        ("get", "/v1/coach/goal", None, at),
        ("get", "/v1/coach/places", None, at),
        ("get", "/v1/coach/recurring", None, at),
        ("get", "/v1/coach/alternatives", None, at),
        ("get", "/v1/coach/fmd", None, {"year": 2026}),
        ("get", "/v1/coach/weekly", None, at),
    ]
    seen: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    for method, path, body, params in calls:
        r = await http.request(method, path, json=body, params=params, headers=t.auth)
        assert r.status_code < 300, (path, r.text)
        if r.status_code == 204:
            continue
        template = next(p for p in document["paths"] if _matches(p, path))
        content = document["paths"][template][method]["responses"][str(r.status_code)]["content"]
        for where, schema, value in objects(document, content["application/json"]["schema"], r.json(), path):
            seen.setdefault(where, (schema, []))[1].append(value)

    assert {
        "TripOut",
        "SectionOut",
        "DeviceOut",
        "ConsentsOut",
        "FootprintReport",
        "PlacesOut",
        "Place",
    } <= set(seen)
    for where, (schema, values) in seen.items():
        required = set(schema.get("required", []))
        always = set.intersection(*(set(v) for v in values))
        assert always <= required, (where, always - required)
        assert all(required <= set(v) for v in values), where
        assert all(set(v) <= set(schema["properties"]) for v in values), where


def _matches(template: str, path: str) -> bool:
    parts, actual = template.split("/"), path.split("/")
    return len(parts) == len(actual) and all(
        p == a or p.startswith("{") for p, a in zip(parts, actual, strict=True)
    )


async def _document(http: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.get("/schema/openapi.json")
    assert r.status_code == 200
    document: dict[str, Any] = r.json()
    return document
