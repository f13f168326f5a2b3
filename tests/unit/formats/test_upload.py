"""File uploads: GPX, GeoJSON, CSV and GeoLife .plt, recognised by their content."""

from __future__ import annotations

import pytest

from core.errors import BadRequest, Unprocessable
from core.fixes import Activity, RawFix
from ingest.formats import UploadFormat, decode_upload, sniff
from ingest.formats.units import FOOT_M
from tests.unit.formats.support import fix_at, fixes, reasons, sample, utc


def upload(name: str, *, filename: str | None = None, content_type: str | None = None) -> list[RawFix]:
    return fixes(decode_upload(sample(name), filename=filename, content_type=content_type))


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("two_segments.gpx", UploadFormat.GPX),
        ("track.geojson", UploadFormat.GEOJSON),
        ("gpslogger.csv", UploadFormat.CSV),
        ("semicolon.csv", UploadFormat.CSV),
        ("tiny.plt", UploadFormat.GEOLIFE_PLT),
    ],
)
def test_the_content_decides_the_format_even_without_a_name(name: str, fmt: UploadFormat) -> None:
    assert sniff(sample(name), filename=None, content_type="application/octet-stream") is fmt


def test_an_unrecognisable_upload_names_the_accepted_formats() -> None:
    with pytest.raises(Unprocessable, match=r"GPX 1\.0/1\.1.*GeoJSON.*CSV.*GeoLife \.plt"):
        decode_upload(b"PK\x03\x04 zip bytes", filename="track.zip", content_type="application/zip")


def test_an_empty_upload_is_unprocessable() -> None:
    with pytest.raises(Unprocessable, match="empty"):
        decode_upload(b"\xef\xbb\xbf \n", filename="a.gpx", content_type=None)


# GPX


def test_gpx_reads_both_segments_and_skips_the_waypoint() -> None:
    decoded = decode_upload(sample("two_segments.gpx"), filename="ride.gpx", content_type=None)
    assert len(decoded.items) == 5
    assert decoded.skipped == 1
    assert decoded.positions == [1, 2, 3, 4, 5]  # the waypoint was element 0
    assert reasons(decoded) == ["lat 'north' is not a number"]
    first = fix_at(decoded, 0)
    assert (first.ts, first.lat, first.lon, first.altitude_m) == (
        utc("2024-05-01T10:00:00"),
        46.15901,
        -1.15275,
        8.0,
    )
    assert (first.speed_mps, first.bearing_deg) == (4.4, 95.0)  # Garmin TrackPointExtension v2
    assert fix_at(decoded, 4).ts == utc("2024-05-01T10:10:10")


def test_gpx_1_0_route_points_read_speed_course_and_a_naive_time_as_utc() -> None:
    first, second = upload("route_1_0.gpx")
    assert (first.ts, first.speed_mps, first.bearing_deg, first.altitude_m) == (
        utc("2024-05-01T10:00:00"),
        1.5,
        45.0,
        3.0,
    )
    assert second.ts == utc("2024-05-01T10:01:00")


def test_malformed_xml_is_a_bad_request_with_line_and_column() -> None:
    body = b'<?xml version="1.0"?>\n<gpx version="1.1">\n<trk><trkseg><trkpt lat="1" lon="2"></trk>'
    with pytest.raises(BadRequest, match="line 3") as caught:
        decode_upload(body, filename=None, content_type=None)
    assert caught.value.extra["line"] == 3


def test_xml_entity_expansion_is_refused() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
        b'<gpx version="1.1"><wpt lat="1" lon="2"><name>&lol2;</name></wpt></gpx>'
    )
    with pytest.raises(BadRequest, match="refused"):
        decode_upload(body, filename="bomb.gpx", content_type=None)


def test_xml_that_is_not_gpx_is_unprocessable() -> None:
    body = b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document/></kml>'
    with pytest.raises(Unprocessable, match="<kml>, not <gpx>"):
        decode_upload(body, filename="trip.kml", content_type=None)


def test_a_large_gpx_is_read_in_one_pass() -> None:
    point = b'<trkpt lat="46.1" lon="-1.1"><ele>3</ele><time>2024-05-01T10:00:00Z</time></trkpt>'
    body = b'<gpx version="1.1"><trk><trkseg>' + point * 50_000 + b"</trkseg></trk></gpx>"
    assert len(decode_upload(body, filename=None, content_type=None).items) == 50_000


# GeoJSON


