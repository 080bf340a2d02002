"""Calling a management command whose standard output is one JSON object, as outside callers do."""

import io
import json

from django.core.management import call_command


def json_command(name: str, *args) -> tuple[int, dict]:
    """(exit code, the JSON object printed) of ``manage.py <name> <args>``."""
    out = io.StringIO()
    try:
        call_command(name, *args, stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())
