"""Loop protection on random graphs of automations (hypothesis).

Up to ten automations, each triggered by a record event in one of the five vendor modules and
acting with one or two record actions (update the trigger record, update a fixed record of a
module, create a record in a module), form an arbitrary graph: self-loops, ping-pong, cycles
through several modules, fan-out. One record change starts a chain. The runs are executed in
this process (automations.runtime.executor.execute over the due runs, no broker) until none is
due, and the outcome is compared with a small model of the rules:

- a run's depth is its cause's depth + 1 (a person's change starts at 1);
- an automation that already ran for the same record in the chain is blocked (loop_detected);
- otherwise a run deeper than AUTOMATIONS_MAX_CHAIN_DEPTH is blocked (chain_depth_exceeded);
- blocked runs are logged (status blocked, error code and message) and do nothing.

Every update writes a value unique to the run and action, so every action is a real change.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, event, example, given, settings, target
from hypothesis import strategies as st

from automations.models import Run
from automations.runtime import matching
from automations.runtime.executor import execute
from records.services import record_update
from tests.conftest import Tenant
from tests.factories import make_record
from tests.runtime.support import make_automation

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

MODULES = ("contacts", "leads", "deals", "tasks", "accounts")
TRIGGERS = ("record.created", "record.updated", "field.changed")
MAX_DEPTH = 5  # the default AUTOMATIONS_MAX_CHAIN_DEPTH; examples use 1..5
MODEL_CAP = 300  # runs per example; deeper limits are lowered until the model fits
_slugs = itertools.count()


@dataclass(frozen=True)
class Act:
    kind: str  # "update_trigger" | "update_related" | "create"
    module: str  # target module (related and create)


@dataclass(frozen=True)
class Node:
    module: str
    trigger: str
    actions: tuple[Act, ...]


acts = st.builds(
    Act, st.sampled_from(("update_trigger", "update_related", "create")), st.sampled_from(MODULES)
)
nodes = st.builds(
    Node,
    st.sampled_from(MODULES),
    st.sampled_from(TRIGGERS),
    st.lists(acts, min_size=1, max_size=2).map(tuple),
)
graphs = st.lists(nodes, min_size=1, max_size=10)
roots = st.tuples(st.sampled_from(("update", "create")), st.sampled_from(MODULES))


def _matches(node: Node, module: str, event: str) -> bool:
    if node.module != module:
        return False
    if event == "created":
        return node.trigger == "record.created"
    return node.trigger in ("record.updated", "field.changed")  # every update changes status


def model(graph: list[Node], root: tuple[str, str], depth_limit: int) -> Counter:
    """Counter of (automation index, depth, status, error code) the rules predict."""
    outcome: Counter = Counter()
    new_records = itertools.count()
    kind, module = root
    record = f"anchor:{module}" if kind == "update" else f"new:{next(new_records)}"
    events = [(module, "updated" if kind == "update" else "created", record, (), 0)]
    while events:
        module, event, record, visited, depth = events.pop()
        if sum(outcome.values()) > MODEL_CAP:
            break
        for index, node in enumerate(graph):
            if not _matches(node, module, event):
                continue
            key = (index, record)
            run_depth = depth + 1
            if key in visited:
                outcome[(index, run_depth, "blocked", "loop_detected")] += 1
                continue
            if run_depth > depth_limit:
                outcome[(index, run_depth, "blocked", "chain_depth_exceeded")] += 1
                continue
            outcome[(index, run_depth, "success", "")] += 1
            chain = (*visited, key)
            for act in node.actions:
                if act.kind == "update_trigger":
                    events.append((module, "updated", record, chain, run_depth))
                elif act.kind == "update_related":
                    events.append((act.module, "updated", f"anchor:{act.module}", chain, run_depth))
                else:
                    events.append(
                        (act.module, "created", f"new:{next(new_records)}", chain, run_depth)
                    )
    return outcome


def _action(act: Act, position: int, anchors: dict) -> dict:
    unique = f"{{{{trigger.run_id}}}}.{position}"
    if act.kind == "update_trigger":
        return {"type": "update_record", "config": {"updates": {"status": unique}}}
    if act.kind == "update_related":
        return {
            "type": "update_record",
            "config": {
                "record": "related",
                "module": act.module,
                "record_id": anchors[act.module].id,
                "updates": {"status": unique},
            },
        }
    return {"type": "create_record", "config": {"module": act.module, "data": {"name": unique}}}


def _trigger(node: Node) -> dict:
    trigger = {"type": node.trigger, "module": node.module}
    if node.trigger == "field.changed":
        trigger["field"] = "status"
    return trigger


def _drain(limit: int) -> int:
    """Execute due runs in this process until none is; the number executed."""
    executed = 0
    while True:
        due = list(
            Run.objects.filter(status__in=Run.ACTIVE_STATUSES, due_at__lte=timezone.now())
            .order_by("created_at", "id")
            .values_list("id", flat=True)
        )
        if not due:
            return executed
        for run_id in due:
            execute(run_id)
            executed += 1
        assert executed <= limit, f"more than {limit} runs executed: the chain does not stop"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(graph=graphs, root=roots, requested_limit=st.sampled_from(range(1, MAX_DEPTH + 1)))
# Ten automations on one module, each updating the trigger record: the widest fan-out.
@example(
    graph=[Node("contacts", "record.updated", (Act("update_trigger", "contacts"),))] * 10,
    root=("update", "contacts"),
    requested_limit=MAX_DEPTH,
)
# A ring through all five modules, twice round: only the depth limit stops it.
@example(
    graph=[
        Node(MODULES[i % 5], "record.updated", (Act("update_related", MODULES[(i + 1) % 5]),))
        for i in range(10)
    ],
    root=("update", "contacts"),
    requested_limit=MAX_DEPTH,
)
def test_random_graphs_of_automations_always_stop_within_the_depth_limit(
    db, graph, root, requested_limit
):
    limit = requested_limit
    while limit > 1 and sum(model(graph, root, limit).values()) > MODEL_CAP:
        limit -= 1  # keep each example small enough to run in well under a second or two
    expected = model(graph, root, limit)
    target(float(sum(expected.values())), label="runs")  # steer towards big chains
    event(f"depth limit {limit}")
    with override_settings(AUTOMATIONS_MAX_CHAIN_DEPTH=limit), transaction.atomic():
        matching.clear()
        tenant = Tenant(f"loops{next(_slugs)}")
        anchors = {m: make_record(tenant, m, name=f"anchor {m}") for m in MODULES}
        automations = [
            make_automation(
                tenant,
                name=f"a{index}",
                trigger=_trigger(node),
                actions=[_action(a, p, anchors) for p, a in enumerate(node.actions)],
            )
            for index, node in enumerate(graph)
        ]
        kind, module = root
        if kind == "update":
            record_update(record=anchors[module], data={"status": "go"}, actor=tenant.user)
        else:
            make_record(tenant, module, name="root")

        executed = _drain(limit=MODEL_CAP * 2)

        index_of = {a.id: i for i, a in enumerate(automations)}
        runs = list(Run.objects.filter(workspace=tenant.workspace))
        got = Counter(
            (index_of[r.automation_id], r.chain["depth"], r.status, r.error_code) for r in runs
        )
        assert got == expected
        # Bounded by the limit: nothing ran deeper, and only blocked runs sit one level below.
        assert all(r.chain["depth"] <= limit for r in runs if r.status == "success")
        assert all(r.chain["depth"] <= limit + 1 for r in runs)
        assert executed == sum(1 for r in runs if r.status == "success")
        # Blocked runs are logged, with why, as finished runs that did nothing.
        for run in runs:
            if run.status == "blocked":
                assert run.error_message.startswith("Loop protection:")
                assert run.completed_at is not None and run.action_runs.count() == 0
        assert len({r.chain["root"] for r in runs}) <= 1
        transaction.set_rollback(True)
    matching.clear()
