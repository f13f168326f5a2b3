"""Evaluation on labelled data, and the artifact shipped in the repository."""

from __future__ import annotations

import dataclasses

import numpy as np

from core.features import FEATURE_NAMES
from core.history import DEFAULT_HISTORY
from models.classifier import SklearnModeClassifier, load_classifier
from models.dataset import Dataset
from models.evaluate import (
    RETRAINING_VARIANTS,
    _asking_audited,
    _LabelledCut,
    _standstills,
    evaluate_asking,
    evaluate_classifier,
    evaluate_end_to_end,
    evaluate_retraining,
    evaluate_transit_proxy,
    evaluate_with_history,
)
from models.geolife import GeolifeUser, LabelInterval
from models.heuristic import HeuristicClassifier
from tests.support.tracks import Leg, bus, gap, place, stay, track_from, walk
from tests.unit.models.builders import QUICK_FIT, simulated_user, tiny_synthetic, twice


def test_the_shipped_artifact_verifies_and_loads() -> None:
    model = load_classifier()
    assert isinstance(model, SklearnModeClassifier)
    assert {"walk", "bike", "bus", "car", "metro", "train"} <= set(model.classes)


def test_classifier_report_scores_geolife_modes_and_reports_others_apart() -> None:
    x = np.vstack([np.full(len(FEATURE_NAMES), 1.0), np.full(len(FEATURE_NAMES), 30.0)])
    data = Dataset(X=x, y=np.asarray(["walk", "plane"]), groups=np.asarray(["u", "u"]))
    report = evaluate_classifier(HeuristicClassifier(), data)
    assert report["open_set"]["n"] == 1
    assert set(report["other_labels_predicted_as"]) == {"plane"}


def test_end_to_end_scores_labelled_time_and_its_coverage() -> None:
    result = evaluate_end_to_end(HeuristicClassifier(), [simulated_user()])
    assert result["available"] is True
    assert 0.0 < result["coverage"] <= 1.0
    assert 0.0 <= result["time_accuracy"] <= 1.0


def test_a_trip_labelled_with_its_vehicle_alone_is_scored_once_by_its_main_mode() -> None:
    # GeoLife users often label a whole trip with its vehicle, the walk to the stop included.
    short_walk = (walk(to=place(420.0, 0.0)), bus(to=place(6420.0, 0.0)))
    long_walk = (walk(to=place(4820.0, 0.0)), bus(to=place(6420.0, 0.0)))
    track = track_from(
        stay(600.0),
        *short_walk,
        stay(600.0),
        gap(600.0, to=place(0.0, 0.0)),
        stay(600.0),
        *long_walk,
        stay(600.0),
    )
    gone = np.flatnonzero(np.diff(track.t_s) > 300.0)[0]
    first = LabelInterval(float(track.t_s[0]) + 600.0, float(track.t_s[gone]) - 600.0, "bus")
    second = LabelInterval(float(track.t_s[gone + 1]) + 600.0, float(track.t_s[-1]) - 600.0, "bus")
    user = GeolifeUser(user="u", track=track, labels=(first, second))
    result = evaluate_end_to_end(HeuristicClassifier(), [user])
    walked = result["confusion_seconds"]["matrix"][2][0]  # true bus, predicted walk
    assert walked > 3000.0
    # Scored over time, the walks count against the trips; once per trip, by the mode that takes
    # most of it, the first trip is a bus ride and the second (52 minutes' walk, then 3 minutes of
    # bus) is not.
    main = result["main_mode"]
    assert main["intervals"] == 2
    assert main["accuracy"] == 0.5
    assert main["confusion"]["matrix"][2][:3] == [1.0, 0.0, 1.0]


