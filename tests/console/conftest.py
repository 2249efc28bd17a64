import pytest

from tests.serving import DEMO_KEY, Client, Server, add_tenant, open_runtime


@pytest.fixture
def runtime(tmp_path, db_url):
    rt = open_runtime(tmp_path / "data", None if db_url.startswith("sqlite") else db_url)
    yield rt
    rt.close()


@pytest.fixture
def api(runtime):
    with Server(runtime) as server, Client(server.url, DEMO_KEY) as client:
        yield client


@pytest.fixture
def second_tenant(runtime):
    return add_tenant(runtime, "other_lender")
