"""File uploads (``POST /v1/uploads``): recognise the format by content, then decode.

The content decides; the file name and content type only break ties and sharpen error messages,
because phones and browsers label files unreliably (GPX often arrives as ``application/octet-stream``
and ``.plt`` as ``text/plain``). Recognition:

- starts with ``<``: XML, must be GPX (:mod:`ingest.formats.gpx`);
- starts with ``{`` or ``[``: JSON, must be GeoJSON or an Overland dump (:mod:`ingest.formats.geojson`);
- first line ``Geolife trajectory``, or a ``.plt`` name: GeoLife (:mod:`ingest.formats.plt`);
- a header row naming latitude and longitude columns: CSV (:mod:`ingest.formats.delimited`).

Anything else is :class:`Unprocessable`, naming the accepted formats.
"""

from __future__ import annotations

from enum import StrEnum

from core.errors import Unprocessable
from ingest.formats.decoded import ACCEPTED_UPLOADS, Decoded
from ingest.formats.delimited import decode_csv, looks_like_csv
from ingest.formats.geojson import decode_geojson
from ingest.formats.gpx import decode_gpx
from ingest.formats.jsonbody import loads
from ingest.formats.plt import FIRST_LINE, decode_plt

_BOM = b"\xef\xbb\xbf"


class UploadFormat(StrEnum):
    GPX = "gpx"
    GEOJSON = "geojson"
    CSV = "csv"
    GEOLIFE_PLT = "plt"


def _text(body: bytes) -> str:
    """Uploaded text: UTF-8 (with or without BOM), else Latin-1, which never fails (old loggers)."""
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("latin-1")


def _hinted(filename: str | None, content_type: str | None) -> UploadFormat | None:
    name = (filename or "").lower()
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    for suffix, fmt in (
        (".gpx", UploadFormat.GPX),
        (".plt", UploadFormat.GEOLIFE_PLT),
        (".csv", UploadFormat.CSV),
    ):
        if name.endswith(suffix):
            return fmt
    if name.endswith((".geojson", ".json")) or kind in {"application/geo+json", "application/json"}:
        return UploadFormat.GEOJSON
    if kind == "text/csv":
        return UploadFormat.CSV
    if kind == "application/gpx+xml":
        return UploadFormat.GPX
    return None


def sniff(body: bytes, *, filename: str | None, content_type: str | None) -> UploadFormat:
    """Which format ``body`` is, by content first; see the module docstring."""
    head = body[:4096].removeprefix(_BOM).lstrip()
    if not head:
        raise Unprocessable(f"the upload is empty; accepted uploads: {ACCEPTED_UPLOADS}")
    if head.startswith(b"<"):
        return UploadFormat.GPX
    if head.startswith((b"{", b"[")):
        return UploadFormat.GEOJSON
    hint = _hinted(filename, content_type)
    first = _text(head).lstrip().split("\n", 1)[0].strip()
    if first.startswith(FIRST_LINE) or hint is UploadFormat.GEOLIFE_PLT:
        return UploadFormat.GEOLIFE_PLT
    if looks_like_csv(first) or hint is UploadFormat.CSV:
        return UploadFormat.CSV  # with a .csv hint, decode_csv says which columns are missing
    raise Unprocessable(f"unrecognised upload format; accepted uploads: {ACCEPTED_UPLOADS}")


def decode_upload(body: bytes, *, filename: str | None, content_type: str | None) -> Decoded:
    """Decode an uploaded track file (GPX, GeoJSON, CSV, GeoLife .plt) into fixes."""
    fmt = sniff(body, filename=filename, content_type=content_type)
    if fmt is UploadFormat.GPX:
        return decode_gpx(body)
    if fmt is UploadFormat.GEOJSON:
        return decode_geojson(loads(body))
    if fmt is UploadFormat.GEOLIFE_PLT:
        return decode_plt(_text(body))
    return decode_csv(_text(body))