def test_all_labelled_time_scores_the_signal_gaps_a_ride_covers_and_those_it_does_not() -> None:
    # A metro ride underground: 25 minutes without a fix between the walks to and from stations,
    # labelled metro door to door; later, the same with the gap crossed at walking pace (the phone
    # off in a shop: no ride, nothing covers it).
    def outing(far_m: float) -> tuple[Leg, ...]:
        return (
            stay(600.0, at=place(0.0, 0.0)),
            walk(to=place(400.0, 0.0)),
            gap(1500.0, to=place(400.0 + far_m, 0.0)),
            walk(to=place(800.0 + far_m, 0.0)),
            stay(600.0),
        )

    track = track_from(*outing(8000.0), gap(20000.0, to=place(0.0, 0.0)), *outing(600.0))
    night = int(np.argmax(np.diff(track.t_s)))
    labels = (
        LabelInterval(float(track.t_s[0]) + 600.0, float(track.t_s[night]) - 600.0, "metro"),
        LabelInterval(float(track.t_s[night + 1]) + 600.0, float(track.t_s[-1]) - 600.0, "metro"),
    )
    result = evaluate_end_to_end(HeuristicClassifier(), [GeolifeUser(user="u", track=track, labels=labels)])
    everything = result["all_labelled_time"]
    # The two gaps (50 minutes) are scored only there; the ride covers one of them, nothing the other.
    assert everything["labelled_hours"] - result["labelled_hours"] > 0.8
    assert result["coverage"] > 0.8
    assert 0.45 < everything["coverage"] < 0.75
    assert everything["main_mode"]["intervals"] == result["main_mode"]["intervals"] == 2


def test_classifier_report_gives_each_users_figures() -> None:
    x = np.vstack([np.full(len(FEATURE_NAMES), 1.0), np.full(len(FEATURE_NAMES), 30.0)])
    data = Dataset(X=x, y=np.asarray(["walk", "train"]), groups=np.asarray(["u1", "u2"]))
    report = evaluate_classifier(HeuristicClassifier(), data)
    assert set(report["per_user_open_set"]) == {"u1", "u2"}
    assert report["per_user_open_set"]["u1"]["sections"] == 1


class Fixed:
    """A model whose probabilities are given per row (through the row's first feature)."""

    classes = ("walk", "bike", "bus", "car")
    version = "fixed"

    def __init__(self, rows: np.ndarray) -> None:
        self.rows = rows

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.rows[x[:, 0].astype(int)])


def test_each_users_sections_are_weighed_by_their_own_mix_and_nobody_elses() -> None:
    # u1 mostly looks like a cyclist; their last section is a close call the model gives to bus.
    rows = np.vstack((np.tile([0.05, 0.8, 0.1, 0.05], (20, 1)), [[0.05, 0.4, 0.45, 0.1]]))
    x = np.zeros((21, len(FEATURE_NAMES)))
    x[:, 0] = np.arange(21)
    u1 = Dataset(X=x, y=np.asarray(["bike"] * 21), groups=np.asarray(["u1"] * 21))
    alone = evaluate_classifier(Fixed(rows), u1)
    assert alone["open_set"]["accuracy"] == 1.0  # the close call went to bike
    assert alone["model_alone_open_set"]["accuracy"] == round(20 / 21, 4)
    # A driver evaluated beside them changes nothing of u1's figures.
    driver = np.tile([0.05, 0.05, 0.1, 0.8], (30, 1))
    x2 = np.zeros((30, len(FEATURE_NAMES)))
    x2[:, 0] = np.arange(21, 51)
    both = Dataset.concat([u1, Dataset(X=x2, y=np.asarray(["car"] * 30), groups=np.asarray(["u2"] * 30))])
    report = evaluate_classifier(Fixed(np.vstack((rows, driver))), both)
    assert report["per_user_open_set"]["u1"] == alone["per_user_open_set"]["u1"]


class AlwaysCar:
    """A model that answers car whatever the section: whatever it gets right, history brought.
    It leaves every other mode a tenth, so that history may take any (a mode the model rules
    out is not taken across walking and vehicles: core.history)."""

    classes = ("walk", "bike", "bus", "car")
    version = "always-car"

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile([0.1, 0.1, 0.1, 0.7], (len(x), 1))


def test_personal_history_uses_only_the_users_earlier_labels() -> None:
    (once,) = evaluate_with_history(AlwaysCar(), [simulated_user()])
    (repeated,) = evaluate_with_history(AlwaysCar(), [twice(simulated_user())])
    sections = repeated["classifier"]
    assert sections["sections"] == 2 * once["classifier"]["sections"]
    # Every section of the second day has its twin the day before; the first day has only itself.
    assert sections["matched_share"] >= 0.5 > once["classifier"]["matched_share"]
    assert sections["with_history"]["accuracy"] >= sections["without_history"]["accuracy"] + 0.4
    bins = sections["by_earlier_confirmations"]
    assert [b["earlier_confirmations"] for b in bins] == ["0", "1-4", "5-19", "20-99", "100+"]
    assert sum(b["sections"] for b in bins) == sections["sections"]
    assert bins[0]["sections"] > 0  # the first section of all, with nothing before it
    assert bins[0]["accuracy_with_history"] == bins[0]["accuracy_without_history"]
    alone = evaluate_end_to_end(AlwaysCar(), [twice(simulated_user())])
    assert repeated["end_to_end"]["time_accuracy"] > alone["time_accuracy"] + 0.1
    assert once["end_to_end"]["time_accuracy"] < repeated["end_to_end"]["time_accuracy"]


