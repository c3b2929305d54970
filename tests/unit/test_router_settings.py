"""The router's settings: defaults, values read, and bad values refused by name."""

from __future__ import annotations

import pytest

from chiffon.settings import SettingsError, load_settings


def test_it_has_router_defaults() -> None:
    settings = load_settings({})

    assert settings.local_agent_host == "localhost"
    assert settings.agent_heartbeat_seconds == 30
    assert settings.agent_offline_seconds == 90
    assert settings.agent_flood_seconds == 2
    assert settings.heartbeat_retention_hours == 24
    assert settings.capacity_wait_seconds == 3600


def test_it_reads_router_settings() -> None:
    settings = load_settings(
        {
            "CHIFFON_LOCAL_AGENT_HOST": "",
            "CHIFFON_AGENT_HEARTBEAT_SECONDS": "10",
            "CHIFFON_AGENT_OFFLINE_SECONDS": "45",
            "CHIFFON_HEARTBEAT_RETENTION_HOURS": "0.5",
            "CHIFFON_CAPACITY_WAIT_SECONDS": "120",
        }
    )

    assert settings.local_agent_host == ""
    assert (settings.agent_heartbeat_seconds, settings.agent_offline_seconds) == (10, 45)
    assert settings.heartbeat_retention_hours == 0.5
    assert settings.capacity_wait_seconds == 120


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("CHIFFON_AGENT_OFFLINE_SECONDS", "0", "from 3 to 86400"),
        ("CHIFFON_AGENT_HEARTBEAT_SECONDS", "nan", "from 1 to 3600"),
        ("CHIFFON_CAPACITY_WAIT_SECONDS", "-5", "from 1 to 2592000"),
        ("CHIFFON_LOCAL_AGENT_HOST", "two words", "without spaces"),
    ],
)
def test_it_refuses_bad_router_settings(variable: str, value: str, allowed: str) -> None:
    with pytest.raises(SettingsError, match=variable) as caught:
        load_settings({variable: value})

    assert allowed in str(caught.value)
