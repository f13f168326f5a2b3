"""ingest.transit: a GTFS feed's stops, the routes serving them and their modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import BadRequest
from ingest.transit import feed_name, read_gtfs, route_mode
from tests.support.gtfs import FeedFiles, Line, Stop

STOPS = [
    Stop("gare", 46.153, -1.145),
    Stop("hotel-de-ville", 46.160, -1.152),
    Stop("minimes", 46.145, -1.165),
    Stop("vieux-port", 46.156, -1.153),
    Stop("station", 46.150, -1.140, location_type="1"),
    Stop("quai-1", 46.1501, -1.1401, parent_station="station"),
    Stop("sortie-nord", 46.1510, -1.1400, location_type="2", parent_station="station"),
    Stop("telepherique", 46.170, -1.170),
    Stop("unused", 46.180, -1.180),
]
LINES = [
    Line("ILLICO-1", 3, ("gare", "hotel-de-ville", "minimes")),
    Line("ILLICO-2", 702, ("gare", "vieux-port")),  # extended type: bus
    Line("BUS-DE-MER", 4, ("vieux-port", "minimes")),
    Line("TER", 2, ("quai-1", "gare")),
    Line("CABLE", 6, ("telepherique", "gare")),  # aerial lift: not weighed
]


def by_id(path: Path) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    read = read_gtfs(path)
    return {s.stop_id: (s.route_ids, s.modes) for s in read.stops}


def test_stops_get_the_routes_that_call_at_them_with_their_modes(tmp_path: Path) -> None:
    stops = by_id(FeedFiles.of(STOPS, LINES).write(tmp_path / "yelo"))
    assert stops["gare"] == (("ILLICO-1", "ILLICO-2", "TER"), ("bus", "bus", "train"))
    assert stops["vieux-port"] == (("BUS-DE-MER", "ILLICO-2"), ("ferry", "bus"))
    assert stops["minimes"] == (("BUS-DE-MER", "ILLICO-1"), ("ferry", "bus"))
    # A platform makes its station, and the station's exits, stops of its routes.
    for name in ("quai-1", "station", "sortie-nord"):
        assert stops[name] == (("TER",), ("train",))
    # Served only by an aerial lift, or by nothing: left out.
    assert "telepherique" not in stops
    assert "unused" not in stops
    assert read_gtfs(tmp_path / "yelo").routes == 4


def test_a_zip_with_its_files_in_a_folder_reads_the_same(tmp_path: Path) -> None:
    files = FeedFiles.of(STOPS, LINES)
    assert by_id(files.zip(tmp_path / "yelo.zip", inside="gtfs/")) == by_id(files.write(tmp_path / "plain"))


@pytest.mark.parametrize(
    ("route_type", "mode"),
    [
        *[(0, "tram"), (1, "metro"), (2, "train"), (3, "bus"), (4, "ferry"), (11, "bus"), (12, "metro")],
        *[(109, "train"), (200, "bus"), (401, "metro"), (700, "bus"), (800, "bus"), (900, "tram")],
        *[(1000, "ferry"), (1200, "ferry"), (6, None), (7, None), (1300, None), (1500, None), (99, None)],
    ],
)
def test_route_types_basic_and_extended(route_type: int, mode: str | None) -> None:
    assert route_mode(route_type) == mode


def broken(tmp_path: Path, change: str) -> Path:
    files = FeedFiles.of(STOPS, LINES)
    if change == "no stop_times":
        del files.files["stop_times.txt"]
    elif change == "no route_type":
        for row in files.files["routes.txt"]:
            del row["route_type"]
    elif change == "bad route_type":
        files.files["routes.txt"][1]["route_type"] = "bus"
    elif change == "bad latitude":
        files.files["stops.txt"][2]["stop_lat"] = "46,145"
    elif change == "off the globe":
        files.files["stops.txt"][0]["stop_lat"] = "146.1"
    elif change == "lifts only":
        files.files["routes.txt"] = [dict(r, route_type="6") for r in files.files["routes.txt"]]
    return files.write(tmp_path / "feed")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no stop_times", "the GTFS feed has no stop_times.txt"),
        ("no route_type", "routes.txt has no column route_type"),
        ("bad route_type", "routes.txt line 3: route_type 'bus' is not a number"),
        ("bad latitude", "stops.txt line 4: stop_lat '46,145' is not a number"),
        ("off the globe", "stops.txt line 2: 146.1, -1.145 is off the globe"),
        ("lifts only", "no stop of a bus, tram, metro, train or ferry route"),
    ],
)
def test_a_broken_feed_is_refused_with_the_file_and_line(tmp_path: Path, change: str, message: str) -> None:
    with pytest.raises(BadRequest, match=message):
        read_gtfs(broken(tmp_path, change))


def test_a_feed_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    folder = FeedFiles.of(STOPS, LINES).write(tmp_path / "latin1")
    stops = (folder / "stops.txt").read_text(encoding="utf-8").replace("Gare", "Gar\u00e9")
    (folder / "stops.txt").write_bytes(stops.encode("latin-1"))
    with pytest.raises(BadRequest, match=r"stops.txt is not UTF-8 text, as GTFS requires"):
        read_gtfs(folder)


def test_a_file_that_is_not_a_feed_is_refused(tmp_path: Path) -> None:
    junk = tmp_path / "feed.zip"
    junk.write_text("not a zip")
    with pytest.raises(BadRequest, match="not a GTFS zip archive or folder"):
        read_gtfs(junk)
    with pytest.raises(BadRequest, match="not a GTFS zip archive or folder"):
        read_gtfs(tmp_path / "missing.zip")


def test_a_feed_is_named_after_its_file_unless_named() -> None:
    assert feed_name(Path("/data/GTFS Yélo 2026.zip"), None) == "gtfs-yelo-2026"
    assert feed_name(Path("x.zip"), "yelo") == "yelo"
    with pytest.raises(BadRequest, match="feed name"):
        feed_name(Path("x.zip"), "Yélo!")
