"""The JSON Schema of ``artlens.assess/1`` reports and their validation.

Validation uses :mod:`jsonschema` when it is importable. ``jsonschema`` is only a development extra, so
without it :func:`validate_report` falls back to a small built-in interpreter of the schema keywords that
``assess-1.json`` uses (``type``, ``const``, ``enum``, ``pattern``, ``minLength``, ``minimum``,
``required``, ``properties``, ``additionalProperties``, ``items``, local ``$ref``); it checks the same
structure but words its messages a little differently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from artlens.assess.policy import VERDICTS
from artlens.errors import ArtlensError
from artlens.schemas import read_schema

__all__ = ["SCHEMA_ID", "load_schema", "validate_report"]

SCHEMA_ID = "artlens.assess/1"

Report = Mapping[str, Any]




def load_schema() -> dict[str, Any]:
    """Return the JSON Schema of ``artlens.assess/1`` (a fresh dict on every call).

    Returns
    -------
    dict
        The draft 2020-12 schema, read from the package data ``artlens/schemas/assess-1.json``.
    """
    return read_schema("assess")


def validate_report(report: Report) -> None:
    """Check that ``report`` is a valid ``artlens.assess/1`` report.

    Parameters
    ----------
    report : mapping
        The report dict, as made by :func:`artlens.assess.pipeline.run_assessment`.

    Raises
    ------
    ArtlensError
        On the first problem found, naming its JSON path (``$.images[0].verdict``) and what is wrong.

    Notes
    -----
    The structure is checked against :func:`load_schema` with :mod:`jsonschema` when it is installed, else
    with a built-in interpreter of the subset of keywords the schema uses. Beyond the schema, the counts in
    ``summary`` must agree with ``images`` and ``errors``, and each check's ``passed`` with its ``status``.
    """
    problem = _schema_problem(report, load_schema())
    if problem is None:
        problem = _consistency_problem(report)
    if problem is not None:
        where, message = problem
        raise ArtlensError(f"invalid {SCHEMA_ID} report at {where}: {message}")


def _schema_problem(report: Report, schema: dict[str, Any]) -> tuple[str, str] | None:
    try:
        import jsonschema
    except ImportError:
        return _builtin_problem(report, schema, schema, "$")
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(report))
    if error is None:
        return None
    return error.json_path, error.message


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": _is_integer,
}


def _builtin_problem(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any],
                     where: str) -> tuple[str, str] | None:
    """First problem of ``value`` against ``schema`` (the keyword subset used by assess-1.json), or None."""
    import re

    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ArtlensError(f"schema reference {ref!r} is not supported by the built-in validator")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        problem = _builtin_problem(value, target, root, where)
        if problem is not None:
            return problem
    if "const" in schema and value != schema["const"]:
        return where, f"{value!r} was expected to be {schema['const']!r}"
    if "enum" in schema and value not in schema["enum"]:
        return where, f"{value!r} is not one of {schema['enum']!r}"
    if "type" in schema:
        types = [schema["type"]] if isinstance(schema["type"], str) else schema["type"]
        if not any(_TYPE_TESTS[t](value) for t in types):
            return where, f"{value!r} is not of type {', '.join(repr(t) for t in types)}"
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return where, f"{value!r} is too short"
        if "pattern" in schema and re.search(schema["pattern"], value) is None:
            return where, f"{value!r} does not match {schema['pattern']!r}"
    if _TYPE_TESTS["number"](value) and "minimum" in schema and value < schema["minimum"]:
        return where, f"{value!r} is less than the minimum of {schema['minimum']!r}"
    if _TYPE_TESTS["number"](value) and "maximum" in schema and value > schema["maximum"]:
        return where, f"{value!r} is greater than the maximum of {schema['maximum']!r}"
    if isinstance(value, list):
        low, high = schema.get("minItems", 0), schema.get("maxItems", len(value))
        if not low <= len(value) <= high:
            return where, f"{value!r} should have {low} to {high} items"
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                return where, f"{key!r} is a required property"
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            path = f"{where}.{key}"
            if key in properties:
                problem = _builtin_problem(item, properties[key], root, path)
            elif extra is False:
                problem = where, f"Additional properties are not allowed ({key!r} was unexpected)"
            elif isinstance(extra, dict):
                problem = _builtin_problem(item, extra, root, path)
            else:
                problem = None
            if problem is not None:
                return problem
    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            problem = _builtin_problem(item, schema["items"], root, f"{where}[{index}]")
            if problem is not None:
                return problem
    return None


def _consistency_problem(report: Report) -> tuple[str, str] | None:
    """What the schema cannot say: summary counts, each check's ``passed`` flag and the reasons agree."""
    images, errors, summary = report["images"], report["errors"], report["summary"]
    for i, image in enumerate(images):
        behind = image.get("reason_checks")
        if behind is not None and [r["message"] for r in behind] != image["reasons"]:
            return f"$.images[{i}].reason_checks", "the messages do not match reasons"
        for j, check in enumerate(image["checks"]):
            if check["passed"] != (check["status"] == "pass"):
                return (f"$.images[{i}].checks[{j}].passed",
                        f"passed is {check['passed']} but status is {check['status']!r}")
    expected = {"assessed": len(images), "errors": len(errors)}
    expected.update({v: sum(1 for im in images if im["verdict"] == v) for v in VERDICTS})
    for key, count in expected.items():
        if summary[key] != count:
            return f"$.summary.{key}", f"{summary[key]!r} does not match the report, which has {count}"
    return None
