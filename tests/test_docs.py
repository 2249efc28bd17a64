"""The docs name every setting, route and policy keyword the code has."""

import re
from pathlib import Path

import pytest

from tianwang.config import settings_help

ROOT = Path(__file__).resolve().parents[1]


def test_every_setting_is_documented_with_its_default():
    page = (ROOT / "docs" / "settings.md").read_text()
    for name, default, help_text in settings_help():
        assert f"| `{name}` | `{default}` | {help_text} |" in page, f"docs/settings.md is missing or out of date for {name}"


def test_readme_starts_with_the_two_commands():
    head = (ROOT / "README.md").read_text().split("\n## ")[0]
    assert "make demo" in head and "make test" in head


def test_every_route_is_in_the_readme():
    from tianwang.api.app import create_app

    readme = (ROOT / "README.md").read_text()
    app = create_app()
    paths = {r.path for r in app.routes if getattr(r, "include_in_schema", False)}
    for path in paths:
        shown = path.replace("{event_id}", "a-0001").replace("{customer_id}", "c-42")
        stem = path.split("{")[0].rstrip("/")
        assert shown in readme or stem in readme, f"README.md does not mention {path}"


def test_the_openapi_page_documents_every_scene(tmp_path):
    import httpx

    from tests.serving import Server, open_runtime
    from tianwang.events import SCENES

    rt = open_runtime(tmp_path / "d", None)
    try:
        with Server(rt) as server:
            spec = httpx.get(f"{server.url}/openapi.json").json()
            assert httpx.get(f"{server.url}/docs").status_code == 200
    finally:
        rt.close()
    schemas = spec["components"]["schemas"]
    body = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/Event"}
    mapped = set(schemas["Event"]["discriminator"]["mapping"])
    assert mapped == set(SCENES)


def test_settings_from_flags_are_converted_like_the_environment(tmp_path):
    from pathlib import Path

    from tianwang.config import Settings

    s = Settings.from_env({"TIANWANG_MAX_BATCH": "7"}, data_dir=str(tmp_path), db=None)
    assert s.data_dir == Path(tmp_path) and s.max_batch == 7
    import pytest

    with pytest.raises(TypeError):
        Settings.from_env({}, no_such_setting=1)


def _policy_keywords():
    """(section of docs/policy.md, what, the names the code accepts there): the validators' own sets."""
    from tianwang.collect.rules import COLLECT_RULE_KEYS, EVENT_TYPES
    from tianwang.decision.expr import FUNCTIONS
    from tianwang.decision.outcomes import FRAUD_TYPES, INTERVENTIONS, OUTCOMES
    from tianwang.decision.strategy import BAND_KEYS, RULE_KEYS, STRATEGY_KEYS
    from tianwang.decision.triggers import TRIGGER_KEYS
    from tianwang.network.measures import MEASURES
    from tianwang.policy.bundle import FILE_KEYS, POLICY_KEYS
    from tianwang.variables.definitions import AGGS, KINDS, LIST_TYPES, VARIABLE_KEYS

    yield "", "bundle file keys", FILE_KEYS
    yield "## policy.yaml", "policy.yaml keys", POLICY_KEYS
    yield "## Variables", "variable kinds", KINDS
    for kind, keys in VARIABLE_KEYS.items():
        yield f"### {kind} ", f"{kind} variable keys", keys
    yield "### window ", "window aggregates", AGGS
    yield "### list ", "list types", LIST_TYPES
    yield "### network ", "network measures", MEASURES
    yield "## The expression language", "expression functions", FUNCTIONS
    yield "## Strategies and rules", "strategy keys", STRATEGY_KEYS
    yield "## Strategies and rules", "rule keys", RULE_KEYS
    yield "## Strategies and rules", "band keys", BAND_KEYS
    yield "## Strategies and rules", "outcomes", OUTCOMES
    yield "## Strategies and rules", "interventions", INTERVENTIONS
    yield "## Strategies and rules", "fraud types", FRAUD_TYPES
    yield "## Reverse triggers", "trigger keys", TRIGGER_KEYS
    yield "## Collection rules", "collection rule keys", COLLECT_RULE_KEYS
    yield "## Collection rules", "captured event types", EVENT_TYPES


def _section(page: str, heading: str) -> str:
    """The text under `heading` (a line prefix) down to the next heading as high or higher; "" is the
    page's opening, before its first `## `. A variable kind's section includes the Variables
    introduction, where the keys every kind has are told."""
    if not heading:
        return page.split("\n## ")[0]
    lines = page.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(heading)]
    assert len(starts) == 1, f"docs/policy.md has {len(starts)} headings starting {heading!r}"
    level = len(heading) - len(heading.lstrip("#"))
    end = next((j for j in range(starts[0] + 1, len(lines))
                if re.match(rf"#{{1,{level}}} ", lines[j]) and not _in_fence(lines, j)), len(lines))
    text = "\n".join(lines[starts[0]:end])
    if heading.startswith("### "):
        text = _section(page, "## Variables").split("\n### ")[0] + "\n" + text
    return text


def _in_fence(lines: list[str], j: int) -> bool:
    return sum(line.startswith("```") for line in lines[:j]) % 2 == 1


def _shown_as_code(text: str) -> set[str]:
    """Names written as code: an inline span `name`, `name:` or `name(…)` in the prose, or a YAML key
    `name:` in a fenced block (comments aside)."""
    fenced = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.M | re.S)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.M | re.S)
    names = {m.group(1) for span in re.findall(r"`([^`\n]+)`", prose)
             if (m := re.fullmatch(r"([A-Za-z_]\w*)(?::|\(.*\))?", span))}
    for block in fenced:
        for line in block.splitlines():
            names.update(re.findall(r"(?:^|[\s{,])(?:-\s+)?([A-Za-z_]\w*):(?=\s|$)", line.split(" #")[0]))
    return names


@pytest.mark.parametrize("heading, what, names", [pytest.param(*k, id=k[1].replace(" ", "_")) for k in _policy_keywords()])
def test_every_policy_keyword_and_measure_is_documented(heading, what, names):
    page = (ROOT / "docs" / "policy.md").read_text()
    missing = sorted(set(names) - _shown_as_code(_section(page, heading)))
    assert not missing, f"docs/policy.md {heading.strip() or '(opening)'} does not show these {what} as code: {', '.join(missing)}"


def test_the_walks_steps_are_numbered_in_the_order_they_run_and_as_the_design_page_numbers_them():
    """ingest/walk.py's `walk()` calls steps 2-9 each on a line ending `# N`; docs/design.md lists
    steps 1-9 with their names. Same numbers, same names, ascending in the order they run."""
    import inspect
    import re

    from tianwang.ingest import walk

    called = [(int(n), fn) for fn, n in re.findall(r"(\w+)\(.*#\s*(\d)\s*$", inspect.getsource(walk.walk), re.M)]
    assert [n for n, _ in called] == list(range(2, 10))
    page = (ROOT / "docs" / "design.md").read_text()
    block = page.split("POST /v1/events", 1)[1].split("```", 1)[0]
    listed = {int(n): name.strip().replace(" ", "_") for n, name in re.findall(r"^\s+(\d) (\w+(?: \w+)?)\s{2,}", block, re.M)}
    assert sorted(listed) == list(range(1, 10)), listed
    assert listed[1] == "validate" and walk.validate.__doc__.startswith("Step 1:")
    for n, fn in called:
        assert listed[n] in fn, (n, listed[n], fn)
        assert getattr(walk, fn).__doc__.startswith(f"Step {n}:"), fn
