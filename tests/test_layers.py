"""Data flows down (DESIGN.md, "Layers"): the package never imports Gradio, the tabs talk only to genmodels.tasks and
do no tensor work, and train/evaluate/tasks never branch on a family name (they read the recipe)."""

from __future__ import annotations

import ast
import re

import pytest

from .conftest import REPO

PACKAGE = sorted((REPO / "genmodels").rglob("*.py"))
UI = sorted((REPO / "ui").glob("*.py")) + [REPO / "app.py"]


def imported(path) -> set[str]:
    """Every module `path` imports, absolute (relative imports resolved against its package)."""
    tree = ast.parse(path.read_text())
    package = ".".join(path.relative_to(REPO).with_suffix("").parts[:-1])
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            names |= {module} | {f"{module}.{a.name}" for a in node.names}
    return names


@pytest.mark.parametrize("path", PACKAGE, ids=lambda p: str(p.relative_to(REPO)))
def test_the_package_never_imports_gradio(path):
    assert not {m for m in imported(path) if m.split(".")[0] == "gradio"}


@pytest.mark.parametrize("path", UI, ids=lambda p: str(p.relative_to(REPO)))
def test_tabs_talk_only_to_tasks_and_do_no_tensor_work(path):
    modules = imported(path)
    ours = {m for m in modules if m.startswith("genmodels")}
    assert all(m in ("genmodels", "genmodels.tasks") or m.startswith("genmodels.tasks.") for m in ours), ours
    assert not {m for m in modules if m.split(".")[0] in ("torch", "numpy")}


@pytest.mark.parametrize("path", ["genmodels/train.py", "genmodels/evaluate.py"])
def test_clis_hold_no_family_branches(path):
    text = (REPO / path).read_text()
    assert not re.search(r"family\s*==|isinstance\(model", text)


def test_tasks_decide_by_capabilities_not_by_names_or_families():
    for path in sorted((REPO / "genmodels" / "tasks").glob("*.py")):
        text = path.read_text()
        assert not re.search(r"family\s*==|\"[a-z0-9-]+-mnist\"|isinstance\([^)]*Model\)", text), path.name
