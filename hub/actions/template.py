"""Action templates: ``{{ path }}`` placeholders over an event, in a JSON body or a message (no code, no eval).

A path is dotted names (``data.object.customer``, ``fields.email``, ``items.0.sku``), looked up as the triggers'
``when`` does; a missing one is null. In a JSON body, a string that is exactly one placeholder takes the value with its JSON
type (a number stays a number, an object an object); placeholders inside longer text are formatted as text (null as
empty). Keys are not templated. ``{{ path | default }}`` gives a fallback text for a missing value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from hub.errors import TemplateError

__all__ = ["TemplateError", "check", "lookup", "render", "text"]

_PLACEHOLDER = re.compile(r"\{\{\s*([^{}|]*?)\s*(?:\|\s*([^{}]*?)\s*)?\}\}")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
MAX_DEPTH = 32


def check(template: Any, depth: int = 0) -> None:
    """Raise :class:`TemplateError` for a template with an unreadable placeholder or an unusable shape."""
    if depth > MAX_DEPTH:
        raise TemplateError(f"nests more than {MAX_DEPTH} deep")
    if isinstance(template, str):
        for m in _PLACEHOLDER.finditer(template):
            if not _PATH.match(m.group(1)):
                raise TemplateError(f"placeholder {m.group(0)!r} must name a dotted path such as data.object.id")
        if "{{" in _PLACEHOLDER.sub("", template):
            raise TemplateError(f"unclosed or malformed placeholder in {template!r}")
    elif isinstance(template, Mapping):
        for value in template.values():
            check(value, depth + 1)
    elif isinstance(template, list):
        for value in template:
            check(value, depth + 1)
    elif not (template is None or isinstance(template, (bool, int, float))):
        raise TemplateError(f"a {type(template).__name__} cannot be part of a JSON body")


def render(template: Any, context: Mapping[str, Any]) -> Any:
    """The template with its placeholders filled from ``context`` (JSON-ready)."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template.strip())
        if whole is not None:
            value = lookup(context, whole.group(1))
            return whole.group(2) if value is None and whole.group(2) is not None else _json_ready(value)
        return text(template, context)
    if isinstance(template, Mapping):
        return {str(k): render(v, context) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, context) for v in template]
    return template


def text(template: str, context: Mapping[str, Any]) -> str:
    """A message template filled in as text."""

    def fill(m: re.Match[str]) -> str:
        value = lookup(context, m.group(1))
        if value is None:
            return m.group(2) or ""
        if isinstance(value, (dict, list)):
            return orjson.dumps(value, default=str).decode()
        return str(value)

    return _PLACEHOLDER.sub(fill, template)


def lookup(context: Any, path: str) -> Any:
    value = context
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _json_ready(value: Any) -> Any:
    return orjson.loads(orjson.dumps(value, default=str))
