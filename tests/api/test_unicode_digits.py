"""Digits as people type them: fullwidth (全角, what Chinese input methods produce) and other
scripts' decimal digits are the same phone, card or ID number as their ASCII form — validated,
hashed, listed and matched as one value, so a blacklist cannot be walked past in another script."""

from __future__ import annotations

import pytest

from tests.factories import apply_event

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
CARD = "6222021234567890128"


def bind_card(event_id: str, card: str, **extra) -> dict:
    return {"event_id": event_id, "scene": "bind_card", "occurred_at": "2026-11-26T10:00:00+08:00",
            "customer_id": "c-fw", "card_no": card, **extra}


def values(api, event_id: str) -> dict:
    return api.get(f"/v1/decisions/{event_id}").json()["values"]


def blacklist(api, entity: str, value: str) -> None:
    res = api.post("/v1/lists", json={"entries": [{"list_type": "black", "entity": entity, "value": value,
                                                   "reason": "fraud"}]})
    assert res.status_code == 201, res.text


@pytest.mark.parametrize("script", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_a_blacklisted_card_in_other_digits_is_still_the_blacklisted_card(api, script):
    blacklist(api, "card", CARD)
    ascii_answer = api.post("/v1/events", json=bind_card("c1", CARD)).json()
    other = api.post("/v1/events", json=bind_card("c2", CARD.translate(script))).json()
    assert ascii_answer["outcome"] == "reject"
    assert other["outcome"] == "reject", other
    assert values(api, "c2")["bl_card"] is True
    assert [r["code"] for r in other["reasons"]] == [r["code"] for r in ascii_answer["reasons"]]


def test_a_phone_and_id_number_in_fullwidth_are_the_blacklisted_ones(api):
    ascii_event = apply_event("a-1", customer="c-ascii")
    blacklist(api, "phone", ascii_event["phone"])
    blacklist(api, "id_number", ascii_event["id_number"])
    fw = apply_event("a-2", customer="c-fw", minute=1)
    fw["phone"] = ascii_event["phone"].translate(FULLWIDTH)
    fw["id_number"] = ascii_event["id_number"].translate(FULLWIDTH)
    answer = api.post("/v1/events", json=fw).json()
    read = values(api, "a-2")
    assert read["bl_phone"] is True and read["bl_id_number"] is True, read
    assert answer["outcome"] == "reject"
    stored = api.get("/v1/customers/c-fw/timeline").json()["items"][0]
    record = stored.get("event") or stored
    assert record["id_region"] == ascii_event["id_number"][:6]  # the region, in ASCII, as rules read it


def test_a_list_entry_typed_in_fullwidth_matches_the_ascii_card(api):
    blacklist(api, "card", CARD.translate(FULLWIDTH))
    answer = api.post("/v1/events", json=bind_card("c3", CARD)).json()
    assert answer["outcome"] == "reject" and values(api, "c3")["bl_card"] is True


def test_what_is_not_a_digit_in_any_script_is_still_refused(api):
    res = api.post("/v1/events", json=bind_card("c4", "６２２２０２１２３４５６７８９０１２B"))
    assert res.status_code == 422
    assert "card_no" in res.text
    assert api.get("/v1/decisions/c4").status_code == 404
