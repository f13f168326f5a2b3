"""The GeoLife reader, on a two-user archive made up in the test (no GeoLife data in the repo)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from models.geolife import labelled_sections, parse_labels, parse_plt, read_geolife, thinned

ROOT = "Geolife Trajectories 1.3/Data"
HEADER = "Geolife trajectory\nWGS 84\nAltitude is in Feet\nReserved 3\n0,2,255,My Track,0,0,2,8421376\n0\n"
DAY_2008_10_23 = 39744.0  # days since 1899-12-30


def plt(start_s_of_day: float, n: int, step_s: float = 5.0) -> str:
    rows = []
    for i in range(n):
        days = DAY_2008_10_23 + (start_s_of_day + i * step_s) / 86400.0
        rows.append(f"{39.9 + i * 1e-4:.6f},116.3,0,492,{days:.10f},2008-10-23,00:00:00")
    return HEADER + "\n".join(rows) + "\n"


LABELS = (
    "Start Time\tEnd Time\tTransportation Mode\n"
    "2008/10/23 01:00:00\t2008/10/23 01:00:20\ttaxi\n"
    "2008/10/23 02:00:00\t2008/10/23 02:10:00\tsubway\n"
)


def archive(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{ROOT}/010/labels.txt", LABELS)
        zf.writestr(f"{ROOT}/010/Trajectory/20081023010000.plt", plt(3600.0, 10))
        zf.writestr(
            f"{ROOT}/010/Trajectory/20081023010030.plt", plt(3640.0, 4)
        )  # overlaps the first file by two fixes
        zf.writestr(f"{ROOT}/011/Trajectory/20081023050000.plt", plt(5 * 3600.0, 3))  # no labels.txt
    return path


def test_plt_times_are_unix_seconds() -> None:
    t, lat, lon = parse_plt(plt(3600.0, 2).encode())
    assert t.tolist() == [1224723600.0, 1224723605.0]
    assert lat[1] == pytest.approx(39.9001)
    assert lon.tolist() == [116.3, 116.3]


def test_users_without_labels_are_skipped_and_files_merge_without_duplicates(tmp_path: Path) -> None:
    users = list(read_geolife(archive(tmp_path / "g.zip")))
    assert [u.user for u in users] == ["010"]
    t = users[0].track.t_s
    assert len(t) == 12
    assert np.all(np.diff(t) > 0)


def test_labels_map_taxi_to_car_and_subway_to_metro(tmp_path: Path) -> None:
    user = next(read_geolife(archive(tmp_path / "g.zip")))
    assert [iv.mode for iv in user.labels] == ["car", "metro"]


def test_other_collections_words_for_the_same_modes_are_read_as_them() -> None:
    words = [
        "Walking",
        "Bicycle",
        "Driving",
        "Underground",
        "Tramway",
        "E-bike",
        "Tram",
        "Metro",
        "Hovercraft",
    ]
    text = "".join(f"2008/10/23 0{i}:00:00\t2008/10/23 0{i}:10:00\t{w}\n" for i, w in enumerate(words))
    modes = [iv.mode for iv in parse_labels(text)]
    assert modes == ["walk", "bike", "car", "metro", "tram", "ebike", "tram", "metro", "hovercraft"]


def test_sections_are_cut_at_labelled_intervals_and_empty_ones_left_out(tmp_path: Path) -> None:
    user = next(read_geolife(archive(tmp_path / "g.zip")))
    sections = labelled_sections(user)
    assert [(s.mode, s.end - s.start) for s in sections] == [("car", 5)]


def test_an_unpacked_folder_reads_like_the_zip(tmp_path: Path) -> None:
    with zipfile.ZipFile(archive(tmp_path / "g.zip")) as zf:
        zf.extractall(tmp_path / "unpacked")
    from_zip = next(read_geolife(tmp_path / "g.zip"))
    from_dir = next(read_geolife(tmp_path / "unpacked"))
    np.testing.assert_array_equal(from_zip.track.t_s, from_dir.track.t_s)


def test_the_cache_returns_the_same_user(tmp_path: Path) -> None:
    source = archive(tmp_path / "g.zip")
    first = next(read_geolife(source, cache_dir=tmp_path / "cache"))
    again = next(read_geolife(source, cache_dir=tmp_path / "cache"))
    assert list((tmp_path / "cache").rglob("*.npz"))
    np.testing.assert_array_equal(first.track.lat, again.track.lat)
    assert again.labels == first.labels


def test_a_thinned_read_keeps_the_first_fix_of_each_bucket_and_every_label(tmp_path: Path) -> None:
    source = archive(tmp_path / "g.zip")
    every = next(read_geolife(source, cache_dir=tmp_path / "cache"))
    sparse = next(read_geolife(source, cache_dir=tmp_path / "cache", every_s=20.0))
    t0 = every.track.t_s[0]  # 2008-10-23 01:00:00, a multiple of 20 s
    assert (every.track.t_s - t0).tolist() == [5.0 * i for i in range(12)]  # 01:00:00 ... 01:00:55
    assert (sparse.track.t_s - t0).tolist() == [0.0, 20.0, 40.0]
    np.testing.assert_array_equal(sparse.track.lat, every.track.lat[[0, 4, 8]])
    assert sparse.labels == every.labels
    with pytest.raises(ValueError, match="positive"):
        thinned(every, 0.0)


def test_malformed_rows_and_impossible_positions_are_left_out_of_a_plt() -> None:
    good = plt(3600.0, 3)
    text = good + "not,a,row\n400.0,116.3,0,492,39744.05,2008-10-23,01:12:00\n\n"
    t, lat, _ = parse_plt(text.encode())
    assert t.tolist() == parse_plt(good.encode())[0].tolist()
    assert (np.abs(lat) <= 90).all()


def test_labels_without_header_with_dashes_spaces_or_a_bom_are_read() -> None:
    text = (
        "\ufeff2008-10-23 01:00:00\t2008-10-23 01:00:20\tBus\n"
        "2008/10/23 02:00:00 2008/10/23 02:10:00 subway\n"
        "garbage line\n"
        "2008/10/23 03:00:00\t2008/10/23 02:00:00\twalk\n"  # ends before it starts
    )
    labels = parse_labels(text)
    assert [(iv.mode, iv.end_s - iv.start_s) for iv in labels] == [("bus", 20.0), ("metro", 600.0)]


def test_any_folder_with_a_trajectory_folder_is_a_user(tmp_path: Path) -> None:
    with zipfile.ZipFile(tmp_path / "city.zip", "w") as zf:
        zf.writestr("city/alice/labels.txt", LABELS)
        zf.writestr("city/alice/Trajectory/1.plt", plt(3600.0, 10))
        zf.writestr("__MACOSX/city/alice/Trajectory/._1.plt", "junk")
        zf.writestr("city/notes/labels.txt", LABELS)  # no trajectories: not a user
    users = list(read_geolife(tmp_path / "city.zip"))
    assert [(u.user, len(u.track)) for u in users] == [("alice", 10)]
    assert [iv.mode for iv in users[0].labels] == ["car", "metro"]
