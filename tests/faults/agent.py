"""A client process for fault tests on a database of their own: `python -m tests.faults.agent`.

    setup --hook URL             workspace + automation; prints {"workspace_id", "automation_id"}
    sentinel                     writes a run that only the relay can publish; prints its id
    write --prefix P --count N   creates contacts P-000..P-(N-1) through records.services, as an
                                 API request would, riding out database restarts; prints a
                                 JSON summary

The writer is an honest client: when the database goes away in the middle of a create it does
not know whether the commit happened, so after reconnecting it looks the record up by its
unique name and creates it only if it is not there (the record and its run commit together, so
a record that exists has its run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def setup(hook: str) -> dict:
    from accounts.models import Membership
    from accounts.services import membership_ensure, user_get_or_create, workspace_create
    from automations.services import automation_create

    workspace = workspace_create(slug="faults", name="Faults")
    user, _ = user_get_or_create(email="owner@faults.example")
    membership_ensure(workspace=workspace, user=user, role=Membership.Role.OWNER)
    automation = automation_create(
        workspace=workspace,
        user=user,
        data={
            "name": "Follow up every contact",
            "enabled": True,
            "trigger": {"type": "record.created", "module": "contacts"},
            "actions": [
                {"type": "update_record", "config": {"updates": {"status": "seen"}}},
                {"type": "call_webhook", "config": {"url": hook, "timeout": 3}},
                {
                    "type": "create_record",
                    "config": {"module": "tasks", "data": {"name": "after {{record.name}}"}},
                },
            ],
        },
    )
    automation_create(
        workspace=workspace,
        user=user,
        data={
            "name": "relay sentinel",
            "enabled": True,
            "trigger": {"type": "manual", "module": "leads"},
            "actions": [
                {"type": "create_record", "config": {"module": "leads", "data": {"name": "tick"}}}
            ],
        },
    )
    return {"workspace_id": workspace.id, "automation_id": automation.id}


def sentinel() -> dict:
    """A pending run written straight to the table (never published on commit): it completes
    only if beat, the relay, the broker and a worker all work."""
    from django.utils import timezone

    from automations.models import Automation, Run
    from automations.runtime.runs import trigger_data_for

    automation = Automation.objects.get(workspace__slug="faults", name="relay sentinel")
    run = Run.objects.create(
        automation=automation,
        workspace_id=automation.workspace_id,
        version=automation.version,
        status=Run.Status.PENDING,
        trigger_data=trigger_data_for(event="manual"),
        due_at=timezone.now(),
    )
    return {"run_id": run.id}


def write(prefix: str, count: int, pause: float, give_up_after: float) -> dict:
    from django.db import DatabaseError, close_old_connections, connection

    from accounts.models import Workspace
    from records.models import Record
    from records.services import record_create

    def module():
        return Workspace.objects.get(slug="faults").modules.get(slug="contacts")

    created = errors = found_after_error = 0
    for n in range(count):
        name = f"{prefix}-{n:03}"
        deadline = time.monotonic() + give_up_after
        uncertain = False
        while True:
            try:
                if uncertain and Record.objects.filter(module=module(), values__name=name).exists():
                    found_after_error += 1  # the commit went through before the connection died
                    break
                record_create(module=module(), data={"name": name})
                created += 1
                break
            except DatabaseError as err:
                errors += 1
                traceback.print_exc()  # into the writer's log: where the connection died
                uncertain = True
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"{name}: database still failing after {give_up_after} s"
                    ) from err
                connection.close()
                close_old_connections()
                time.sleep(0.2)
        time.sleep(pause)
    return {
        "prefix": prefix,
        "count": count,
        "created": created,
        "errors": errors,
        "found_after_error": found_after_error,
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.faults.agent")
    commands = parser.add_subparsers(dest="command", required=True)
    setup_cmd = commands.add_parser("setup")
    setup_cmd.add_argument("--hook", required=True)
    commands.add_parser("sentinel")
    write_cmd = commands.add_parser("write")
    write_cmd.add_argument("--prefix", required=True)
    write_cmd.add_argument("--count", type=int, required=True)
    write_cmd.add_argument("--pause", type=float, default=0.02)
    write_cmd.add_argument("--give-up-after", type=float, default=60.0)
    args = parser.parse_args(argv)
    _django()
    if args.command == "setup":
        result = setup(args.hook)
    elif args.command == "sentinel":
        result = sentinel()
    else:
        result = write(args.prefix, args.count, args.pause, args.give_up_after)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