def test_personal_history_with_no_confirmed_trip_is_the_model_alone() -> None:
    (result,) = evaluate_with_history(AlwaysCar(), [twice(simulated_user())], shares=(0.0,))
    assert result["classifier"]["matched_share"] == 0.0
    assert (
        result["classifier"]["with_history"]["accuracy"]
        == result["classifier"]["without_history"]["accuracy"]
    )
    alone = evaluate_end_to_end(AlwaysCar(), [twice(simulated_user())])
    assert result["end_to_end"]["time_accuracy"] == alone["time_accuracy"]


class CloseCallCar:
    """A model that finds every section slightly more car than bus."""

    classes = ("walk", "bike", "bus", "car")
    version = "close-call"

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile([0.1, 0.05, 0.4, 0.45], (len(x), 1))


def test_the_transit_proxy_learns_stops_from_the_other_users_only() -> None:
    me = simulated_user()
    alone = evaluate_transit_proxy(CloseCallCar(), [me])
    # Nobody else: no stop is known, the user's own bus rides are not stops for themselves.
    assert alone["weighed_share"] == 0.0
    assert alone["with_transit"] == alone["without_transit"]
    assert alone["with_transit"]["per_class"]["bus"]["recall"] == 0.0
    # Someone who rode the same buses: their stops make this user's rides bus (and theirs too).
    neighbour = dataclasses.replace(me, user="neighbour")
    both = evaluate_transit_proxy(CloseCallCar(), [me, neighbour])
    assert both["weighed_share"] > 0.5
    assert both["with_transit"]["per_class"]["bus"]["recall"] == 1.0
    assert both["without_transit"]["per_class"]["bus"]["recall"] == 0.0
    # End to end without stops is the main evaluation's figure; with none known, nothing changes.
    plain = evaluate_end_to_end(CloseCallCar(), [me, neighbour])
    assert both["end_to_end"]["without_transit"]["time_accuracy"] == plain["time_accuracy"]
    assert alone["end_to_end"]["with_transit"] == alone["end_to_end"]["without_transit"]


def test_the_proxy_finds_where_a_bus_stood_still() -> None:
    # 2 km at 10 m/s with a 30 s stop half-way (the builder's default), sampled every 2 s.
    track = track_from(bus(to=place(2000.0, 0.0), every_s=2))
    (stop,) = _standstills(track, 0, len(track))
    half_way = track_from(bus(to=place(1000.0, 0.0), every_s=2))
    assert abs(stop[1] - half_way.lon[-1]) * 111_000 * np.cos(np.radians(stop[0])) < 30.0
    assert _standstills(track, 0, 2).shape == (0, 2)


class SureCar:
    """A model sure that every section is a car."""

    classes = ("walk", "bike", "bus", "car")
    version = "sure-car"

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        return np.tile([0.01, 0.01, 0.01, 0.97], (len(x), 1))


