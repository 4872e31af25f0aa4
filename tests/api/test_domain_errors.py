"""config.errors is plain Python that the API's one handler turns into the error shape."""

import ast
import pickle
from pathlib import Path

from rest_framework.test import APIRequestFactory

from config.api.errors import api_exception_handler
from config.errors import DomainError, ValidationFailed, not_found

ERRORS_MODULE = Path(__file__).resolve().parents[2] / "config" / "errors.py"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_domain_errors_import_neither_django_nor_drf():
    roots = {name.split(".")[0] for name in _imported_modules(ERRORS_MODULE)}
    assert roots <= {"__future__", "typing"}


def _handled(exc: Exception):
    request = APIRequestFactory().get("/v1/x")
    return api_exception_handler(exc, {"request": request})


def test_a_domain_error_becomes_the_error_shape_with_its_status():
    response = _handled(DomainError("run_not_retryable", "No", status=409, details={"a": 1}))
    assert response.status_code == 409
    assert response.data == {
        "error": {"code": "run_not_retryable", "message": "No", "details": {"a": 1}}
    }


def test_a_domain_error_is_400_without_details_by_default():
    response = _handled(DomainError("invalid_body", "The form body is not UTF-8"))
    assert response.status_code == 400
    assert response.data["error"]["details"] is None


def test_validation_failed_names_every_path_and_repeats_the_first():
    error = ValidationFailed([("name", "is required"), ("name", "too short"), ("", "whole")])
    assert (error.code, error.status, str(error)) == ("validation_error", 400, "name: is required")
    assert error.details == {"name": ["is required", "too short"], "": ["whole"]}
    assert ValidationFailed({"": ["must be an object"]}).message == "must be an object"


def test_not_found_is_404_with_the_code_given():
    error = not_found("Record rec_1", "record_not_found")
    assert (error.code, error.message, error.status) == (
        "record_not_found",
        "Record rec_1 not found",
        404,
    )


def test_domain_errors_survive_pickling():
    # Celery and multiprocessing move exceptions between processes by pickling them.
    for error in (
        DomainError("conditions_not_met", "No", status=422, details={"x": [1]}),
        ValidationFailed([("a", "bad")]),
    ):
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
        assert (type(copy), copy.code, copy.message, copy.status, copy.details) == (
            type(error),
            error.code,
            error.message,
            error.status,
            error.details,
        )
