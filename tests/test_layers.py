"""The import rules of docs/architecture.md, checked on the source (AST, nothing imported)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "reviewbot"
MODULES = sorted(p for p in PKG.rglob("*.py"))


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PKG.parent).with_suffix("").parts
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # resolve relative imports against this module's package
                base = list(rel[: len(rel) - node.level])
                mod = ".".join(base + ([node.module] if node.module else []))
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
            elif node.module:
                out.add(node.module)
    return out


def name(path: Path) -> str:
    return path.relative_to(PKG.parent).with_suffix("").as_posix().replace("/", ".")


RULES = [
    # (modules the rule is about, forbidden import prefix, allowed importers)
    ("unidiff", {"reviewbot.diff.parse"}),
    ("torch", {"reviewbot.backends.local", "reviewbot.index.vectors"}),  # vectors: the MiniLM embedder
    ("transformers", {"reviewbot.backends.local", "reviewbot.index.vectors"}),
    ("xgrammar", {"reviewbot.backends.local"}),
    ("reviewbot.platforms", {"reviewbot.platforms.cli", "reviewbot.platforms"}),
]


@pytest.mark.parametrize(("prefix", "allowed"), RULES)
def test_only_the_named_modules_import(prefix: str, allowed: set[str]) -> None:
    offenders = [
        name(p) for p in MODULES
        if name(p) not in allowed and name(p).removesuffix(".__init__") not in allowed
        and any(i == prefix or i.startswith(prefix + ".") for i in imports(p))
    ]  # fmt: skip
    assert offenders == []


@pytest.mark.parametrize("layer", ["reviewbot.model", "reviewbot.errors", "reviewbot.ports"])
def test_the_bottom_layer_imports_nothing_of_ours_but_itself(layer: str) -> None:
    path = PKG.parent / (layer.replace(".", "/") + ".py")
    ours = {i for i in imports(path) if i.startswith("reviewbot")}
    assert ours <= {"reviewbot.model", "reviewbot.model.ChangeSet", "reviewbot.model.Finding",
                    "reviewbot.model.Result", "reviewbot.model.Skipped", "reviewbot.model.WorkItem"}  # fmt: skip


def test_routes_never_import_hosts_reporters_or_platforms() -> None:
    for p in (PKG / "routes").glob("*.py"):
        bad = {i for i in imports(p) if i.startswith(("reviewbot.hosts", "reviewbot.reporters", "reviewbot.platforms"))}
        assert bad == set(), p.name


def test_only_config_reads_reviewbot_settings_from_the_environment() -> None:
    import re

    pattern = re.compile(r"environ(\.get)?\s*[\[(]\s*[\"']REVIEWBOT_|getenv\(\s*[\"']REVIEWBOT_")
    readers = [name(p) for p in MODULES if pattern.search(p.read_text(encoding="utf-8"))]
    assert readers == []  # config.py reads them through its ENV_KEYS table, from the mapping it is given
    assert "REVIEWBOT_BACKEND" in (PKG / "config.py").read_text(encoding="utf-8")