def test_asking_where_unsure_asks_nothing_of_a_sure_model_and_everything_of_an_unsure_one() -> None:
    user = twice(simulated_user())
    sure = evaluate_asking(SureCar(), [user], thresholds=(0.6, 0.9))
    unsure_model = evaluate_asking(CloseCallCar(), [user], thresholds=(0.6, 0.9))
    for run in sure["per_section"]:
        assert (run["asked"], run["asked_share"]) == (0, 0.0)
        assert run["after_answers"] == run["shown_before_answers"]
    assert sure["end_to_end"]["asked"] == sure["end_to_end"]["by_trip"]["trips_asked"] == 0
    assert (
        sure["end_to_end"]["after_answers"]["time_accuracy"]
        == (evaluate_end_to_end(SureCar(), [user])["time_accuracy"])
    )
    once = evaluate_asking(CloseCallCar(), [simulated_user()], thresholds=(0.6, 0.9))
    for run, first_day in zip(unsure_model["per_section"], once["per_section"], strict=True):
        assert first_day["asked"] > 0
        # Every answer is right, and the first day's answers spare questions on the second.
        assert run["after_answers"]["accuracy"] > run["shown_before_answers"]["accuracy"]
        assert first_day["asked"] <= run["asked"] <= 2 * first_day["asked"]
    # Below 0.6, one answer on the same route makes the model's close call sure enough not to ask.
    assert unsure_model["per_section"][0]["asked"] < 2 * once["per_section"][0]["asked"]
    e2e = unsure_model["end_to_end"]
    assert e2e["asked"] > 0
    assert e2e["questions_per_day"] == round(e2e["asked"] / 2, 2)  # two days
    by_trip = e2e["by_trip"]
    assert 0 < by_trip["trips_asked"] <= by_trip["trips"]
    assert by_trip["trips_per_day"] == round(by_trip["trips_asked"] / 2, 2)
    assert (
        by_trip["after_answers"]["time_accuracy"]
        > evaluate_end_to_end(CloseCallCar(), [user])["time_accuracy"]
    )
    assert (
        e2e["after_answers"]["time_accuracy"] > evaluate_end_to_end(CloseCallCar(), [user])["time_accuracy"]
    )


def test_a_tester_who_answers_half_the_questions_gets_less_right_than_one_who_answers_all() -> None:
    result = evaluate_asking(CloseCallCar(), [twice(simulated_user())], thresholds=(0.8,), end_to_end=False)
    (every,), half = result["per_section"], result["half_answered"]
    assert every["after_answers"]["accuracy"] == 1.0
    # Unanswered, a section keeps the model's mode, and the history learns less.
    assert every["shown_before_answers"]["accuracy"] < half["after_answers"]["accuracy"] < 1.0
    assert half["asked"] >= every["asked"]


def test_wrong_answers_leave_the_tester_with_fewer_right_modes_than_right_ones() -> None:
    result = evaluate_asking(CloseCallCar(), [twice(simulated_user())], thresholds=(0.8,), end_to_end=False)
    (every,), wrong = result["per_section"], result["one_answer_in_ten_wrong"]
    assert wrong["wrong_share"] == 0.1
    for run in (wrong["with_kinematic_match"], wrong["without_kinematic_match"]):
        assert run["asked_share"] > 0
        # The answered sections themselves are wrong one time in ten, or so.
        assert 0.7 < run["after_answers"]["accuracy"] < every["after_answers"]["accuracy"] == 1.0


def test_a_tester_who_always_taps_looks_right_corrects_nothing() -> None:
    result = evaluate_asking(CloseCallCar(), [twice(simulated_user())], thresholds=(0.8,), end_to_end=False)
    (every,), blind = result["per_section"], result["looks_right_always"]
    runs = ("with_kinematic_match", "without_kinematic_match", "agreements_in_full")
    for run in (blind[name] for name in runs):
        assert run["asked_share"] > 0
        # Each answer is the mode shown: what the tester ends with is what they were shown.
        assert run["after_answers"]["accuracy"] < every["after_answers"]["accuracy"] == 1.0
    # Agreements weighed by the tester's attention keep asking; counted in full, they stop it sooner.
    assert blind["with_kinematic_match"]["asked_share"] > blind["agreements_in_full"]["asked_share"]


def test_a_tester_who_taps_looks_right_half_the_time_ends_between_blind_and_attentive() -> None:
    result = evaluate_asking(CloseCallCar(), [twice(simulated_user())], thresholds=(0.8,), end_to_end=False)
    (every,), half = result["per_section"], result["looks_right_one_time_in_two"]
    blind = result["looks_right_always"]["with_kinematic_match"]["after_answers"]["accuracy"]
    assert half["blind_share"] == 0.5
    assert (
        blind < half["with_kinematic_match"]["after_answers"]["accuracy"] < every["after_answers"]["accuracy"]
    )


