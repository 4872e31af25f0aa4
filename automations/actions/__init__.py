"""Action types: one module each, behind automations.actions.base.Action, registered here.

ACTIONS is the only registry of action types: save-time validation, the dry run, the executor,
the API schema and the builder all read it. Adding a type is one module and one line below.
"""

from automations.actions.base import (
    Action,
    ActionContext,
    ActionError,
    Done,
    Park,
    PreviewContext,
    Result,
)
from automations.actions.call_webhook import CallWebhook
from automations.actions.create_record import CreateRecord
from automations.actions.delay import Delay
from automations.actions.send_email import SendEmail
from automations.actions.send_notification import SendNotification
from automations.actions.update_record import UpdateRecord

# In the builder's order (its "add an action" menu lists them so).
ACTIONS: dict[str, Action] = {
    action.type: action
    for action in (
        UpdateRecord(),
        CreateRecord(),
        SendEmail(),
        SendNotification(),
        CallWebhook(),
        Delay(),
    )
}

__all__ = [
    "ACTIONS",
    "Action",
    "ActionContext",
    "ActionError",
    "Done",
    "Park",
    "PreviewContext",
    "Result",
]
