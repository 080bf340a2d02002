"""Every worked case of refund/tests/data/refund-examples.json, through assess() and through the command."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from refund.rules import CONTRACT_KEYS, CaseError
from refund.tests.builders import decide, failed, load

EXAMPLES = load("refund-examples.json")
MANAGE = Path(settings.BASE_DIR) / "manage.py"


def _check(expect: dict, out: dict) -> None:
    for key, value in expect.items():
        if key == "failed_conditions":
            assert failed(out) == value
        else:
            assert out[key] == value, key


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_example_through_assess(example):
    if example["expect_exit"] == 2:
        with pytest.raises(CaseError) as info:
            decide(example["input"])
        assert info.value.code == example["expect"]["error"]
        return
    out = decide(example["input"])
    assert tuple(out) == CONTRACT_KEYS
    _check(example["expect"], out)


def run_command(path_or_dash: str, stdin: str | None = None) -> tuple[int, str]:
    """call_command, capturing stdout; the exit code travels in SystemExit."""
    stdout = io.StringIO()
    old_stdin = sys.stdin
    if stdin is not None:
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8")), encoding="utf-8")
    try:
        call_command("refund_assess", path_or_dash, stdout=stdout)
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.stdin = old_stdin
    return code, stdout.getvalue()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["id"] for e in EXAMPLES])
def test_example_through_call_command(example, tmp_path):
    path = tmp_path / "case.json"
    path.write_text(json.dumps(example["input"], ensure_ascii=False), encoding="utf-8")
    code, text = run_command(str(path))
    assert code == example["expect_exit"]
    out = json.loads(text)
    if code == 2:
        assert set(out) == {"error", "message"}
        assert out["error"] == example["expect"]["error"]
        assert out["message"]
    else:
        assert list(out) == list(CONTRACT_KEYS)
        _check(example["expect"], out)


def _subprocess(args: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    return subprocess.run(
        [sys.executable, str(MANAGE), "refund_assess", *args],
        input=stdin,
        capture_output=True,
        env=env,
        cwd=str(MANAGE.parent),
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("example_id", ["E1-2019-general-60pct", "E5-2025-class1-manufacturing", "E8-bad-period"])
def test_real_command_with_file(example_id, tmp_path):
    example = next(e for e in EXAMPLES if e["id"] == example_id)
    path = tmp_path / "case.json"
    path.write_text(json.dumps(example["input"]), encoding="utf-8")
    done = _subprocess([str(path)])
    assert done.returncode == example["expect_exit"]
    out = json.loads(done.stdout)  # stdout is exactly one JSON object
    assert b"Traceback" not in done.stderr
    if example["expect_exit"] == 0:
        assert list(out) == list(CONTRACT_KEYS)
        _check(example["expect"], out)
    else:
        assert out["error"] == example["expect"]["error"]


def test_real_command_reads_stdin_and_refuses_garbage():
    example = EXAMPLES[1]
    done = _subprocess(["-"], stdin=json.dumps(example["input"]).encode())
    assert done.returncode == 0
    assert json.loads(done.stdout)["refundable_total"] == example["expect"]["refundable_total"]

    garbage = _subprocess(["-"], stdin=b"\xff\xfe{not json")
    assert garbage.returncode == 2
    assert json.loads(garbage.stdout)["error"] == "invalid_json"
    assert b"Traceback" not in garbage.stderr


def test_real_command_missing_file_is_a_clean_error(tmp_path):
    done = _subprocess([str(tmp_path / "nope.json")])
    assert done.returncode == 2
    assert json.loads(done.stdout)["error"] == "invalid_json"
