"""Plain-Python value rules every layer shares: the JSON policy, bounded numbers, moments and
timestamps, user ids.

They live outside `config`, `records` and `automations` because all three need them and the
import contracts (pyproject.toml) let none of those depend on the others in the ways that
would require: the engine imports neither Django nor `config`, and records import nothing of
automations. This package imports no Django and nothing of the app, so anyone may import it.
"""
