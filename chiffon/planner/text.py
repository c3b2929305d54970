"""A plan as text for a terminal (``chiffon plan --format text``)."""

from __future__ import annotations

import json

from chiffon.planner._plan import Plan, StepStatus


def plan_text(plan: Plan) -> str:
    """Numbered steps with entry, confidence, vars and order; then the risk."""
    lines = [f"Plan for: {plan.request}", f"planner: {plan.planner}, status: {plan.status}", ""]
    for number, step in enumerate(plan.steps, start=1):
        if step.status is StepStatus.MATCHED and step.entry is not None:
            why = next((c.reason for c in step.candidates if c.entry == step.entry), "")
            lines.append(
                f"{number}. {step.entry.kind} {step.entry.name} ({step.entry.path})"
                f"  confidence {step.confidence:.2f}" + (f", {why}" if why else "")
            )
        else:
            lines.append(f"{number}. no match: nothing in the playbook repo fits this clause")
        lines.append(f"   clause: {step.clause}")
        if step.draft is not None:
            lines.append(
                f"   a draft is available: {step.draft.path} (generated, {step.draft.template}; "
                "see it with `chiffon draft REQUEST`, save it with --save; it runs only "
                "once reviewed)"
            )
        for name, value in step.vars.items():
            lines.append(f"   var {name} = {json.dumps(value, default=str)}")
        if step.placement is not None:
            placed = step.placement
            where = placed.host or "no host fits now (the run would wait for capacity)"
            lines.append(f"   runs on: {where} ({placed.reason})")
        if step.depends_on:
            lines.append("   after step " + ", ".join(str(i + 1) for i in step.depends_on))
        others = [c for c in step.candidates if c.entry != step.entry]
        if others:
            close = ", ".join(f"{c.entry.name} ({c.score:.2f})" for c in others)
            lines.append(f"   {'candidates' if step.entry is None else 'also'}: {close}")
    lines.append("")
    lines.append(f"risk: {plan.risk.level}")
    lines.extend(f"  - {reason}" for reason in plan.risk.reasons)
    for call in plan.usage:
        tokens = call.prompt_tokens + call.completion_tokens
        detail = f": {call.detail}" if call.detail else ""
        lines.append(
            f"llm {call.provider} ({call.model}): {call.outcome}, {tokens} tokens, "
            f"{call.latency_ms} ms{detail}"
        )
    return "\n".join(lines)
