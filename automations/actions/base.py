"""The interface every action type implements, the results it returns and the error it raises.

An action type is one class that knows everything about its kind of step:

- `validate(config, ctx, path)` at save time (automations.definition runs it for each action,
  then checks the config's template strings itself when `templated`);
- `normalize(config)` fills documented defaults, so the stored config says what will happen;
- `preview(config, ctx)` is the dry run's rendering of the action, with no side effect;
- `execute(config, ctx)` does it, on a config already validated and rendered by the executor.

`execute` returns `Done(output)` (a JSON-able dict the run's ActionRun keeps) or `Park(seconds)`
(the run waits in the database, as a delay does), or raises ActionError: `permanent=True` means a
retry cannot help (a missing record, a 404 from a webhook), so the run fails at once.

Actions never import the runtime: what they may know about the run comes in ActionContext.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from automations.engine.templates import TemplateError, render_value

if TYPE_CHECKING:
    from accounts.models import Workspace
    from automations.models import Automation, EmailTemplate, Run
    from automations.validation import DefinitionContext, Problems


class ActionError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        permanent: bool = False,
        *,
        output: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.permanent = permanent
        # What the action learnt before failing (a webhook's status and body), for the log.
        self.output = dict(output or {})

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"

    def as_preview_error(self) -> dict[str, str]:
        """How the dry run shows the error a real run would fail with."""
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True)
class Done:
    """The action did its work; `output` is kept in the run's log."""

    output: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Park:
    """The run waits `seconds` in the database (no worker sleeps), then goes on with the next
    action."""

    seconds: int


Result = Done | Park


def email_template_named(workspace_id: int, name: str) -> EmailTemplate | None:
    from automations.models import EmailTemplate  # models import nothing of the actions

    return EmailTemplate.objects.filter(workspace_id=workspace_id, name=name).first()


@dataclass
class ActionContext:
    """What an action may know about the run it belongs to."""

    run: Run
    automation: Automation
    workspace: Workspace
    index: int
    now: datetime
    # The template context the config was rendered with (record, previous, user, now, ...).
    template_context: dict[str, Any]
    actor: Any = None
    # The config as the automation's version wrote it, before rendering: tells a literal list
    # from a template that rendered to one (send_email lets only the author, never the data,
    # choose recipients). The executor always gives it.
    raw_config: Mapping[str, Any] = field(default_factory=dict)

    @property
    def trigger_data(self) -> dict[str, Any]:
        return self.run.trigger_data or {}

    @property
    def chain(self) -> dict[str, Any]:
        """Passed as `cause` to record services so loops across automations are tracked."""
        return self.run.chain or {}

    @property
    def idempotency_key(self) -> str:
        """The same for every try of this action of this run (Message-ID, webhook-id)."""
        return f"{self.run.id}_{self.index}"

    def email_template(self, name: str) -> EmailTemplate | None:
        return email_template_named(self.workspace.id, name)


@dataclass
class PreviewContext:
    """What the dry run knows when it previews one action: the automation, the template
    context a real run would render with, and where the action's config sits in the
    definition (template errors name that path)."""

    automation: Automation
    template_context: dict[str, Any]
    path: str
    # Email templates looked up by name once per dry run, not once per action.
    _email_templates: dict[str, EmailTemplate | None] = field(default_factory=dict)

    def email_template(self, name: str) -> EmailTemplate | None:
        if name not in self._email_templates:
            self._email_templates[name] = email_template_named(self.automation.workspace_id, name)
        return self._email_templates[name]


class Action:
    type: ClassVar[str]
    # The builder's name for the type, in plain words ("Send an email").
    label: ClassVar[str]
    # True: the action only writes to this database, so the executor runs it inside the
    # transaction that also records its ActionRun and advances the run (exactly once).
    # False: it talks to the outside world (at least once, with a stable idempotency key).
    transactional: ClassVar[bool] = False
    # Whether the config's strings are templates, rendered before execute (a delay's are not).
    templated: ClassVar[bool] = True
    # True when execute() returns Park: the executor then parks the run instead of logging a
    # running step first (nothing outside is called, there is nothing to repeat).
    parks: ClassVar[bool] = False
    # The fixed values a config key may take (config key -> values), which the builder's form
    # offers as choices and validate() accepts: one list for both.
    choices: ClassVar[Mapping[str, tuple[str, ...]]] = {}

    def validate(self, config: Mapping[str, Any], ctx: DefinitionContext, path: str) -> Problems:
        """The problems of this config at save time, each as (path, message)."""
        raise NotImplementedError

    def normalize(self, config: dict[str, Any]) -> dict[str, Any]:
        """The config as stored, with documented defaults filled in."""
        return config

    def preview(self, config: Mapping[str, Any], ctx: PreviewContext) -> dict[str, Any]:
        """The dry run's view of this action: its config rendered exactly as the executor
        renders it, or the render error the run would fail with."""
        if not self.templated:
            return {"type": self.type, "config": config}
        try:
            rendered = render_value(config, ctx.template_context, path=ctx.path)
        except TemplateError as err:
            # A render error is what the real run would fail with; show it instead of failing.
            return {
                "type": self.type,
                "config": config,
                "error": {"code": "template_render_failed", "message": str(err)},
            }
        return {"type": self.type, "config": rendered}

    @staticmethod
    def rendered_config(preview: Mapping[str, Any]) -> dict[str, Any] | None:
        """The config a default preview rendered, or None when it holds an error already (an
        override adds what its send would do only to a config that rendered cleanly)."""
        config = preview["config"]
        return config if "error" not in preview and isinstance(config, dict) else None

    def execute(self, config: Mapping[str, Any], ctx: ActionContext) -> Result:
        raise NotImplementedError

    def max_seconds(self, config: Mapping[str, Any]) -> float:
        """How long execute() can take with this (rendered) config, for actions that talk to
        the outside world: the executor holds the run's lease at least this long, so the relay
        never hands the run to another worker in the middle of the call (which would repeat
        it). 0 when the lease as configured is enough."""
        return 0.0
