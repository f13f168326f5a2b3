"""What mapping the stored sections with a calibration does to the questions the app asks
(ingest.calibration): the figures `sillage pipeline recalibrate` prints."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from core import calibration
from ingest.calibration import Recalibrated, questions_line


@pytest.mark.parametrize(("slope", "intercept"), [(0.5, -0.4), (0.3, -0.2), (1.0, 0.0), (1.6, 0.3)])
def test_the_image_of_ask_below_asks_about_the_same_sections(slope: float, intercept: float) -> None:
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.full(6, 0.4), size=20_000)  # close calls and sure sections alike
    t = calibration.ask_below_for_same_sections(0.8, slope, intercept)
    assert t > 0.5  # keeping the mode shown ahead lifts no section above 0.5 (module docstring)
    shown = calibration.calibrate(proba, slope, intercept).max(axis=1)
    np.testing.assert_array_equal(shown < t, proba.max(axis=1) < 0.8)


def test_the_operator_is_told_what_the_pass_did_to_the_questions() -> None:
    done = Recalibrated(
        testers=2,
        sections=40,
        calibrated=40,
        ask_below=0.8,
        below_uncalibrated=4,
        below_shown=10,
        ask_below_for_same_sections=0.5923,
    )
    assert questions_line(done) == (
        "below ask_below 0.8: 10.0 % of those sections as their model gave them, 25.0 % as now shown"
        " (SILLAGE_ASK_BELOW=0.592 would ask about the same sections of the calibration's model as its"
        " own figures did)"
    )
    assert questions_line(msgspec.structs.replace(done, sections=0)) == "no section to ask about yet"
    plain = msgspec.structs.replace(done, calibrated=0, below_shown=4, ask_below_for_same_sections=0.8)
    assert questions_line(plain) == (
        "below ask_below 0.8: 10.0 % of those sections as their model gave them, 10.0 % as now shown"
    )
