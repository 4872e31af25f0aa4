"""The per-automation limit on inbound webhook deliveries (AUTOMATIONS_WEBHOOK_RATE_LIMIT),
counted as config.ratelimit counts every limit.

For an automation with a secret only correctly signed deliveries count, so someone who merely
knows the URL cannot use up the sender's budget; unsigned requests are refused with 401 at the
cost of one HMAC. Without a secret every request counts.
"""

from __future__ import annotations

from django.conf import settings

from automations.models import Automation
from config.cache_guard import FailOpen
from config.ratelimit import enforce

_guard = FailOpen("Inbound webhook rate limit")


def limit_inbound_webhook(*, automation: Automation) -> None:
    """Called by webhooks_inbound.receive once the signature (if any) is verified, so that
    unsigned requests to a signed automation cannot use up its deliveries."""
    enforce(
        f"webhook:{automation.id}",
        settings.AUTOMATIONS_WEBHOOK_RATE_LIMIT,
        "webhook deliveries for this automation",
        guard=_guard,
    )
