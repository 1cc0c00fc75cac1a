"""The test tree stays livable: shared builders live in tests/helpers, never in another test module."""

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def test_no_test_module_imports_another_test_module():
    offenders = []
    for path in sorted(TESTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [alias.name for alias in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.relative_to(TESTS)}: {name}" for name in names
                          if name.startswith("tests.") and (name.split(".")[-1].startswith("test_")
                                                            or name == "tests.conftest")]
    assert offenders == [], "move what they share into tests/helpers"
