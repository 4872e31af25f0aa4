"""Action types: one module each, behind automations.actions.base.Action, registered here."""

from automations.actions.base import Action, ActionContext, ActionError
from automations.actions.call_webhook import CallWebhook
from automations.actions.create_record import CreateRecord
from automations.actions.delay import Delay
from automations.actions.send_email import SendEmail
from automations.actions.send_notification import SendNotification
from automations.actions.update_record import UpdateRecord

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

__all__ = ["ACTIONS", "Action", "ActionContext", "ActionError"]
