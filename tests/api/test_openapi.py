"""The served OpenAPI document tells clients the truth: every error answer is the one ``Problem``
schema as ``application/problem+json``, at the statuses an operation can answer, and the problems
the API really sends fit that schema; each operation names the credential it really takes, where it
takes it; and a batch of fixes built from the documented body is accepted, answered as documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest

from core.co2.modes import Mode
from core.settings import Settings
from ingest.formats.native import NativeFix
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
        ("post", "/v1/fixes", {"400", "401", "413", "415", "422", "429", "500", "503"}),
        ("get", "/v1/trips", {"400", "401", "415", "422", "429", "500", "503"}),
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
    assert "WWW-Authenticate" in responses["401"]["headers"]


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
    # No token yet; an unknown invite code (404), a closed campaign (409), the consents (422).
    assert errors("post", "/v1/enrol") == {"400", "404", "409", "413", "415", "422", "500", "503"}
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


async def test_a_routes_own_errors_are_documented_where_it_answers_them(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    """Statuses a route answers for reasons of its own (an unknown invite code, no carpool profile
    yet, a conflict, a well-formed body of another shape) are in its document, as problems."""
    paths = (await _document(http))["paths"]
    t = await enrol(http, invite_code)
    answers = [
        (
            "post",
            "/v1/enrol",
            404,
            await http.post("/v1/enrol", json={"invite_code": "NOPE", "consents": ["coaching"]}),
        ),
        (
            "post",
            "/v1/enrol",
            422,
            await http.post("/v1/enrol", json={"invite_code": invite_code, "consents": ["carpool_matching"]}),
        ),
        ("get", "/v1/me/carpool", 404, await http.get("/v1/me/carpool", headers=t.auth)),
        (
            "put",
            "/v1/me/consents",
            409,
            await http.put(
                "/v1/me/consents",
                json={"consents": [{"purpose": "coaching", "granted": False}]},
                headers=t.auth,
            ),
        ),
        (
            "get",
            "/v1/trips",
            422,
            await http.get(
                "/v1/trips",
                params={"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
                headers=t.auth,
            ),
        ),
        ("post", "/v1/fixes", 422, await http.post("/v1/fixes", json=[], headers=t.auth)),
        ("post", "/ingest/overland", 422, await http.post("/ingest/overland", json=[], headers=t.auth)),
    ]
    for method, path, status, r in answers:
        assert r.status_code == status, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json", path
        assert paths[path][method]["responses"][str(status)]["content"] == PROBLEM_CONTENT, (path, status)


async def test_downloads_are_documented_as_the_files_they_are(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    """The export and the attestation answer files, not JSON: each format's media type is
    documented for their 200, with a JSON file (GeoJSON) documented as JSON."""
    paths = (await _document(http))["paths"]
    t = await enrol(http, invite_code)
    sent: dict[str, set[str]] = {"/v1/me/export": set(), "/v1/coach/fmd/attestation": set()}
    for fmt in ("zip", "geojson", "gpx", "csv"):
        r = await http.get("/v1/me/export", params={"format": fmt}, headers=t.auth)
        assert r.status_code == 200, r.text
        sent["/v1/me/export"].add(r.headers["content-type"].split(";")[0])
    for fmt in ("html", "pdf", "txt"):
        params = {"employer": "Agglo", "name": "Camille", "format": fmt}
        r = await http.get("/v1/coach/fmd/attestation", params=params, headers=t.auth)
        assert r.status_code == 200, r.text
        sent["/v1/coach/fmd/attestation"].add(r.headers["content-type"].split(";")[0])
    for path, media_types in sent.items():
        content = paths[path]["get"]["responses"]["200"]["content"]
        assert set(content) == media_types, path
        for media_type, documented in content.items():
            expected = "object" if media_type.endswith("+json") else "string"
            assert documented["schema"]["type"] == expected, (path, media_type)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("put", "/v1/me/profile", {"car_energy": "electric", "colour": "red"}),
        ("put", "/v1/coach/places", {"home": {"lat": 46.16, "lon": -1.15, "alt": 3}}),
        ("post", "/v1/me/devices", {"label": "tablet", "os": "android"}),
    ],
)
async def test_a_body_that_refuses_unknown_fields_says_so(
    http: httpx.AsyncClient, invite_code: str, method: str, path: str, body: dict[str, Any]
) -> None:
    """Request Structs with ``forbid_unknown_fields`` answer an unknown field (at any depth) with a
    400: their schemas say ``additionalProperties: false``, so clients and fuzzers know it."""
    document = await _document(http)
    t = await enrol(http, invite_code)
    r = await http.request(method, path, json=body, headers=t.auth)
    assert r.status_code == 400, r.text
    body_schema = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    strict = _components(document, body_schema)
    assert strict, path
    assert all(schema["additionalProperties"] is False for schema in strict.values()), path


def _components(document: dict[str, Any], schema: Any) -> dict[str, dict[str, Any]]:
    """The object schemas of the components ``schema`` refers to, directly or through others."""
    found: dict[str, dict[str, Any]] = {}
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            pending.extend(node.values())
            ref = node.get("$ref")
            if not isinstance(ref, str) or ref in found:
                continue
            component: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
            if component["type"] == "object":  # not an enum, which has no fields
                found[ref] = component
                pending.append(component)
    return found


async def test_the_device_token_is_required_exactly_where_a_principal_is(http: httpx.AsyncClient) -> None:
    document = await _document(http)
    schemes = document["components"]["securitySchemes"]
    assert (schemes["deviceToken"]["type"], schemes["deviceToken"]["scheme"]) == ("http", "bearer")
    paths = document["paths"]
    assert paths["/v1/trips"]["get"]["security"] == [{"deviceToken": []}]
    assert paths["/v1/me/devices/{device_id}"]["delete"]["security"] == [{"deviceToken": []}]
    public = {("post", "/v1/enrol"), ("get", "/health")}
    for method, path in public:
        assert "security" not in paths[path][method], path
    # Every other operation takes some credential, each of a scheme the document defines.
    for method, path, operation in _operations(document):
        if (method, path) not in public:
            assert operation.get("security"), (method, path)
            assert {name for r in operation["security"] for name in r} <= set(schemes), (method, path)


async def test_each_tracker_takes_its_token_where_its_scheme_says(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    """The documented parameter (or Basic password) really authenticates: the token works, another
    is refused."""
    document = await _document(http)
    schemes = document["components"]["securitySchemes"]
    paths = document["paths"]
    t = await enrol(http, invite_code)
    for path, method, scheme in [
        ("/ingest/gpslogger", "get", "tokenQuery"),
        ("/ingest/overland", "post", "tokenQuery"),
        ("/ingest/osmand", "get", "deviceIdQuery"),
        ("/ingest/owntracks", "post", "deviceTokenBasic"),
    ]:
        assert {scheme: []} in paths[path][method]["security"], path
        spec = schemes[scheme]
        for token, status in [(t.token, 200), (t.token[:-1], 401)]:
            if spec["type"] == "apiKey":
                assert spec["in"] == "query"
                r = await http.request(
                    method,
                    path,
                    params={spec["name"]: token},
                    json={"locations": []} if method == "post" else None,
                )
            else:
                assert (spec["type"], spec["scheme"]) == ("http", "basic")
                r = await http.request(method, path, auth=("anyone", token))
            assert r.status_code == status, (path, token == t.token, r.text)


@pytest.mark.parametrize(
    ("method", "path", "media_types"),
    [
        ("post", "/ingest/owntracks", {"application/json"}),
        ("post", "/ingest/overland", {"application/json"}),
        ("post", "/usercache/put", {"application/json"}),
        ("post", "/ingest/gpslogger", {"application/x-www-form-urlencoded", "multipart/form-data"}),
        (
            "post",
            "/ingest/osmand",
            {"application/x-www-form-urlencoded", "multipart/form-data", "application/json"},
        ),
    ],
)
async def test_tracker_bodies_are_documented_by_their_media_types(
    http: httpx.AsyncClient, method: str, path: str, media_types: set[str]
) -> None:
    body = (await _document(http))["paths"][path][method]["requestBody"]
    assert set(body["content"]) == media_types
    assert body["description"]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return schema if ref is None else document["components"]["schemas"][ref.rsplit("/", 1)[-1]]


async def test_the_fixes_body_is_what_the_decoder_reads(http: httpx.AsyncClient, settings: Settings) -> None:
    document = await _document(http)
    body = document["paths"]["/v1/fixes"]["post"]["requestBody"]
    assert body["required"] is True
    batch = body["content"]["application/json"]["schema"]
    assert batch["required"] == ["fixes"]
    assert batch["additionalProperties"] is False
    fixes = batch["properties"]["fixes"]
    assert (fixes["type"], fixes["maxItems"]) == ("array", settings.max_fixes_per_batch)
    fix = _resolve(document, fixes["items"])
    assert set(fix["required"]) == {"ts", "lat", "lon", "accuracy_m"}
    # The same fields, required the same way, as the msgspec Struct the decoder reads.
    fields = msgspec.structs.fields(NativeFix)
    assert set(fix["required"]) == {f.encode_name for f in fields if f.required}
    assert set(fix["properties"]) == {f.encode_name for f in fields}
    assert fix["additionalProperties"] is False
    assert {s["type"] for s in fix["properties"]["ts"]["oneOf"]} == {"number", "string"}


async def test_a_batch_built_from_the_documented_body_is_stored_and_answered_as_documented(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    document = await _document(http)
    operation = document["paths"]["/v1/fixes"]["post"]
    fix = _resolve(
        document,
        operation["requestBody"]["content"]["application/json"]["schema"]["properties"]["fixes"]["items"],
    )
    # One fix per documented example of ts (ISO text, epoch seconds), the other required fields
    # from their first example; nothing the schema does not require.
    sent = [
        {name: ts if name == "ts" else fix["properties"][name]["examples"][0] for name in fix["required"]}
        for ts in fix["properties"]["ts"]["examples"]
    ]
    assert len(sent) == 2
    t = await enrol(http, invite_code)
    r = await http.post("/v1/fixes", json={"fixes": sent}, headers=t.auth)
    assert r.status_code == 200, r.text
    report_schema = _resolve(document, operation["responses"]["200"]["content"]["application/json"]["schema"])
    report = r.json()
    assert set(report_schema["required"]) <= set(report) <= set(report_schema["properties"])
    assert (report["stored"], report["duplicates"], report["rejected"]) == (2, 0, 0)
    result_schema = _resolve(document, report_schema["properties"]["results"]["items"])
    statuses = _resolve(document, result_schema["properties"]["status"])["enum"]
    assert len(report["results"]) == len(sent)
    for index, result in enumerate(report["results"]):
        assert set(result_schema["required"]) <= set(result) <= set(result_schema["properties"])
        assert result["status"] in statuses
        assert result == {"index": index, "status": "stored"}


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _schemas(value)


async def test_numeric_bounds_are_documented_on_the_number_a_body_field_takes(
    http: httpx.AsyncClient,
) -> None:
    # The decoder refuses a goal under 1 kg or above 100 t: the document said neither, because
    # Litestar sets the bounds beside an optional field's oneOf, where a validator applies them to
    # null too (and it dropped a bound of 0).
    document = await _document(http)
    budget = document["components"]["schemas"]["GoalIn"]["properties"]["yearly_budget_kg"]
    assert {"type": "number", "minimum": 1, "maximum": 100000} in budget["oneOf"]
    bounds = {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}
    beside = [s for s in _schemas(document) if "oneOf" in s and bounds & set(s)]
    assert beside == []


async def test_options_lists_every_method_of_a_path_whose_handlers_are_declared_apart(
    http: httpx.AsyncClient,
) -> None:
    # GET and PUT /v1/coach/goal are two handlers: Litestar 2's own answer said "GET, OPTIONS".
    r = await http.options("/v1/coach/goal")
    assert r.status_code == 204
    assert r.headers["allow"] == "GET, HEAD, OPTIONS, PUT"
    r = await http.options("/v1/fixes")
    assert r.headers["allow"] == "OPTIONS, POST"
    document = await _document(http)
    for path, item in document["paths"].items():
        documented = {m.upper() for m in item if m in METHODS}
        if "{" in path or not documented:
            continue
        allowed = set((await http.options(path)).headers["allow"].split(", "))
        assert documented <= allowed, path


async def test_the_trips_list_documents_its_next_page_link(http: httpx.AsyncClient) -> None:
    ok = (await _document(http))["paths"]["/v1/trips"]["get"]["responses"]["200"]
    assert 'rel="next"' in ok["headers"]["Link"]["description"]


async def test_the_answer_about_a_section_documents_the_modes_it_takes(http: httpx.AsyncClient) -> None:
    # The mode was documented as any string: an app generated from the document could not offer
    # the list. The enum is the one the API checks (an unknown mode is answered 422).
    document = await _document(http)
    operation = document["paths"]["/v1/sections/{section_id}"]["patch"]
    schemas = document["components"]["schemas"]

    def resolved(schema: dict[str, Any]) -> dict[str, Any]:
        ref: str | None = schema.get("$ref")
        return schemas[ref.rsplit("/", 1)[1]] if ref else schema

    body = resolved(operation["requestBody"]["content"]["application/json"]["schema"])
    answered = resolved(operation["responses"]["200"]["content"]["application/json"]["schema"])
    listed = document["components"]["schemas"]["SectionOut"]  # in GET /v1/trips
    for schema in (body, answered, listed):
        assert schema["properties"]["mode"]["type"] == "string"
        assert schema["properties"]["mode"]["enum"] == [m.value for m in Mode]
    assert set(listed["properties"]["mode_source"]["enum"]) == {"model", "heuristic", "history", "user"}


async def test_a_trips_ends_say_their_order_of_latitude_and_longitude(http: httpx.AsyncClient) -> None:
    # A trip's origin is [lat, lon], its sections' GeoJSON [lon, lat]: the document said neither.
    trip = (await _document(http))["components"]["schemas"]["TripOut"]["properties"]
    for end in ("origin", "destination"):
        assert trip[end]["description"].startswith("[latitude, longitude]")


async def test_every_response_header_field_says_its_type(http: httpx.AsyncClient) -> None:
    # The trips list's Link (declared for the document only) had a description and no schema.
    document = await _document(http)
    link = document["paths"]["/v1/trips"]["get"]["responses"]["200"]["headers"]["Link"]
    assert link.get("schema") == {"type": "string"}
    assert 'rel="next"' in link["description"]
    for method, path, operation in _operations(document):
        for code, response in operation["responses"].items():
            for name, header in response.get("headers", {}).items():
                assert "schema" in header or "content" in header, (method, path, code, name)


async def test_schemas_are_named_after_their_types_not_their_modules(http: httpx.AsyncClient) -> None:
    # Two enums called Status were keyed by their modules (api_routes_matches_Status), and clients
    # generated from the document named their types so. The values sent are as before.
    schemas = (await _document(http))["components"]["schemas"]
    assert [name for name in schemas if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", name)] == []
    assert schemas["MatchStatus"]["enum"] == ["proposed", "interested", "mutual"]
    assert schemas["FixStatus"]["enum"] == ["stored", "duplicate", "rejected", "paused"]


# The verbs an operationId begins with (camelCase, such as listTrips).
VERBS = {
    "add", "block", "confirm", "decline", "delete", "enrol", "erase", "export", "express", "get",
    "hide", "ingest", "list", "pause", "post", "put", "resume", "revoke", "set", "unhide", "upload",
}  # fmt: skip


async def test_every_operation_has_a_readable_unique_operation_id(http: httpx.AsyncClient) -> None:
    # Litestar made them from the path and the handler's name (V1MeMe, V1TripsTripIdGetTrip): a
    # client generated from the document called its methods so, and a renamed handler renamed them.
    ids = {
        (method, path): operation.get("operationId")
        for method, path, operation in _operations(await _document(http))
    }
    for where, operation_id in ids.items():
        camel = re.fullmatch(r"([a-z]+)(?:[A-Z][a-z0-9]*)*", operation_id or "")
        assert camel is not None, where
        assert camel[1] in VERBS, where
    assert len(set(ids.values())) == len(ids)
    # Clients call them by these names: they stay.
    assert ids[("get", "/v1/trips")] == "listTrips"
    assert ids[("get", "/v1/trips/{trip_id}")] == "getTrip"
    assert ids[("patch", "/v1/sections/{section_id}")] == "confirmSection"
    assert ids[("delete", "/v1/me")] == "eraseMe"
    assert ids[("get", "/v1/me/export")] == "exportMe"


async def test_a_download_documents_the_name_it_is_saved_under(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    # The export's Content-Disposition (and the attestation's) was sent but not documented.
    paths = (await _document(http))["paths"]
    t = await enrol(http, invite_code)
    sent: list[tuple[str, httpx.Response]] = [
        ("/v1/me/export", await http.get("/v1/me/export", params={"format": fmt}, headers=t.auth))
        for fmt in ("zip", "geojson", "gpx", "csv")
    ]
    sent += [
        (
            "/v1/coach/fmd/attestation",
            await http.get(
                "/v1/coach/fmd/attestation",
                params={"employer": "Agglo", "name": "Camille", "format": fmt},
                headers=t.auth,
            ),
        )
        for fmt in ("html", "pdf", "txt")
    ]
    for path, r in sent:
        assert r.status_code == 200, r.text
        header = paths[path]["get"]["responses"]["200"]["headers"]["Content-Disposition"]
        assert header["required"] is True
        assert header["schema"]["type"] == "string"
        assert re.search(header["schema"]["pattern"], r.headers["content-disposition"]), path
        assert all(re.search(header["schema"]["pattern"], e) for e in header["schema"]["examples"])


async def test_every_operation_says_what_it_does(http: httpx.AsyncClient) -> None:
    # Found by a probe: no operation had a description (the handlers' docstrings were not used), so
    # nothing said, for instance, what the CO2 trend's `campaign` parameter does for a city's team.
    missing = [
        (method, path)
        for method, path, operation in _operations(await _document(http))
        if not operation.get("description", "").strip()
    ]
    assert missing == []
