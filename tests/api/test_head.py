"""HEAD is answered wherever GET is (RFC 9110 sections 9.1 and 9.3.2): the same status and header
fields, no content; through the same authentication. ``Allow`` lists it beside GET."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import httpx
import pytest

from tests.support.testers import enrol


@pytest.mark.parametrize("path", ["/health", "/v1/me", "/v1/trips", "/schema/openapi.json"])
async def test_head_answers_the_header_fields_of_get_without_the_content(
    http: httpx.AsyncClient, invite_code: str, path: str
) -> None:
    t = await enrol(http, invite_code)
    got = await http.get(path, headers=t.auth)
    head = await http.head(path, headers=t.auth)
    assert got.status_code == 200, got.text
    assert head.status_code == got.status_code
    assert head.content == b""
    for field in ("content-type", "content-length", "cache-control"):
        assert head.headers.get(field) == got.headers.get(field), field


async def test_head_takes_the_credentials_get_takes(http: httpx.AsyncClient) -> None:
    r = await http.head("/v1/me")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.content == b""


async def test_allow_lists_head_where_get_is_answered(http: httpx.AsyncClient) -> None:
    assert (await http.options("/v1/coach/goal")).headers["allow"] == "GET, HEAD, OPTIONS, PUT"
    assert (await http.options("/v1/fixes")).headers["allow"] == "OPTIONS, POST"
    refused = await http.head("/v1/fixes")  # no GET there: no HEAD either
    assert refused.status_code == 405
    assert refused.headers["allow"] == "OPTIONS, POST"
    assert refused.content == b""


async def test_head_on_the_export_neither_makes_nor_records_a_download(
    http: httpx.AsyncClient, invite_code: str
) -> None:
    # The export ran, to be thrown away, and the tester's audit log showed a download nobody made.
    t = await enrol(http, invite_code)
    head = await http.head("/v1/me/export", params={"format": "csv"}, headers=t.auth)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-disposition"].startswith("attachment;")
    z = zipfile.ZipFile(io.BytesIO((await http.get("/v1/me/export", headers=t.auth)).content))
    entries = list(csv.DictReader(io.StringIO(z.read("account/audit_log.csv").decode())))
    assert [json.loads(e["detail"])["format"] for e in entries if e["action"] == "export.download"] == ["zip"]
