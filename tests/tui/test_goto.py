"""What `g` (go to) takes: a bad entry is one sentence, never an exception the app dies of."""

from __future__ import annotations

import pytest

from mcpcap.core.errors import BadArgumentError
from mcpcap.tui.goto import Target, parse_target

FIRST_TS = 1_714_554_000.0  # 2024-05-01T09:00:00Z


def test_a_frame_number_and_a_time_of_day_with_one_or_two_digit_hours():
    assert parse_target(" 42 ", FIRST_TS) == Target(frame=42)
    assert parse_target("9:00", FIRST_TS) == parse_target("09:00", FIRST_TS)
    assert parse_target("9:00:01.5", FIRST_TS) == Target(ts=FIRST_TS + 1.5)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("²", "go to takes a frame number"),  # str.isdigit says yes, int() says no
        ("99999999999999999999", "no capture has a frame 99999999999999999999"),
        ("hello", "go to takes a frame number"),
    ],
)
def test_what_is_no_frame_or_time_is_one_sentence(text, said):
    with pytest.raises(BadArgumentError, match=said):
        parse_target(text, FIRST_TS)
