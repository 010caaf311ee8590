"""One line that says what went wrong, for a message a user reads."""
from __future__ import annotations

import re


def describe_failure(exc: BaseException, limit: int = 300) -> str:
    """One line for a failure: the exception type and the line of its text that says what went
    wrong (a TorchScript error's first line only says that an operation failed; its last
    ``SomeError: ...`` line says which), at most ``limit`` characters."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r})"
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    nested = [m.group(1) for line in lines[1:] if (m := _NESTED_ERROR.match(line))]
    text = nested[-1] if nested else lines[0] if lines else ""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_NESTED_ERROR = re.compile(r"^[\w.]*(?:Error|Exception): (.+)$")
