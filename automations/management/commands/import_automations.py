"""manage.py import_automations --workspace SLUG FILE

Creates the automations of an export document (export_automations, or the builder's Export
button) in the workspace, disabled, all or none; "-" reads standard input. Every problem is
printed with the automation it belongs to, and nothing is created.
"""

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Workspace
from automations.transfer import import_automations, parse_document
from config.errors import ValidationFailed


class Command(BaseCommand):
    help = "Import automations from a JSON export into a workspace (created disabled)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="the workspace's slug")
        parser.add_argument("file", help='the export file ("-": standard input)')

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = Workspace.objects.filter(slug=options["workspace"]).first()
        if workspace is None:
            raise CommandError(f"no workspace '{options['workspace']}'")
        path = options["file"]
        try:
            text = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as err:
            raise CommandError(f"cannot read {path}: {err.strerror}") from None
        try:
            created = import_automations(
                workspace=workspace, automations=parse_document(text), user=None
            )
        except ValidationFailed as exc:
            lines = [
                f"  {where}: {message}" if where else f"  {message}"
                for where, messages in (exc.details or {}).items()
                for message in messages
            ]
            raise CommandError("nothing was imported:\n" + "\n".join(lines)) from None
        for automation in created:
            self.stdout.write(f"{automation.id}\t{automation.name}")
        self.stderr.write(f"Imported {len(created)} automation(s), disabled: test, then enable.")
