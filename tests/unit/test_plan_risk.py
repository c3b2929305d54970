"""The risk a plan carries, with its reasons."""

from __future__ import annotations

from dataclasses import replace

from chiffon.catalog import EntryKind
from chiffon.planner import PlanStep, RiskLevel, StepStatus
from chiffon.planner._inventory import InventoryFacts
from chiffon.planner._plan import assess_risk
from tests.unit._entries import make_entry

FACTS = InventoryFacts(
    names=frozenset({"lab", "fleet", "nas"}),
    members={
        "lab": frozenset({"nas"}),
        "fleet": frozenset(f"h{i}" for i in range(12)),
        "all": frozenset({"nas", *(f"h{i}" for i in range(12))}),
    },
)


def step(
    name: str, hosts: str = "lab", target: str | None = None, become: bool = False
) -> PlanStep:
    entry = replace(make_entry(name, EntryKind.PLAYBOOK, hosts=hosts), become=become)
    return PlanStep(name, StepStatus.MATCHED, entry, 1.0, (), {}, (), target)


def test_a_plain_step_on_one_host_is_low_risk() -> None:
    assert assess_risk("say hello", (step("hello"),), FACTS).level is RiskLevel.LOW


def test_become_and_many_hosts_make_it_medium_with_reasons() -> None:
    risk = assess_risk("update", (step("pkg", become=True), step("os", hosts="fleet")), FACTS)
    assert risk.level is RiskLevel.MEDIUM
    assert risk.reasons == ("pkg runs tasks as root (become)", "os runs on 12 hosts (fleet)")


def test_the_target_counts_instead_of_the_plays_hosts() -> None:
    risk = assess_risk("update", (step("os", hosts="fleet", target="nas"),), FACTS)
    assert risk.level is RiskLevel.LOW


def test_destructive_words_make_it_high() -> None:
    risk = assess_risk("remove kuma", (step("kuma-remove", become=True),), FACTS)
    assert risk.level is RiskLevel.HIGH and risk.reasons[0] == "destructive request: remove"