def test_an_answer_helps_only_the_sections_after_it() -> None:
    once = evaluate_asking(CloseCallCar(), [simulated_user()], thresholds=(0.6,), end_to_end=False)
    repeated = evaluate_asking(CloseCallCar(), [twice(simulated_user())], thresholds=(0.6,), end_to_end=False)
    assert "end_to_end" not in once
    (first,), (both,) = once["per_section"], repeated["per_section"]
    # The second day's sections are shown with the first day's answers on the same routes.
    assert both["shown_before_answers"]["accuracy"] > first["shown_before_answers"]["accuracy"]


def test_retraining_on_answers_scores_each_variant_on_users_never_seen() -> None:
    day = simulated_user()
    users = [dataclasses.replace(day, user=name) for name in ("a", "b", "c")]
    result = evaluate_retraining(
        CloseCallCar(),
        users,
        tiny_synthetic(modes=("walk", "bike", "bus", "car")),
        folds=3,
        blind_share=1.0 / 3.0,
        fit=QUICK_FIT,
    )
    assert (result["testers"], result["folds"]) == (3, 3)
    (blind,) = result["blind_testers"]
    assert blind in ("a", "b", "c")
    # Every section is a close call for the model: the blind tester is asked, says car each time.
    assert 0 < result["blind_answers"] < result["answers"]
    assert result["blind_answers_right"] < 1.0
    assert result["mean_weight_blind"] < result["mean_weight_attentive"]
    for variant in RETRAINING_VARIANTS:
        assert result[variant]["accuracy"] is not None
    # Right answers about the held-out users' own day teach the model that day: it does better
    # than the synthetic sections alone, and better than the blind tester's answers counted in full.
    assert result["every_tester_attentive"]["accuracy"] > result["synthetic_only"]["accuracy"]


def test_asking_with_calibrated_probabilities_fits_on_the_other_users_and_asks_in_the_same_order() -> None:
    me, other = simulated_user(), dataclasses.replace(twice(simulated_user()), user="other")
    alone = evaluate_asking(CloseCallCar(), [me], thresholds=(0.8,), end_to_end=False)
    assert alone["calibrated"]["available"] is False
    result = evaluate_asking(CloseCallCar(), [me, other], thresholds=(0.8,), end_to_end=False)
    calibrated = result["calibrated"]
    attentive, blind = calibrated["attentive"], calibrated["looks_right_always"]
    # Every section is a close call below 0.8, calibrated or not (the map keeps their order).
    assert result["per_section"][0]["asked_share"] > 0
    assert attentive["asked_share"] > 0
    assert blind["asked_share"] > 0
    assert blind["after_answers"]["accuracy"] < attentive["after_answers"]["accuracy"]
    # As a deployment fits it, on the sections asked and drawn for audit, and asks the drawn ones too.
    deployed = calibrated["as_deployed"]
    assert deployed["audit_share"] == 0.05
    assert deployed["attentive"]["asked"] >= deployed["attentive"]["audit_only"] >= 0
    assert deployed["attentive"]["asked_share"] > 0


def test_sections_drawn_for_audit_are_asked_whatever_their_probabilities() -> None:
    user = twice(simulated_user())
    n = len(_LabelledCut.of(SureCar(), user).truths)
    sure = _asking_audited(
        [_LabelledCut.of(SureCar(), user)], np.random.default_rng(0), DEFAULT_HISTORY, share=0.5
    )
    # A sure model is asked about nothing but the draw, about half of the sections, as long as the
    # answers agree with it; a tester who corrects the drawn ones makes it unsure of the others.
    blind, attentive = sure["looks_right_always"], sure["attentive"]
    assert 0 < blind["asked"] == blind["audit_only"] < n
    assert attentive["audit_only"] > 0
    assert attentive["asked"] > attentive["audit_only"]
    # Without a draw, it is the plain asking below 0.8.
    plain = evaluate_asking(CloseCallCar(), [user], thresholds=(0.8,), end_to_end=False)["per_section"][0]
    none = _asking_audited(
        [_LabelledCut.of(CloseCallCar(), user)], np.random.default_rng(0), DEFAULT_HISTORY, share=0.0
    )["attentive"]
    assert none["audit_only"] == 0
    assert (none["asked"], none["after_answers"]) == (plain["asked"], plain["after_answers"])
    result = evaluate_asking(SureCar(), [user], thresholds=(0.8,), end_to_end=False)
    audited = result["audited"]
    assert audited["audit_share"] == 0.05
    assert audited["looks_right_always"]["asked"] == audited["looks_right_always"]["audit_only"]
