"""Values in a request mapped onto an entry's declared variables."""

from __future__ import annotations

from typing import Any

from chiffon.catalog import Entry
from chiffon.planner._text import Action
from chiffon.planner._vars import assign, find_hints

from ._entries import make_entry

GRAFANA = make_entry(
    "grafana",
    variables={
        "grafana_enabled": False,
        "grafana_port": "3001",
        "grafana_hostname": "grafana",
        "grafana_version": "latest",
        "grafana_available_externally": False,
        "grafana_memory": "1g",
    },
)


def plan_vars(
    text: str,
    entry: Entry = GRAFANA,
    action: Action | None = Action.INSTALL,
    group_vars: dict[str, Any] | None = None,
) -> dict[str, Any]:
    hints, _ = find_hints(text)
    return assign(entry, hints, action, text, group_vars or {})


def test_it_puts_a_port_on_the_declared_port_variable_as_the_default_type() -> None:
    assert plan_vars("deploy grafana on port 3300")["grafana_port"] == "3300"
    kuma = make_entry("kuma-deploy", variables={"kuma_port": 3001, "kuma_data_dir": "/opt"})
    assert plan_vars("deploy kuma on port 3010", kuma) == {"kuma_port": 3010}


def test_it_reads_hostname_version_and_external_access() -> None:
    found = plan_vars("deploy grafana with hostname media, version 2.1, available externally")
    assert found["grafana_hostname"] == "media"
    assert found["grafana_version"] == "2.1"
    assert found["grafana_available_externally"] is True


def test_it_sets_the_enabled_flag_from_the_action() -> None:
    assert plan_vars("deploy grafana")["grafana_enabled"] is True
    assert plan_vars("remove grafana", action=Action.REMOVE)["grafana_enabled"] is False
    assert "grafana_enabled" not in plan_vars("configure grafana", action=Action.CONFIGURE)


def test_it_proposes_only_declared_variables() -> None:
    bare = make_entry("redis", variables={"redis_memory": "1g"})
    assert plan_vars("deploy redis on port 6380 with hostname cache version 7", bare) == {}


def test_it_cuts_the_value_phrases_out_of_the_clause() -> None:
    hints, rest = find_hints("install linkding and make it available externally")
    assert hints.external
    assert rest == "install linkding and"
    hints, rest = find_hints("set up searxng with hostname search")
    assert (hints.hostname, rest) == ("search", "set up searxng")


def test_it_ignores_a_port_out_of_range() -> None:
    hints, _ = find_hints("deploy grafana on port 99999")
    assert hints.port is None


def test_it_proposes_the_inventory_portals_for_a_variable_that_refers_to_them() -> None:
    portals = [{"name": "portal-1", "url": "https://portal-1.example"}]
    config = make_entry(
        "kuma-config-update",
        variables={"kuma_port": 3001, "kuma_monitors": "{{ portals | default([]) }}"},
    )
    found = plan_vars(
        "add our existing portals to the config",
        config,
        Action.CONFIGURE,
        {"portals": portals, "homelab_domain": "home.example"},
    )
    assert found == {"kuma_monitors": portals}


def test_it_does_not_propose_group_vars_the_clause_does_not_name() -> None:
    config = make_entry("kuma-config-update", variables={"kuma_monitors": "{{ portals }}"})
    found = plan_vars("update the kuma config", config, Action.CONFIGURE, {"portals": [1]})
    assert found == {}
