"""Shared fixtures. `testbot` drives the real engine and dialog like a person would, errbot-style:

testbot.send("/start")
testbot.press("Svenska")
assert "Vilken kommun" in testbot.text
"""

from __future__ import annotations

import fcntl
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.knowledge import Knowledge
from tests.transcript import Clock, TestBot

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
SHARED = ROOT.parent / "shared"


CACHE_ENV = "SOCIALBOT_CACHE"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """With pytest-xdist's `--dist loadgroup` tests are spread one by one over the workers; tests sharing a
    module-scoped fixture (a browser, a server, a trained baseline) stay on one worker, so it is made once."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        if info is not None and any(defs[-1].scope == "module" for defs in info.name2fixturedefs.values()):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__ if item.module else item.nodeid))


@pytest.fixture(scope="session", autouse=True)
def matcher_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One matcher cache for the whole run, trained once, shared by every test and by every process a test
    starts (they inherit SOCIALBOT_CACHE; with pytest-xdist, all workers share it too). Its files are named
    by what they were trained on, so a test that changes the content still trains its own."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's directory, above each xdist worker's own
    directory = root / "matcher-cache"
    directory.mkdir(exist_ok=True)
    with open(root / "matcher-cache.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker trains; the others then load what it wrote
        # A model or detector this process already holds in memory is reused without writing the cache files: forget
        # them, so that the files are surely written for the processes the tests start (else each trains its own).
        from bot.matching import matcher
        from bot.safety import crisis

        matcher._TRAINED.clear()
        crisis._DETECTORS.clear()
        loaded = Knowledge.load(CONTENT, cache_dir=directory)
        # The language model too (made at the first message that needs it), which `socialbot` processes also load.
        loaded.matcher.detector.detect("jag undrar hur det fungerar med arbetsträning i kommunen")
    before = os.environ.get(CACHE_ENV)
    os.environ[CACHE_ENV] = str(directory)
    yield directory
    if before is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = before


def shared_cache() -> Path | None:
    """The run's matcher cache (set up by `matcher_cache` before any test runs), for a test that loads the content
    itself or starts a process: unchanged content then loads the trained matcher (half a second) instead of
    training it again (seven seconds of CPU, a minute on a loaded machine). None outside a test run."""
    directory = os.environ.get(CACHE_ENV)
    return Path(directory) if directory else None


@pytest.fixture(scope="session")
def knowledge(matcher_cache: Path) -> Knowledge:
    return Knowledge.load(CONTENT, cache_dir=matcher_cache)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def testbot(knowledge: Knowledge, tmp_path: Path, clock: Clock) -> TestBot:
    bot = TestBot(knowledge, tmp_path / "state", clock)
    yield bot
    bot.close()


# --- both storage backends ------------------------------------------------------------------------
# .ci/run starts a throwaway PostgreSQL cluster (tests/pgcluster.py) and exports its URL here; locally, the
# PostgreSQL half of the backend tests is skipped unless you do the same. In CI it must run.
TEST_DATABASE_URL = "SOCIALBOT_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = os.environ.get(TEST_DATABASE_URL, "").strip()
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the PostgreSQL tests: {TEST_DATABASE_URL} is not set (see .ci/run)")
        pytest.skip(f"no PostgreSQL configured ({TEST_DATABASE_URL}; see tests/pgcluster.py)")
    return url


def with_schema(url: str, schema: str) -> str:
    """The URL with every connection's search_path set to `schema` (libpq's `options`)."""
    return url + ("&" if "?" in url else "?") + "options=" + quote(f"-c search_path={schema}")


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty schema per test in the session's one cluster: quick, and nothing leaks between tests."""
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")  # type: ignore[arg-type]
    yield with_schema(postgres_server, schema)
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str | None:
    """None for SQLite in the test's state directory, or a PostgreSQL URL: the contract holds on both."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def any_testbot(knowledge: Knowledge, tmp_path: Path, clock: Clock, store_url: str | None) -> Iterator[TestBot]:
    bot = TestBot(knowledge, tmp_path / "state", clock, url=store_url)
    yield bot
    bot.close()
