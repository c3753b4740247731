"""Checks that keep text and JSON a database can store and a person can read.

PostgreSQL refuses NUL characters in text and in jsonb, UTF-8 cannot encode a lone surrogate, JSON
has no NaN or Infinity, and a document nested 100,000 deep overflows Python's recursion when
stored. Each check returns a message naming the problem (the caller adds the row), never raises.
"""
from __future__ import annotations

import math

from django.conf import settings

MAX_METADATA_DEPTH = 32


def max_text_length() -> int:
    return int(getattr(settings, "PARITY_MAX_TEXT_LENGTH", 10_000))


def text_problem(value: str, what: str = "text", *, limit: int | None = None) -> str | None:
    """Why ``value`` cannot be stored as ``what``, or None."""
    limit = max_text_length() if limit is None else limit
    if len(value) > limit:
        return f"{what} is {len(value):,} characters long; the limit is {limit:,} (PARITY_MAX_TEXT_LENGTH)"
    if "\x00" in value:
        return f"{what} contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return f"{what} contains an invalid character (a lone UTF-16 surrogate)"
    return None


def json_problem(value, what: str = "metadata", *, max_depth: int = MAX_METADATA_DEPTH) -> str | None:
    """Why the JSON value cannot be stored, or None; walks iteratively, so depth cannot crash it."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return f"{what} is nested more than {max_depth} levels deep"
        if isinstance(node, dict):
            for key, child in node.items():
                problem = text_problem(str(key), f"a {what} key", limit=200)
                if problem:
                    return problem
                stack.append((child, depth + 1))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node)
        elif isinstance(node, float) and not math.isfinite(node):
            return f"{what} contains {node!r}, which JSON cannot store (use null or a number)"
        elif isinstance(node, str):
            problem = text_problem(node, f"a {what} value")
            if problem:
                return problem
    return None
