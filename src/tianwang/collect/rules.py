"""Collection rules: named virtual events defined after the fact over what the SDK captured.

The SDK captures every page view, click, input, submit … once, with no tracking code per page.
An analyst then names the interactions that matter, in the policy bundle (`collect:`):

    collect:
      - name: apply_id_paste               # lower_snake_case, unique in the bundle
        type: input                        # the captured event's type (see EVENT_TYPES)
        url: "/apply*"                     # optional: a glob on the page path (or on the whole URL
                                           #   when it starts with http)
        selector: "form#apply input[name=id_number]"   # optional: CSS, see collect/selectors.py
        description: The ID number field of the application form

A captured event that matches a rule (the first, in the order the files and rules are read) is
walked as a `behavior` event whose `virtual` field is the rule's name, so window variables can
count it (`where: "virtual == 'apply_id_paste' and pasted"`). A change is published and hot
reloaded like any policy change; the page does not change.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tianwang.collect.selectors import Selector, SelectorError, Step, compile_selector
from tianwang.errors import PolicyError

EVENT_TYPES = ("page_view", "click", "input", "submit", "visibility", "error", "behavior", "custom")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
COLLECT_RULE_KEYS = {"name", "type", "url", "selector", "description"}


@dataclass(frozen=True)
class CollectRule:
    name: str
    type: str
    url: str | None
    selector: Selector | None
    description: str

    def matches(self, event_type: str, url: str | None, path: list[Step] | None) -> bool:
        if event_type != self.type:
            return False
        if self.url is not None:
            if not url:
                return False
            target = url if self.url.startswith("http") else (urlsplit(url).path or "/")
            if not fnmatch.fnmatchcase(target, self.url):
                return False
        return self.selector is None or (path is not None and self.selector.matches(path))


def parse_rules(items: Any, *, source: str) -> list[CollectRule]:
    """One file's `collect:` list; PolicyError names the rule and key."""
    if not isinstance(items, list):
        raise PolicyError(source, "`collect` must be a list of collection rules")
    return [_rule(item, f"{source}: collect[{i}]") for i, item in enumerate(items)]


def _rule(item: Any, where: str) -> CollectRule:
    if not isinstance(item, dict):
        raise PolicyError(where, "a collection rule is a mapping")
    unknown = sorted(set(item) - COLLECT_RULE_KEYS)
    if unknown:
        raise PolicyError(f"{where}.{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(COLLECT_RULE_KEYS))}")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise PolicyError(f"{where}.name", "lower_snake_case, at most 32 characters")
    kind = item.get("type")
    if kind not in EVENT_TYPES:
        raise PolicyError(f"{where}.type", f"one of {', '.join(EVENT_TYPES)}")
    url = item.get("url")
    if url is not None and (not isinstance(url, str) or not url or len(url) > 512):
        raise PolicyError(f"{where}.url", "a glob on the page path such as /apply* (at most 512 characters)")
    selector = None
    if item.get("selector") is not None:
        try:
            selector = compile_selector(item["selector"])
        except SelectorError as exc:
            raise PolicyError(f"{where}.selector", str(exc)) from None
    description = item.get("description", "")
    if not isinstance(description, str):
        raise PolicyError(f"{where}.description", "must be text")
    return CollectRule(name, kind, url, selector, description)


def first_match(rules: tuple[CollectRule, ...], event_type: str, url: str | None, path: list[Step] | None) -> str | None:
    """The name of the first rule the captured event matches, or None."""
    for rule in rules:
        if rule.matches(event_type, url, path):
            return rule.name
    return None
