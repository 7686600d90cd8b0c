"""A real redis-server per test session (`.ci/run` installs it)."""

import pytest
from support.redis_server import start_redis


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    proc, url = start_redis(tmp_path_factory.mktemp("redis"))
    yield url
    proc.terminate()
    proc.wait(10)
