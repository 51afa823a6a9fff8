"""An import of another app made inside a function hides a dependency from whoever reads the top of the
module (import-linter still sees it, see [tool.importlinter] in pyproject.toml): it is allowed only with
a comment, on its line or the line above, that says why it cannot be at the top."""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src" / "lapor"
# A comment of fewer words (a lint marker, "why") says nothing.
MINIMUM_REASON_WORDS = 3


def _app_of(path: Path) -> str:
    """The app a module belongs to: its package under lapor/, or the module itself (urls, cli)."""
    return path.relative_to(SOURCE).parts[0].removesuffix(".py")


def _imported_apps(node: ast.Import | ast.ImportFrom) -> set[str]:
    if isinstance(node, ast.ImportFrom):
        if node.level or node.module is None:
            return set()
        if node.module == "lapor":
            return {alias.name for alias in node.names}
        modules = [node.module]
    else:
        modules = [alias.name for alias in node.names]
    return {module.split(".")[1] for module in modules if module.startswith("lapor.")}


def _comments(source: str) -> dict[int, str]:
    """The text of each line's comment, by line number (noqa and type-ignore markers left out)."""
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            text = token.string.lstrip("#").strip()
            if not text.startswith(("noqa", "type:")):
                comments[token.start[0]] = text
    return comments


def _function_imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    found: list[ast.Import | ast.ImportFrom] = []
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            found.extend(node for node in ast.walk(function) if isinstance(node, ast.Import | ast.ImportFrom))
    return found


def _reason(
    node: ast.Import | ast.ImportFrom, lines: list[str], import_lines: set[int], comments: dict[int, str]
) -> str:
    """The comment on the import's line, else the one just above it or above the group of imports it
    belongs to (one comment may explain a few imports written together)."""
    if node.lineno in comments:
        return comments[node.lineno]
    line = node.lineno - 1
    while line > 0 and (line in import_lines or not lines[line - 1].strip()):
        line -= 1
    return comments.get(line, "")


def unexplained_imports(path: Path, source: str) -> list[str]:
    """``path:line`` of each import of another lapor app inside a function with no comment saying why."""
    app, comments, lines = _app_of(path), _comments(source), source.splitlines()
    imports = _function_imports(ast.parse(source))
    import_lines = {line for node in imports for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)}
    problems = set()
    for node in imports:
        if not _imported_apps(node) - {app}:
            continue
        reason = _reason(node, lines, import_lines, comments)
        if len(reason.split()) < MINIMUM_REASON_WORDS:
            problems.add(f"{path.relative_to(SOURCE.parent)}:{node.lineno}")
    return sorted(problems)


def test_imports_of_another_app_inside_a_function_say_why():
    problems = [
        problem
        for path in sorted(SOURCE.rglob("*.py"))
        if "migrations" not in path.parts
        for problem in unexplained_imports(path, path.read_text(encoding="utf-8"))
    ]
    assert problems == [], "Import at the top of the module, or say why not in a comment: " + ", ".join(problems)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Another app inside a function, no reason: found.
        ("def f():\n    from lapor.notifications.services import notify\n", 1),
        ("def f():\n    import lapor.accounts.models\n", 1),
        ("def f():\n    from lapor import accounts\n", 1),
        # A marker or one word is no reason.
        ("def f():\n    from lapor.accounts import models  # noqa: PLC0415\n", 1),
        ("def f():\n    # lazy\n    from lapor.accounts import models\n", 1),
        # A reason on the line above, or on the line itself.
        (
            "def f():\n    # Accounts import this module at start-up.\n    from lapor.accounts import models\n",
            0,
        ),
        ("def f():\n    from lapor.accounts import models  # loaded late: a cycle at start-up\n", 0),
        # Above a group of imports written together.
        (
            "def f():\n    # Once the apps are loaded.\n    import json\n\n    from lapor.accounts import models\n",
            0,
        ),
        # A comment above code that comes before the import is not its reason.
        ("def f():\n    # Once the apps are loaded.\n    x = 1\n    from lapor.accounts import models\n", 1),
        # The app's own modules, top-level imports and other packages are not this rule's business.
        ("def f():\n    from lapor.reports.tasks import run\n", 0),
        ("from lapor.accounts.models import User\n", 0),
        ("def f():\n    from django_tasks_db.models import DBTaskResult\n", 0),
    ],
)
def test_the_check_finds_what_it_should(source, expected):
    assert len(unexplained_imports(SOURCE / "reports" / "example.py", source)) == expected


def _lapor_imports(path: Path) -> set[str]:
    """Every lapor module ``path`` imports, wherever the import stands (top, function, TYPE_CHECKING)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            found.update(
                [f"{node.module}.{alias.name}" for alias in node.names] if node.module == "lapor" else [node.module]
            )
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {module for module in found if module.startswith("lapor.")}


def test_institutions_import_nothing_from_accounts():
    """accounts builds on institutions (memberships point at institutions, permissions reach their
    subtrees), so the door that reads memberships lives in accounts and institutions never looks up."""
    importing = {
        f"{path.relative_to(SOURCE.parent)}: {module}"
        for path in sorted((SOURCE / "institutions").rglob("*.py"))
        for module in _lapor_imports(path)
        if module == "lapor.accounts" or module.startswith("lapor.accounts.")
    }
    assert importing == set()
