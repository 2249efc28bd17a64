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
