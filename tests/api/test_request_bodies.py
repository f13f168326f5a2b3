"""Every JSON body gets the same answers for the same mistakes, and a logged-out app is told to log in
first: a lone UTF-16 surrogate is a 400 at every JSON endpoint the document lists (never a 500), a
400 names the faulty field by its path, a text's bounds are in the schema, and the document says
which bodies may be left out."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from api.problems import TYPE_BASE
from tests.support.testers import Enrolled, enrol

VALIDATION = TYPE_BASE + "validation"
JSON = {"Content-Type": "application/json"}
NOT_UNICODE = "malformed JSON: a text holds a lone UTF-16 surrogate (not Unicode)"
SURROGATE = {"key": b'{"\\ud800": 1}', "value": b'{"a": "\\ud800"}'}


async def _document(http: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.get("/schema/openapi.json")
    assert r.status_code == 200, r.text
    document: dict[str, Any] = r.json()
    return document


def _json_operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Each operation whose documented body may be JSON (``application/json``, ``*/*+json``)."""
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        and any(
            media == "application/json" or media.endswith("+json")
            for media in operation.get("requestBody", {}).get("content", {})
        )
    ]


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)  # an id in the path: any, 404 is an answer


def _errors(r: httpx.Response) -> list[dict[str, Any]]:
    assert (r.status_code, r.json()["type"]) == (400, VALIDATION), r.text
    errors: list[dict[str, Any]] = r.json()["errors"]
    return errors


@pytest.fixture
async def tester(http: httpx.AsyncClient, invite_code: str) -> Enrolled:
    return await enrol(http, invite_code)


# --- A lone UTF-16 surrogate ---------------------------------------------------------------------


@pytest.mark.parametrize("credentials", ["token", "none"])
@pytest.mark.parametrize("where", ["key", "value"])
async def test_a_lone_surrogate_is_never_a_server_error_at_any_json_endpoint(
    http: httpx.AsyncClient, tester: Enrolled, where: str, credentials: str
) -> None:
    # In an object's key, msgspec failed with UnicodeEncodeError (a 500 and a traceback) at
    # e-mission's, Traccar's and Overland's endpoints. The list is the served document's: a new
    # endpoint taking JSON is covered without a word here.
    operations = _json_operations(await _document(http))
    assert {("post", "/usercache/put"), ("put", "/v1/me/profile")} <= {(m, p) for m, p, _ in operations}
    headers = {**JSON, **(tester.auth if credentials == "token" else {})}
    failed = []
    for method, path, _ in operations:
        r = await http.request(method.upper(), _url(path), content=SURROGATE[where], headers=headers)
        if r.status_code >= 500:
            failed.append((method, path, r.status_code, r.text))
    assert failed == []


@pytest.mark.parametrize(
    ("path", "with_token"),
    [
        ("/usercache/get", False),  # the token is the body's `user`
        ("/pipeline/get_complete_ts", False),
        ("/usercache/put", False),
        ("/ingest/osmand", False),  # Traccar Client's JSON: the token is its `device_id`
        ("/ingest/overland", True),
    ],
)
async def test_a_lone_surrogate_in_a_trackers_key_is_the_400_every_json_body_gets(
    http: httpx.AsyncClient, tester: Enrolled, path: str, with_token: bool
) -> None:
    headers = {**JSON, **(tester.auth if with_token else {})}
    r = await http.post(path, content=SURROGATE["key"], headers=headers)
    assert (r.status_code, r.json()["type"], r.json()["detail"]) == (400, VALIDATION, NOT_UNICODE), r.text
    ours = await http.put("/v1/me/profile", content=SURROGATE["key"], headers={**JSON, **tester.auth})
    assert ours.json()["detail"] == r.json()["detail"]


# --- No token: 401 before the body ---------------------------------------------------------------


@pytest.mark.parametrize(
    "credentials",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic !!"}],
    ids=["none", "malformed", "unreadable-basic"],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/v1/me/profile", b'{"car_occupants": "2"}'),
        ("PUT", "/v1/coach/goal", b"{}"),
        ("PUT", "/v1/coach/goal", b""),
        ("PUT", "/v1/coach/places", b'{"home": {"lat": 1, "lon": 2, "alt": 3}}'),
        ("POST", "/v1/me/devices", b'{"label": ""}'),
        ("PUT", "/v1/me/carpool", b"[1"),
    ],
)
async def test_a_logged_out_app_is_told_to_log_in_whatever_its_body(
    http: httpx.AsyncClient, method: str, path: str, body: bytes, credentials: dict[str, str]
) -> None:
    # The body was read, and refused (400), before the token was looked at.
    r = await http.request(method, path, content=body, headers={**JSON, **credentials})
    assert (r.status_code, r.json()["type"]) == (401, TYPE_BASE + "unauthorized"), r.text
    assert r.headers["www-authenticate"] == 'Bearer realm="sillage"'


async def test_every_operation_that_takes_the_device_token_answers_401_first(http: httpx.AsyncClient) -> None:
    document = await _document(http)
    operations = [
        (method, path)
        for method, path, operation in _json_operations(document)
        # trackers' endpoints read their token where their app puts it (the body's `user`, ...)
        if operation.get("security") == [{"deviceToken": []}] and "ingestion" not in operation["tags"]
    ]
    assert ("put", "/v1/me/consents") in operations
    for method, path in operations:
        r = await http.request(method.upper(), _url(path), content=b'{"unknown": "x"}', headers=JSON)
        assert r.status_code == 401, (method, path, r.text)


