"""manage.py export_automations --workspace SLUG [--id auto_...] [--output FILE]

Writes a workspace's automations (all, or those named by --id, which may repeat) as the JSON
document automations.transfer describes, to FILE or standard output, for import_automations
in another workspace or installation.
"""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Workspace
from automations.models import Automation
from automations.transfer import export_json


class Command(BaseCommand):
    help = "Export a workspace's automations as a JSON file (see import_automations)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="the workspace's slug")
        parser.add_argument(
            "--id",
            action="append",
            dest="ids",
            default=[],
            metavar="AUTOMATION_ID",
            help="export only this automation (repeat for several); default: all",
        )
        parser.add_argument("--output", help="the file to write; default: standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"no workspace '{options['workspace']}'")
        automations = Automation.objects.filter(workspace=workspace).order_by("created_at", "id")
        ids: list[str] = options["ids"]
        if ids:
            automations = automations.filter(id__in=ids)
            missing = sorted(set(ids) - {a.id for a in automations})
            if missing:
                raise CommandError(
                    f"no automation {', '.join(missing)} in workspace '{workspace.slug}'"
                )
        text = export_json(automations)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
            count = len(automations)
            self.stderr.write(f"Exported {count} automation(s) to {options['output']}")
        else:
            self.stdout.write(text, ending="")
