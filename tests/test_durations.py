"""A rule's `delay`: what length of time it accepts, and the message for one it refuses."""

import pytest

from tianwang.decision.strategy import parse_rule
from tianwang.durations import parse_duration_ms
from tianwang.errors import PolicyError


@pytest.mark.parametrize("text, ms", [("30m", 1_800_000), ("2h", 7_200_000), ("7d", 604_800_000),
                                      (" 24h ", 86_400_000), ("0030m", 1_800_000), ("400d", 400 * 86_400_000)])
def test_delay_lengths(text, ms):
    assert parse_duration_ms(text, "x") == ms


@pytest.mark.parametrize("text", ["0m", "00h", "30s", "1w", "5", "5H", "h", "", "-5h", "5 h", None, 5])
def test_a_delay_that_is_not_a_length_is_refused_with_an_example(text):
    with pytest.raises(PolicyError) as err:
        parse_duration_ms(text, "s.yaml: strategies[0].rules[0].delay")
    assert (err.value.where, err.value.message) == ("s.yaml: strategies[0].rules[0].delay", f"{text!r} is not a duration like 30m, 2h or 7d")


def test_a_rules_delay_is_read_in_milliseconds_and_its_message_names_the_key():
    rule = {"code": "HOLD", "when": "amount > 1", "outcome": "delay", "reason": "r", "delay": "24h"}
    assert parse_rule(rule, "s.yaml: strategies[0].rules[0]", {"amount"}).delay_ms == 86_400_000
    with pytest.raises(PolicyError) as err:
        parse_rule({**rule, "delay": "1w"}, "s.yaml: strategies[0].rules[0]", {"amount"})
    assert (err.value.where, err.value.message) == ("s.yaml: strategies[0].rules[0].delay", "'1w' is not a duration like 30m, 2h or 7d")