# --- errors[].key names the field ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "error"),
    [
        (
            "/v1/coach/goal",
            {},
            {"message": "Object missing required field `yearly_budget_kg`", "key": "yearly_budget_kg"},
        ),
        (
            "/v1/coach/places",
            {"home": {"lat": 46.16, "lon": -1.15, "alt": 3}},
            {"message": "Object contains unknown field `alt`", "key": "home.alt"},
        ),
        (
            "/v1/me/consents",
            {"consents": [{"purpose": "research_labels"}]},
            {"message": "Object missing required field `granted`", "key": "consents[0].granted"},
        ),
        (
            "/v1/me/profile",
            {"car_occupants": 2.0},  # an integer field refuses a whole number with a fraction
            {"message": "Expected `int`, got `float`", "key": "car_occupants"},
        ),
    ],
    ids=["missing", "unknown-nested", "missing-in-a-list", "whole-float"],
)
async def test_a_400_names_the_field_by_its_path(
    http: httpx.AsyncClient, tester: Enrolled, path: str, body: dict[str, Any], error: dict[str, str]
) -> None:
    # A missing or an unknown field was named by the object holding it (`data`, `home`).
    r = await http.put(path, json=body, headers=tester.auth)
    assert _errors(r) == [{**error, "source": "body"}]


async def test_an_empty_body_where_one_is_required_says_so(http: httpx.AsyncClient, tester: Enrolled) -> None:
    # Its message was Python's KeyError: "'data'".
    r = await http.put("/v1/coach/goal", content=b"", headers={**JSON, **tester.auth})
    assert _errors(r) == [{"message": "a JSON body is required", "key": "data", "source": "body"}]


async def test_the_document_says_which_bodies_may_be_left_out(
    http: httpx.AsyncClient, tester: Enrolled
) -> None:
    # POST /v1/me/devices documented its body as required, and answered 201 without one.
    operations = {
        (method, path): operation["requestBody"]
        for method, path, operation in _json_operations(await _document(http))
        if "ingestion" not in operation.get("tags", [])  # trackers' bodies: their apps' own rules
    }
    assert operations[("post", "/v1/me/devices")].get("required", False) is False
    assert operations[("put", "/v1/me/profile")]["required"] is True
    for (method, path), body in operations.items():
        r = await http.request(method.upper(), _url(path), content=b"", headers={**JSON, **tester.auth})
        if body.get("required", False):
            assert _errors(r)[0]["message"] == "a JSON body is required", (method, path)
        else:
            assert r.status_code < 400, (method, path, r.text)


# --- A text's bounds -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "field", "bounds"),
    [
        ("CarpoolProfileIn", "display_name", (1, 60)),
        ("CarpoolProfileIn", "contact", (1, 200)),
        ("DeviceIn", "label", (1, 100)),
        ("EnrolIn", "device_label", (1, 100)),
        ("ConsentIn", "terms_version", (1, 50)),
        ("ConsentChangeIn", "terms_version", (1, 50)),
    ],
)
async def test_a_texts_bounds_are_in_the_schema(
    http: httpx.AsyncClient, schema: str, field: str, bounds: tuple[int, int]
) -> None:
    prop = (await _document(http))["components"]["schemas"][schema]["properties"][field]
    assert (prop["minLength"], prop["maxLength"]) == bounds


@pytest.mark.parametrize(
    ("method", "path", "body", "key"),
    [
        ("PUT", "/v1/me/carpool", {"display_name": "", "contact": "c"}, "display_name"),
        ("PUT", "/v1/me/carpool", {"display_name": "x" * 61, "contact": "c"}, "display_name"),
        ("PUT", "/v1/me/carpool", {"display_name": "Ana", "contact": ""}, "contact"),
        ("POST", "/v1/me/devices", {"label": ""}, "label"),
        ("POST", "/v1/me/devices", {"label": "x" * 101}, "label"),
        (
            "PUT",
            "/v1/me/consents",
            {"consents": [{"purpose": "research_labels", "granted": True, "terms_version": "v" * 51}]},
            "consents[0].terms_version",
        ),
        # What the schema cannot say, checked by hand, names the field too.
        ("PUT", "/v1/me/carpool", {"display_name": "   ", "contact": "c"}, "display_name"),
        ("POST", "/v1/me/devices", {"label": "a\u0000b"}, "label"),
        (
            "PUT",
            "/v1/me/consents",
            {
                "consents": [
                    {"purpose": "coaching", "granted": True},
                    {"purpose": "x", "granted": True, "terms_version": "  "},
                ]
            },
            "consents[1].terms_version",
        ),
    ],
    ids=[
        "empty-name",
        "long-name",
        "empty-contact",
        "empty-label",
        "long-label",
        "long-terms",
        "blank-name",
        "nul-label",
        "blank-terms",
    ],
)
async def test_a_text_out_of_its_bounds_is_a_400_naming_its_field(
    http: httpx.AsyncClient, tester: Enrolled, method: str, path: str, body: dict[str, Any], key: str
) -> None:
    # They were a 400 without `errors`, by hand, and the schema did not say the bounds.
    r = await http.request(method, path, json=body, headers=tester.auth)
    assert [e["key"] for e in _errors(r)] == [key]


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ({"device_label": ""}, "device_label"),
        ({"device_label": "  "}, "device_label"),
        (
            {"consents": ["coaching", {"purpose": "share_aggregates", "terms_version": ""}]},
            "consents[1].terms_version",
        ),
        (
            {"consents": ["coaching", {"purpose": "share_aggregates", "terms_version": " "}]},
            "consents[1].terms_version",
        ),
    ],
    ids=["empty-label", "blank-label", "empty-terms", "blank-terms"],
)
async def test_an_enrolments_text_out_of_its_bounds_names_its_field(
    http: httpx.AsyncClient, invite_code: str, body: dict[str, Any], key: str
) -> None:
    r = await http.post("/v1/enrol", json={"invite_code": invite_code, "consents": ["coaching"], **body})
    assert [e["key"] for e in _errors(r)] == [key]
