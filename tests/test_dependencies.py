"""The dependency order of the apps, checked on every import statement:

    demo → dashboards → risk → ledger → refund → credit → taxpayers → accounts → core
                  every app may use notify and core; notify imports only core

An app may import itself, the apps below it, ``notify`` and ``core``; ``notify`` imports only
``core``; ``core`` imports no other app (it is the neutral kernel, and ``notify`` imports it).
A ``rules/`` package inside an app (``refund/rules/``, ``credit/rules/``) is pure: it imports
the standard library, its own modules and the pure modules of ``core`` named in ``PURE_CORE``
(``core.periods``, ``core.industry``, ``core.contract``) only — no Django, no third-party library, no other
part of the project. The modules of ``PURE_CORE`` are held to the same rule (the standard library and each
other), so that what the rules stand on is pure too.

What is checked: every ``.py`` file under the app folders, every ``import`` and ``from … import``
statement anywhere in it (module level, inside functions, under ``if TYPE_CHECKING:``, in
``try`` blocks), relative imports resolved against the file's package. An app's own ``tests/``,
``migrations/`` and ``management/`` folders are part of the app and follow its rules: a test of
``accounts`` that needs ``refund`` belongs in the top-level ``tests/``. ``config``, ``tests``,
``bench``, ``scripts``, ``conftest.py`` and ``manage.py`` are outside the order and may import
anything; apps may import ``config`` (settings, the Celery app, the schedule registry) but not
``tests``, ``bench``, ``scripts``, ``conftest`` or ``manage``. Apps that do not exist yet are
simply absent. Not seen: names imported by string (``importlib.import_module(name)``,
``apps.get_model``, lazy ``"app.Model"`` foreign keys).

``ALLOWED`` is empty: every import follows the order. An entry there would be a debt with its reason,
and ``test_allowlist_only_shrinks`` fails as soon as one is no longer needed.
"""

from __future__ import annotations

import ast
import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# The dependency order, bottom first: an app may import the apps before it in this tuple.
ORDER = ("core", "accounts", "taxpayers", "credit", "refund", "ledger", "risk", "dashboards", "demo")
NOTIFY = "notify"
CORE = "core"
APPS = (*ORDER, NOTIFY)
# Top-level packages that are not apps: apps must not import these (config they may).
NOT_FOR_APPS = frozenset({"tests", "bench", "scripts", "conftest", "manage"})
# The modules of core that are pure Python (the standard library only): the rules may import these, by name.
PURE_CORE = frozenset({"core.contract", "core.industry", "core.periods"})

# (file, imported module) pairs allowed to break a rule, each with its reason. Empty, and should stay so.
ALLOWED: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Violation:
    path: str  # relative to the repository root, with "/"
    line: int
    statement: str  # the import statement (as ast.unparse writes it)
    module: str  # the imported module, relative imports resolved
    rule: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.path, self.module)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: `{self.statement}` imports {self.module}: {self.rule}"


def module_name(path: str) -> str:
    """``refund/rules/inputs.py`` → ``refund.rules.inputs``; ``refund/rules/__init__.py`` → ``refund.rules``."""
    parts = path.removesuffix(".py").split("/")
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(path: str, node: ast.ImportFrom) -> str:
    """The absolute module a ``from … import`` statement names (relative imports resolved)."""
    if not node.level:
        return node.module or ""
    package = module_name(path).split(".")
    if not path.endswith("/__init__.py"):
        package.pop()
    if node.level - 1 >= len(package):
        raise ValueError(f"{path}:{node.lineno}: relative import goes above the top-level package")
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(path: str, source: str) -> list[tuple[ast.Import | ast.ImportFrom, list[str]]]:
    """Every import statement of a file, wherever it stands, with the modules it imports.

    ``import a.b, c`` imports ``a.b`` and ``c``; ``from pkg import x, y`` imports ``pkg`` — except
    where ``pkg`` is a package enclosing a pure ``rules/`` package (``from .. import models`` in
    ``refund/rules/``): then what it imports is ``refund.models``, each name in turn.
    """
    pure = rules_package(path)
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            found.append((node, [alias.name for alias in node.names]))
        elif isinstance(node, ast.ImportFrom):
            module = resolve(path, node)
            if pure and pure.startswith(module + "."):
                found.append((node, [f"{module}.{alias.name}" for alias in node.names]))
            else:
                found.append((node, [module]))
    return found


