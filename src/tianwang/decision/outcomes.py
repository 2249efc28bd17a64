"""Outcomes and interventions: the words a decision answers with, ordered by severity."""

from __future__ import annotations

from enum import IntEnum


class Outcome(IntEnum):
    """Higher overrides lower: the decision matrix takes the most severe."""

    PASS = 0
    REVIEW = 1  # 人工审核
    VERIFY = 2  # 后置核身: step-up identity check
    DELAY = 3  # 延迟放款: money held until a time
    REJECT = 4  # 拒绝/拦截

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> "Outcome":
        try:
            return cls[value.upper()]
        except (KeyError, AttributeError):
            raise ValueError(f"unknown outcome {value!r}; one of {', '.join(o.label for o in cls)}") from None


OUTCOMES = tuple(o.label for o in Outcome)  # pass … reject, by severity
# "Stopped": the event did not go through as asked (step-up check, money held, or refused).
STOPPED = frozenset(o.label for o in Outcome if o >= Outcome.VERIFY)

INTERVENTIONS = ("sms", "app_popup", "ai_call", "manual_call", "freeze")

FRAUD_TYPES = (
    "identity_theft",
    "intermediary",
    "forged_info",
    "multi_borrowing",
    "batch_attack",
    "far_from_home",
    "abnormal_consumption",
    "cash_out",
    "telecom_scam",
    "account_takeover",
)
