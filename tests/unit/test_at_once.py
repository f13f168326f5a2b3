"""A cap on what one key has under way at once (a tester's exports)."""

from __future__ import annotations

import pytest

from api.ratelimit import AtOnce
from core.errors import TooManyRequests


def test_past_the_cap_a_key_is_refused_until_one_is_given_back() -> None:
    cap = AtOnce(2, what="exports of yours", retry_after_s=30)
    first, _second = cap.take("a"), cap.take("a")
    with pytest.raises(TooManyRequests) as refused:
        cap.take("a")
    assert refused.value.retry_after_s == 30
    assert "2 exports of yours under way" in str(refused.value)
    cap.take("b")  # another tester is not held back
    first()
    cap.take("a")
    assert cap.under_way("a") == 2


def test_giving_back_twice_counts_once() -> None:
    cap = AtOnce(1, what="exports of yours")
    give_back = cap.take("a")
    give_back()
    give_back()  # the download's end, then its collection
    assert cap.under_way("a") == 0
    cap.take("a")
    with pytest.raises(TooManyRequests):
        cap.take("a")
