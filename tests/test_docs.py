"""The docs name every setting, route and policy keyword the code has."""

from pathlib import Path

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