def app_of(module: str) -> str:
    return module.split(".")[0]


def layer_rule(source_app: str, target: str) -> str | None:
    """Why ``source_app`` may not import ``target`` (None: it may)."""
    target_app = app_of(target)
    if target_app in NOT_FOR_APPS:
        return f"app code may not import {target_app} (tests, bench, scripts and manage.py sit outside the apps)"
    if target_app not in APPS or target_app == source_app:
        return None
    if source_app == CORE:
        return "core is the neutral kernel and imports no other app"
    if source_app == NOTIFY:
        return "notify imports only core" if target_app != CORE else None
    if target_app in (CORE, NOTIFY):
        return None
    if ORDER.index(target_app) < ORDER.index(source_app):
        return None
    below = ", ".join(reversed(ORDER[: ORDER.index(source_app)]))
    return (
        f"{source_app} may import only the apps below it ({below}) and notify; {target_app} is above it "
        f"(order: {' → '.join(reversed(ORDER))})"
    )


def rules_package(path: str) -> str | None:
    """``refund.rules`` for a file under ``refund/rules/``; None elsewhere."""
    parts = path.split("/")
    if len(parts) > 2 and parts[0] in APPS and parts[1] == "rules":
        return f"{parts[0]}.rules"
    return None


def pure_package(path: str) -> str | None:
    """What a file held pure belongs to: its ``rules/`` package, or itself for a module of ``PURE_CORE``."""
    return rules_package(path) or (module_name(path) if module_name(path) in PURE_CORE else None)


def purity_rule(package: str, target: str) -> str | None:
    """Why a module of the pure ``package`` may not import ``target`` (None: it may)."""
    if app_of(target) in sys.stdlib_module_names or target == package or target.startswith(package + "."):
        return None
    if target in PURE_CORE:
        return None
    allowed = ", ".join(sorted(PURE_CORE))
    return (
        f"{package.replace('.', '/')}{'/' if package not in PURE_CORE else ''} is pure: it imports only the standard "
        f"library, its own modules and the pure modules of core ({allowed}, by name)"
    )


def check_source(path: str, source: str) -> list[Violation]:
    """The violations of one file, given its path relative to the root (``refund/rules/inputs.py``)."""
    source_app = app_of(module_name(path))
    pure = pure_package(path)
    violations = []
    for node, targets in imports(path, source):
        for target in targets:
            for rule in (layer_rule(source_app, target), purity_rule(pure, target) if pure else None):
                if rule:
                    violations.append(Violation(path, node.lineno, ast.unparse(node), target, rule))
    return violations


