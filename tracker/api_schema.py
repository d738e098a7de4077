"""Additions to the generated OpenAPI schema that drf-spectacular cannot infer.

Named in SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]; runs after the enum hook.
"""

from __future__ import annotations

import re
from typing import Any

from drf_standardized_errors.settings import package_settings

UNKNOWN_FIELD_ERROR = "UnknownFieldError"
UNKNOWN_FIELD_CODE = "unknown_field"


def _component(schemas: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    reference = schema.get("$ref", "")
    return schemas.get(reference.rsplit("/", 1)[-1], schema) if reference else schema


def _validation_error_items(operation: dict[str, Any], schemas: dict[str, Any]) -> Any:
    """The schema of one item of `errors` in the operation's 400 validation error, if any."""
    content = operation.get("responses", {}).get("400", {}).get("content", {})
    body = content.get("application/json", {}).get("schema")
    if body is None:
        return None
    body = _component(schemas, body)
    for candidate in [body, *(_component(schemas, one) for one in body.get("oneOf", []))]:
        errors = candidate.get("properties", {}).get("errors", {})
        if "items" in errors and candidate.get("properties", {}).get("type"):
            return _component(schemas, errors["items"])
    return None


def document_unknown_fields(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Let every write's 400 name a key the client sent that the serializer does not know.

    Strict serializers (`tracker.api.StrictSerializerMixin`) answer an unknown
    key with an error whose `attr` is that key, which no per-field error
    component generated from the serializer can list.
    """
    schemas = result.get("components", {}).get("schemas", {})
    reference = {"$ref": f"#/components/schemas/{UNKNOWN_FIELD_ERROR}"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in ("post", "put", "patch") or "requestBody" not in operation:
                continue
            items = _validation_error_items(operation, schemas)
            if items is not None and "oneOf" in items and reference not in items["oneOf"]:
                items["oneOf"].append(reference)
                schemas[UNKNOWN_FIELD_ERROR] = {
                    "type": "object",
                    "description": "A key of the request body that cannot be written.",
                    "properties": {
                        "attr": {"type": "string"},
                        "code": {"type": "string", "enum": [UNKNOWN_FIELD_CODE]},
                        "detail": {"type": "string"},
                    },
                    "required": ["attr", "code", "detail"],
                }
    return result


def _attr_pattern(name: str) -> str:
    """A regular expression for an attr with list-index and dict-key placeholders."""
    placeholders: dict[str, str] = {
        package_settings.LIST_INDEX_IN_API_SCHEMA: r"\d+",
        package_settings.DICT_KEY_IN_API_SCHEMA: r"[^.]+",
    }
    separator: str = package_settings.NESTED_FIELD_SEPARATOR
    parts = [placeholders.get(part, re.escape(part)) for part in name.split(separator)]
    return "^" + re.escape(separator).join(parts) + "$"


def document_nested_attrs(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Let an error's attr be `event_types.0` where the schema lists `event_types.INDEX`.

    drf-standardized-errors documents a list item's attr with a placeholder
    in an enum, while the API answers with the real index.
    """
    placeholders = {
        package_settings.LIST_INDEX_IN_API_SCHEMA,
        package_settings.DICT_KEY_IN_API_SCHEMA,
    }
    separator = package_settings.NESTED_FIELD_SEPARATOR
    for component in result.get("components", {}).get("schemas", {}).values():
        attr = component.get("properties", {}).get("attr", {})
        names = attr.get("enum") or []
        if len(names) == 1 and placeholders & set(str(names[0]).split(separator)):
            del attr["enum"]
            attr["pattern"] = _attr_pattern(names[0])
    return result
