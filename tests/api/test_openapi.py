"""The served OpenAPI document tells clients the truth about errors: every error answer is the one
``Problem`` schema as ``application/problem+json``, at the statuses an operation can answer, and the
problems the API really sends fit that schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.testers import enrol

PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
METHODS = {"get", "put", "post", "patch", "delete"}


async def _document(http: httpx.AsyncClient) -> dict[str, Any]:
    r = await http.get("/schema/openapi.json")
    assert r.status_code == 200
    document: dict[str, Any] = r.json()
    return document


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


async def test_the_problem_schema_has_exactly_the_members_problems_carry(http: httpx.AsyncClient) -> None:
    problem = (await _document(http))["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance"}
    assert set(problem["properties"]) == {
        *problem["required"],
        "errors",  # validation
        "line",  # malformed JSON, XML, CSV
        "column",
        "offset",
        "max_fixes",  # too many fixes in a batch
        "fixes",
        "leave",  # revoking the coaching consent
    }
    assert problem["properties"]["status"]["type"] == "integer"
    errors = problem["properties"]["errors"]
    assert errors["type"] == "array"
    assert set(errors["items"]["properties"]) == {"message", "key", "source"}


@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("post", "/v1/fixes", {"400", "401", "413", "415", "429", "500", "503"}),
        ("get", "/v1/trips", {"400", "401", "415", "429", "500", "503"}),
    ],
)
async def test_fixes_and_trips_document_their_errors_as_problems(
    http: httpx.AsyncClient, method: str, path: str, statuses: set[str]
) -> None:
    responses = (await _document(http))["paths"][path][method]["responses"]
    assert {code for code in responses if int(code) >= 400} == statuses
    for code in statuses:
        assert responses[code]["content"] == PROBLEM_CONTENT, code
    assert "Retry-After" in responses["429"]["headers"]


async def test_no_operation_documents_litestars_own_error_body(http: httpx.AsyncClient) -> None:
    document = await _document(http)
    errors = 0
    for method, path, operation in _operations(document):
        for code, response in operation["responses"].items():
            if int(code) < 400:
                continue
            errors += 1
            if (method, path, code) == ("get", "/health", "503"):  # its own body, as 200's
                assert response["content"]["application/json"]["schema"]["$ref"].endswith("/Health")
            else:
                assert response["content"] == PROBLEM_CONTENT, (method, path, code)
    assert errors > 100
    assert "status_code" not in str(document)  # the ValidationException body's member


async def test_statuses_are_those_the_operation_can_answer(http: httpx.AsyncClient) -> None:
    paths = (await _document(http))["paths"]

    def errors(method: str, path: str) -> set[str]:
        return {code for code in paths[path][method]["responses"] if int(code) >= 400}

    # A malformed id in the path finds no route (404): no 400 without a query or a body.
    assert errors("post", "/v1/matches/{match_id}/decline") == {"401", "404", "415", "429", "500", "503"}
    assert errors("get", "/v1/me") == {"401", "415", "429", "500", "503"}
    assert errors("post", "/v1/enrol") == {"400", "413", "415", "500", "503"}  # no token yet
    assert errors("get", "/dashboard/api/releases") == {"400", "401", "415", "500", "503"}  # no rate limit
    assert errors("get", "/ingest/gpslogger") == {"401", "415", "429", "500", "503"}
    assert errors("get", "/health") == {"415", "500", "503"}


async def test_real_problems_fit_the_documented_schema(http: httpx.AsyncClient, invite_code: str) -> None:
    document = await _document(http)
    problem = document["components"]["schemas"]["Problem"]
    t = await enrol(http, invite_code)
    answers = [
        ("get", "/v1/trips", await http.get("/v1/trips", params={"limit": "0"}, headers=t.auth)),
        ("post", "/v1/fixes", await http.post("/v1/fixes", content=b'{"fixes": [', headers=t.auth)),
        ("get", "/v1/trips", await http.get("/v1/trips")),
        ("post", "/v1/matches/{match_id}/decline", await http.post("/v1/matches/x/decline", headers=t.auth)),
    ]
    types = {"string": str, "integer": int, "array": list}
    for method, path, r in answers:
        assert str(r.status_code) in document["paths"][path][method]["responses"], (path, r.status_code)
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert set(problem["required"]) <= set(body) <= set(problem["properties"]), body
        for name, value in body.items():
            assert isinstance(value, types[problem["properties"][name]["type"]]), (name, value)
        items = problem["properties"]["errors"]["items"]
        for error in body.get("errors", []):
            assert set(items["required"]) <= set(error) <= set(items["properties"]), error
    assert [r.status_code for _, _, r in answers] == [400, 400, 401, 404]
    assert "errors" in answers[0][2].json()
    assert {"line", "column", "offset"} <= set(answers[1][2].json())