def app_files() -> list[str]:
    paths = []
    for app in APPS:
        folder = ROOT / app
        if folder.is_dir():
            paths += [p.relative_to(ROOT).as_posix() for p in folder.rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(paths)


@functools.cache
def check_tree() -> list[Violation]:
    violations = []
    for path in app_files():
        violations += check_source(path, (ROOT / path).read_text(encoding="utf-8"))
    return violations


# --- the guard ---------------------------------------------------------------------------------


def test_imports_follow_the_dependency_order():
    found = [v for v in check_tree() if v.key not in ALLOWED]
    if found:
        pytest.fail("imports against the dependency order (ORDER):\n" + "\n".join(map(str, found)), pytrace=False)


def test_allowlist_only_shrinks():
    occurring = {v.key for v in check_tree()}
    gone = sorted(ALLOWED - occurring)
    if gone:
        listed = "\n".join(f"{path}: {module}" for path, module in gone)
        pytest.fail(f"no longer violated, remove from ALLOWED in tests/test_dependencies.py:\n{listed}", pytrace=False)


def test_the_apps_are_seen():
    files = app_files()
    assert any(path.startswith("refund/rules/") for path in files)
    assert any(path.startswith("credit/rules/") for path in files)
    assert all(rules_package(path) == "credit.rules" for path in files if path.startswith("credit/rules/"))
    assert {f"{module.replace('.', '/')}.py" for module in PURE_CORE} <= set(files)
    assert any(path.startswith("accounts/tests/") for path in files)
    assert len(files) > 100


# --- the checker catches what it should ---------------------------------------------------------


def modules(violations: list[Violation]) -> list[tuple[int, str]]:
    return [(v.line, v.module) for v in violations]


def test_checker_catches_an_import_upwards():
    source = (
        "from typing import TYPE_CHECKING\n"
        "from taxpayers.models import Taxpayer\n"
        "from notify import services\n"
        "from core.errors import ApplicationError\n"
        "if TYPE_CHECKING:\n"
        "    from ledger.models import Payment\n"
        "def f():\n"
        "    import risk.services as rs\n"
        "    from tests import helpers\n"
    )
    violations = check_source("refund/services.py", source)
    assert modules(violations) == [(6, "ledger.models"), (8, "risk.services"), (9, "tests")]
    assert "refund may import only the apps below it (credit, taxpayers, accounts, core)" in violations[0].rule
    assert str(violations[0]).startswith("refund/services.py:6: `from ledger.models import Payment` imports ledger")


def test_checker_keeps_notify_and_core_at_the_bottom():
    assert modules(check_source("notify/x.py", "import core.money\nfrom accounts import models\n")) == [(2, "accounts")]
    assert modules(check_source("core/x.py", "from notify.models import Message\n")) == [(1, "notify.models")]
    assert check_source("demo/x.py", "from dashboards import a\nfrom risk import b\nfrom config import c\n") == []


def test_checker_keeps_rules_pure():
    source = (
        "from __future__ import annotations\n"
        "from decimal import Decimal\n"
        "from .parameters import DOC_14\n"
        "from . import periods\n"
        "from ..models import Application\n"
        "from .. import selectors\n"
        "from django.utils import timezone\n"
        "import attr\n"
        "from taxpayers.industry import parse_industry_code\n"
        "from core.periods import Period\n"
        "import core.periods\n"
        "from core.money import parse_yuan\n"
        "from core import periods\n"
    )
    violations = check_source("refund/rules/conditions.py", source)
    assert modules(violations) == [
        (5, "refund.models"),
        (6, "refund.selectors"),
        (7, "django.utils"),
        (8, "attr"),
        (9, "taxpayers.industry"),
        (12, "core.money"),  # core, but not one of its pure modules
        (13, "core"),  # the pure modules are imported by name
    ]
    assert violations[0].rule.startswith("refund/rules/ is pure")
    assert "pure modules of core (core.contract, core.industry, core.periods, by name)" in violations[0].rule
    # The same imports outside rules/ are fine.
    assert check_source("refund/screening/conditions.py", source) == []


def test_checker_keeps_the_pure_core_pure():
    source = (
        "import re\nfrom datetime import date\n"
        "from django.db import models\nfrom .errors import ApplicationError\n"
    )
    violations = check_source("core/periods.py", source)
    assert modules(violations) == [(3, "django.db"), (4, "core.errors")]
    assert violations[0].rule.startswith("core/periods is pure")
    # The rest of core may use Django.
    assert check_source("core/fields.py", source) == []


def test_relative_imports_are_resolved():
    node = ast.parse("from ..ledger_bridge import x").body[0]
    assert resolve("refund/screening/services.py", node) == "refund.ledger_bridge"
    node = ast.parse("from . import x").body[0]
    assert resolve("refund/rules/__init__.py", node) == "refund.rules"
    assert resolve("refund/rules/assess.py", node) == "refund.rules"
