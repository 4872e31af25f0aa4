"""Plain-Python automation engine: conditions, templates, schedules and delays.

No Django imports here: everything is tested without a database. The operator rules
(`engine.operators`) are the one source the builder's Python and JavaScript read too.
"""

from automations.engine.conditions import (
    ConditionError,
    ConditionsResult,
    evaluate_conditions,
    validate_conditions,
)
from automations.engine.durations import delay_seconds, validate_delay
from automations.engine.operators import (
    CHANGE_OPERATORS,
    FIELD_TYPES,
    NO_VALUE_OPERATORS,
    OPERATORS,
    offered_operators,
    operator_table,
)
from automations.engine.schedule import (
    describe_cron,
    next_run_after,
    next_runs,
    validate_cron,
    validate_timezone,
)
from automations.engine.templates import (
    TemplateError,
    build_context,
    format_datetime,
    render_string,
    render_value,
    validate_template_value,
)

__all__ = [
    "CHANGE_OPERATORS",
    "FIELD_TYPES",
    "NO_VALUE_OPERATORS",
    "OPERATORS",
    "ConditionError",
    "ConditionsResult",
    "TemplateError",
    "build_context",
    "delay_seconds",
    "describe_cron",
    "evaluate_conditions",
    "format_datetime",
    "next_run_after",
    "next_runs",
    "offered_operators",
    "operator_table",
    "render_string",
    "render_value",
    "validate_conditions",
    "validate_cron",
    "validate_delay",
    "validate_template_value",
    "validate_timezone",
]
