"""Collection-rule selectors against captured paths: what matches, what is refused and why."""

from __future__ import annotations

import pytest

from tianwang.collect.selectors import SelectorError, compile_selector, format_path, parse_path

PATH = parse_path("html > body > main > form#apply.big > div:nth-of-type(2) > input.wide",
                  tag="input", name="id_number", input_type="text")


@pytest.mark.parametrize("selector, expected", [
    ("input", True),
    ("form#apply input[name=id_number]", True),
    ("form#apply > div > input", True),
    ("form#apply > input", False),  # not a child of the form
    ("div:nth-of-type(2) > input", True),
    ("div:nth-of-type(3) > input", False),
    ("div:nth-of-type(even) > input", True),
    ("div:nth-of-type(odd) > input", False),
    ("div:nth-of-type(2n) input", True),
    ("div:first-of-type input", False),
    ("input[type^=te]", True),
    ("input[name$=number]", True),
    ("input[name*=_num]", True),
    ("input[class~=wide]", True),
    ("input[name=phone]", False),
    ("form.big input:not(.narrow)", True),
    ("form.big input:not(.wide)", False),
    ("form#other input", False),
    ("button, input[name=id_number]", True),
    ("main form input", True),
    ("section form input", False),
    ("*", True),
    ("INPUT", True),  # tags are case-insensitive
])
def test_a_selector_matches_the_path_as_a_browser_would(selector, expected):
    assert compile_selector(selector).matches(PATH) is expected


@pytest.mark.parametrize("selector, fragment", [
    ("a:hover", "state or position"),
    ("input:checked", "state or position"),
    ("label + input", "siblings"),
    ("h1 ~ input", "siblings"),
    ("li:nth-child(2)", ":nth-of-type(n) is"),
    ("p::before", "pseudo-element"),
    ("input[data-x]", "not captured"),
    ("input[", "not a CSS selector"),
    ("", "non-empty"),
    ("a" * 600, "longer than"),
])
def test_what_a_path_cannot_tell_is_refused_with_the_reason(selector, fragment):
    with pytest.raises(SelectorError) as err:
        compile_selector(selector)
    assert fragment in str(err.value)


def test_a_stored_path_reads_back_to_the_same_steps():
    text = format_path(PATH)
    assert text.endswith('input.wide[name="id_number"][type="text"]')
    assert parse_path(text) == PATH
    tricky = parse_path('form > input[name="a > b"]')
    assert tricky[-1].attrs == {"name": "a > b"} and len(tricky) == 2
