from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tracker.env import env_bool, env_database, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def test_it_parses_booleans_and_refuses_nonsense():
    assert env_bool("DEBUG", False, {"DEBUG": "yes"}) is True
    assert env_bool("DEBUG", True, {"DEBUG": "0"}) is False
    assert env_bool("DEBUG", True, {}) is True
    with pytest.raises(ImproperlyConfigured, match="DEBUG='maybe'"):
        env_bool("DEBUG", True, {"DEBUG": "maybe"})


def test_it_parses_integers_and_lists():
    assert env_int("N", 3, {"N": "42"}) == 42
    with pytest.raises(ImproperlyConfigured, match="N='forty'"):
        env_int("N", 3, {"N": "forty"})
    assert env_list("HOSTS", [], {"HOSTS": "a.org, b.org,"}) == ["a.org", "b.org"]


def test_it_parses_database_urls():
    postgres = env_database("DATABASE_URL", "", {"DATABASE_URL": "postgres://u@db:5432/tracker"})
    assert postgres["ENGINE"] == "django.db.backends.postgresql"
    assert (postgres["HOST"], postgres["NAME"]) == ("db", "tracker")
    sqlite = env_database("DATABASE_URL", "sqlite:///x.sqlite3", {})
    assert sqlite["ENGINE"] == "django.db.backends.sqlite3"


@pytest.mark.parametrize(
    "url", ["nonsense", "mysql://u@h/db", "postgres://host-without-database", "ftp://x/y"]
)
def test_it_refuses_bad_database_urls_naming_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL="):
        env_database("DATABASE_URL", "", {"DATABASE_URL": url})


def run_check(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG"}}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_it_stops_at_start_up_on_a_bad_database_url():
    result = run_check(DATABASE_URL="postgress://oops")
    assert result.returncode != 0
    assert "DATABASE_URL='postgress://oops'" in result.stderr


def test_it_requires_a_secret_key_and_hosts_in_production():
    result = run_check(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr
    result = run_check(DEBUG="false", SECRET_KEY="x" * 60)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_it_passes_the_deployment_checks_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k != "DEBUG"},
            "DEBUG": "false",
            "SECRET_KEY": "a-long-random-production-secret-" + "q8Zr2xW9" * 6,
            "ALLOWED_HOSTS": "tracker.example.org",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