def test_geojson_lines_take_coord_times_and_points_take_their_time_property() -> None:
    decoded = decode_upload(sample("track.geojson"), filename=None, content_type=None)
    first, second, point = fix_at(decoded, 0), fix_at(decoded, 1), fix_at(decoded, 3)
    assert (first.ts, first.lat, first.lon, first.altitude_m) == (
        utc("2024-05-01T10:00:00"),
        46.15901,
        -1.15275,
        8.0,
    )
    assert second.ts == utc("2024-05-01T10:00:05")
    assert reasons(decoded) == ["no time for this coordinate (coordTimes missing or shorter than the line)"]
    assert (point.ts, point.accuracy_m, point.speed_mps) == (utc("2024-05-01T10:01:40"), 7.0, 1.2)
    assert decoded.skipped == 1  # the Polygon


def test_geojson_multilinestring_uses_nested_coordinate_properties_times() -> None:
    body = (
        b'{"type": "Feature", "properties": {"coordinateProperties": {"times": [["2024-05-01T10:00:00Z"],'
        b' ["2024-05-01T11:00:00Z"]]}}, "geometry": {"type": "MultiLineString",'
        b' "coordinates": [[[-1.15, 46.15]], [[-1.14, 46.16]]]}}'
    )
    got = fixes(decode_upload(body, filename=None, content_type=None))
    assert [(f.ts, f.lat) for f in got] == [
        (utc("2024-05-01T10:00:00"), 46.15),
        (utc("2024-05-01T11:00:00"), 46.16),
    ]


def test_json_that_is_not_geojson_is_unprocessable() -> None:
    with pytest.raises(Unprocessable, match="GeoJSON"):
        decode_upload(b'{"hello": "world"}', filename="x.json", content_type=None)


def test_an_overland_dump_uploaded_as_a_file_is_read() -> None:
    assert len(upload("overland_batch.json")) == 2


# CSV


def test_a_gpslogger_csv_maps_its_columns_and_rejects_the_garbled_row() -> None:
    decoded = decode_upload(sample("gpslogger.csv"), filename="20240501.csv", content_type="text/csv")
    first = fix_at(decoded, 0)
    assert (first.ts, first.lat, first.lon, first.altitude_m, first.accuracy_m) == (
        utc("2024-05-01T10:00:00"),
        46.15901,
        -1.15275,
        8.0,
        6.0,
    )
    assert (first.bearing_deg, first.speed_mps, first.activity) == (95.0, 4.4, Activity.BIKE)
    assert first.battery == pytest.approx(0.64)  # percent column
    assert reasons(decoded) == ["line 5: lon 'abc' is not a number"]  # the blank line 4 is ignored
    assert decoded.positions == [0, 1, 2]


def test_a_french_semicolon_csv_reads_decimal_commas_kmh_and_a_utc_clock_column() -> None:
    first, second = upload("semicolon.csv")
    assert (first.ts, first.lat, first.lon, first.altitude_m) == (
        utc("2024-05-01T10:00:00"),
        46.15901,
        -1.15275,
        8.5,
    )
    assert first.speed_mps == pytest.approx(5.0)  # 18 km/h
    assert second.speed_mps == pytest.approx(10.0)


def test_csv_epoch_millisecond_times_are_read() -> None:
    body = b"timestamp_ms,latitude,longitude\n1714557600000,46.1,-1.1\n"
    (got,) = fixes(decode_upload(body, filename=None, content_type=None))
    assert got.ts == utc("2024-05-01T10:00:00")


def test_a_csv_time_without_offset_is_rejected_with_a_reason() -> None:
    body = b"time,lat,lon\n2024-05-01 10:00:00,46.1,-1.1\n"
    assert reasons(decode_upload(body, filename=None, content_type=None)) == [
        "line 2: time '2024-05-01 10:00:00' has no UTC offset"
    ]


def test_a_csv_without_a_time_column_says_which_columns_are_missing() -> None:
    with pytest.raises(Unprocessable, match="has no time column"):
        decode_upload(b"lat,lon,name\n46.1,-1.1,home\n", filename=None, content_type=None)


def test_a_file_named_csv_without_coordinates_says_what_it_lacks() -> None:
    with pytest.raises(Unprocessable, match="has no time, lat, lon column"):
        decode_upload(b"a,b\n1,2\n", filename="export.csv", content_type=None)


# GeoLife .plt


def test_plt_converts_feet_reads_gmt_and_treats_minus_777_as_unknown() -> None:
    decoded = decode_upload(sample("tiny.plt"), filename="20240501100000.plt", content_type="text/plain")
    first, second, third = fix_at(decoded, 0), fix_at(decoded, 1), fix_at(decoded, 2)
    assert (first.ts, first.lat, first.lon) == (utc("2024-05-01T10:00:00"), 46.15901, -1.15275)
    assert first.altitude_m == pytest.approx(100 * FOOT_M)
    assert second.altitude_m is None
    assert third.ts is not None
    assert abs((third.ts - utc("2024-05-01T10:10:00")).total_seconds()) < 0.01  # from the day count
    assert reasons(decoded) == ["line 10: latitude 'not-a-latitude' is not a number"]
