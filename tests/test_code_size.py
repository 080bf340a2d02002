"""No file longer than 600 lines, no function more complex than 20 (cyclomatic, as radon counts it).

Which files: every ``.py`` file of the repository except migrations, tests (the top-level
``tests/``, each app's ``tests/``, ``conftest.py``), hidden folders (``.venv``), ``node_modules``,
``static`` and ``var``. The rules' parameter tables (``<app>/rules/parameters*.py``: dated values
and their citations, no logic to split) are exempt from the line limit only.

Lines are physical lines (what ``wc -l`` says; radon's raw ``loc`` gives the same figure but takes
seconds to tokenize the tree). Complexity is radon's ``cc`` figure for every function, method and
nested function (``Class.method``, ``outer.inner``).

An exception would be listed below with its current figure; both lists are empty. The test fails on
a new offender, when a listed one grows beyond its figure, and when a listed one no longer offends
(remove it from the list): the lists only shrink.
"""

from __future__ import annotations

import fnmatch
import functools
import os
from pathlib import Path

import pytest
from radon.complexity import add_inner_blocks, cc_visit
from radon.visitors import Function

ROOT = Path(__file__).resolve().parent.parent
MAX_LINES = 600
MAX_COMPLEXITY = 20

SKIPPED_FOLDERS = frozenset({"migrations", "tests", "node_modules", "static", "var", "__pycache__"})
SKIPPED_FILES = ("conftest.py",)
PARAMETER_TABLES = ("*/rules/parameters*.py",)  # exempt from MAX_LINES, not from MAX_COMPLEXITY

# file → its length, for a file allowed over MAX_LINES while it waits to be split. Empty, and should stay so.
LONG_FILES: dict[str, int] = {}

# "file::function" → its complexity, for a function allowed over MAX_COMPLEXITY. Empty, and should stay so.
COMPLEX_FUNCTIONS: dict[str, int] = {}


def source_files() -> list[str]:
    paths = []
    for folder, subfolders, names in os.walk(ROOT):
        subfolders[:] = [name for name in subfolders if not name.startswith(".") and name not in SKIPPED_FOLDERS]
        for name in names:
            if name.endswith(".py") and name not in SKIPPED_FILES:
                paths.append((Path(folder) / name).relative_to(ROOT).as_posix())
    return sorted(paths)


def function_complexities(source: str) -> dict[str, int]:
    """Every function's complexity by its name in the file; a name defined twice keeps the larger."""
    found: dict[str, int] = {}
    for block in add_inner_blocks(cc_visit(source)):
        if isinstance(block, Function):
            found[block.fullname] = max(block.complexity, found.get(block.fullname, 0))
    return found


@functools.cache
def measure() -> tuple[dict[str, int], dict[str, int]]:
    """(lines of every file, complexity of every function) of the checked files."""
    lines, complexity = {}, {}
    for path in source_files():
        source = (ROOT / path).read_text(encoding="utf-8")
        if not any(fnmatch.fnmatch(path, pattern) for pattern in PARAMETER_TABLES):
            lines[path] = len(source.splitlines())
        for name, value in function_complexities(source).items():
            complexity[f"{path}::{name}"] = value
    return lines, complexity


def over_limit(measured: dict[str, int], limit: int, allowed: dict[str, int], what: str) -> list[str]:
    problems = []
    for name, value in sorted(measured.items()):
        if value <= limit:
            continue
        if name not in allowed:
            problems.append(f"{name}: {what} {value}, the limit is {limit}")
        elif value > allowed[name]:
            problems.append(f"{name}: {what} {value}, grown beyond the {allowed[name]} it is allowed until it is split")
    return problems


def test_files_stay_short():
    problems = over_limit(measure()[0], MAX_LINES, LONG_FILES, "lines")
    if problems:
        pytest.fail("files too long (split them):\n" + "\n".join(problems), pytrace=False)


def test_functions_stay_simple():
    problems = over_limit(measure()[1], MAX_COMPLEXITY, COMPLEX_FUNCTIONS, "cyclomatic complexity")
    if problems:
        pytest.fail("functions too complex (split them):\n" + "\n".join(problems), pytrace=False)


@pytest.mark.parametrize(
    ("allowed", "index", "limit", "name"),
    [(LONG_FILES, 0, MAX_LINES, "LONG_FILES"), (COMPLEX_FUNCTIONS, 1, MAX_COMPLEXITY, "COMPLEX_FUNCTIONS")],
)
def test_allowlists_only_shrink(allowed, index, limit, name):
    measured = measure()[index]
    gone = [f"{key} (now {measured.get(key, 'gone')})" for key in sorted(allowed) if measured.get(key, 0) <= limit]
    if gone:
        pytest.fail(f"no longer over the limit, remove from {name} in tests/test_code_size.py:\n" + "\n".join(gone))


def test_the_checker_sees_the_tree_and_measures_like_radon():
    lines, complexity = measure()
    assert "refund/models/applications.py" in lines
    assert "refund/rules/parameters.py" not in lines  # a parameter table
    assert not any("/migrations/" in path or path.startswith("tests/") or "/tests/" in path for path in lines)
    assert any(key.startswith("refund/rules/parameters.py::") for key in complexity)
    source = (
        "def flat(x):\n"
        "    return x\n"
        "class Box:\n"
        "    def pick(self, x):\n"
        "        if x and self:\n"  # if +1, and +1
        "            return [y for y in x if y]\n"  # comprehension +1, its if +1
        "        def inner(z):\n"
        "            return 1 if z else 2\n"  # +1
        "        return inner\n"
    )
    assert function_complexities(source) == {"flat": 1, "Box.pick": 5, "pick.inner": 2}
    assert over_limit({"a.py": 30, "b.py": 45, "c.py": 5}, 20, {"a.py": 40, "b.py": 40}, "lines") == [
        "b.py: lines 45, grown beyond the 40 it is allowed until it is split"
    ]
    assert over_limit({"d.py": 21}, 20, {}, "lines") == ["d.py: lines 21, the limit is 20"]
