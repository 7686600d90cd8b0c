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
    ("torch", {"reviewbot.backends.local", "reviewbot.knowledge.vectors"}),  # vectors: the MiniLM embedder
    ("transformers", {"reviewbot.backends.local", "reviewbot.knowledge.vectors"}),
    ("xgrammar", {"reviewbot.backends.local"}),
    # the OpenVINO CPU runtime: its graph, its cache, its backend; llguidance for its JSON schemas
    (
        "openvino",
        {
            "reviewbot.backends.openvino_backend",
            "reviewbot.backends.ov_build",
            "reviewbot.backends.ov_cache",
            "reviewbot.backends.ov_compiled",
        },
    ),
    ("llguidance", {"reviewbot.backends.openvino_backend"}),
    ("gguf", {"reviewbot.backends.gguf_read"}),
    ("github", {"reviewbot.hosts.github.client", "reviewbot.hosts.github.retry"}),  # PyGithub
    ("gitlab", {"reviewbot.hosts.gitlab.client"}),  # python-gitlab
]


def test_nothing_outside_platforms_imports_platforms() -> None:
    offenders = [
        name(p)
        for p in MODULES
        if not name(p).startswith("reviewbot.platforms")
        and any(i.startswith("reviewbot.platforms") for i in imports(p))
    ]
    assert offenders == []


@pytest.mark.parametrize(("prefix", "allowed"), RULES)
def test_only_the_named_modules_import(prefix: str, allowed: set[str]) -> None:
    offenders = [
        name(p)
        for p in MODULES
        if name(p) not in allowed
        and name(p).removesuffix(".__init__") not in allowed
        and any(i == prefix or i.startswith(prefix + ".") for i in imports(p))
    ]
    assert offenders == []


@pytest.mark.parametrize(
    "layer", ["reviewbot.model", "reviewbot.errors", "reviewbot.ports", "reviewbot.retry"]
)
def test_the_bottom_layer_imports_nothing_of_ours_but_itself(layer: str) -> None:
    path = PKG.parent / (layer.replace(".", "/") + ".py")
    ours = {i for i in imports(path) if i.startswith("reviewbot")}
    assert ours <= {
        "reviewbot.model",
        "reviewbot.model.ChangeSet",
        "reviewbot.model.FileDiff",
        "reviewbot.model.Finding",
        "reviewbot.model.Result",
        "reviewbot.model.Skipped",
        "reviewbot.model.WorkItem",
    }


def test_routes_never_import_hosts_reporters_or_platforms() -> None:
    for p in (PKG / "routes").glob("*.py"):
        bad = {
            i
            for i in imports(p)
            if i.startswith(("reviewbot.hosts", "reviewbot.reporters", "reviewbot.platforms"))
        }
        assert bad == set(), p.name


def test_only_config_reads_reviewbot_settings_from_the_environment() -> None:
    import re

    pattern = re.compile(r"environ(\.get)?\s*[\[(]\s*[\"']REVIEWBOT_|getenv\(\s*[\"']REVIEWBOT_")
    readers = [name(p) for p in MODULES if pattern.search(p.read_text(encoding="utf-8"))]
    assert readers == []  # config.py reads them through its ENV_KEYS table, from the mapping it is given
    assert "REVIEWBOT_BACKEND" in (PKG / "config.py").read_text(encoding="utf-8")


def _module_names() -> dict[str, Path]:
    return {name(p).removesuffix(".__init__"): p for p in MODULES}


def test_the_pipeline_imports_no_reporter_and_no_runner() -> None:
    mods = [
        p
        for n, p in _module_names().items()
        if n == "reviewbot.pipeline" or n.startswith("reviewbot.pipeline.")
    ]
    assert mods
    for p in mods:
        bad = {i for i in imports(p) if i.startswith(("reviewbot.reporters", "reviewbot.runners"))}
        assert bad == set(), name(p)


def _builds_line_set(tree: ast.AST) -> bool:
    """A comprehension over some hunk's ``.lines`` that yields (or keys by) ``new_no``/``old_no``."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.SetComp, ast.ListComp, ast.GeneratorExp, ast.DictComp)):
            elt = node.key if isinstance(node, ast.DictComp) else node.elt
            numbers = isinstance(elt, ast.Attribute) and elt.attr in ("new_no", "old_no")
            over_lines = any(
                isinstance(g.iter, ast.Attribute) and g.iter.attr == "lines" for g in node.generators
            )
            if numbers and over_lines:
                return True
    return False


# modules of other parts of the restructuring that still build their own line sets; each moves to
# diff/ (``added_numbers``, ``DiffIndex``) and leaves this list
NOT_YET_MOVED: set[str] = set()


def test_diff_is_the_only_owner_of_line_indexes() -> None:
    owners = {
        name(p)
        for p in MODULES
        if not name(p).startswith("reviewbot.diff.")
        and _builds_line_set(ast.parse(p.read_text(encoding="utf-8")))
    }
    assert owners <= NOT_YET_MOVED
    assert _builds_line_set(
        ast.parse((PKG / "diff" / "index.py").read_text(encoding="utf-8"))
    )  # the rule still bites


def _import_graph() -> dict[str, set[str]]:
    mods = _module_names()
    graph: dict[str, set[str]] = {}
    for n, p in mods.items():
        deps = set()
        for i in imports(p):
            while i and i not in mods:  # `from pkg import name` names a module, or a name in one
                i = i.rpartition(".")[0]
            if i and i != n:
                deps.add(i)
        graph[n] = deps
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle() -> None:
    """Every import of the package, at module level or inside a function."""
    assert _cycles(_import_graph()) == []


def _calls(node: ast.AST) -> set[str]:
    """The names called in ``node``: ``f(...)`` and ``x.f(...)`` both give ``f``."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            out.add(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else "")
    return out


def _function(path: Path, fn: str) -> ast.FunctionDef:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == fn)


def test_one_review_flow_over_the_host_port() -> None:
    """The review-and-post flow is written once, against ``ports.Host``: it names no host, and the
    GitHub runner, the GitLab job and the service's handlers all run it; none repeats its steps."""
    mods = _module_names()
    flow = mods["reviewbot.platforms.flow"]
    hosts = (
        "reviewbot.hosts.github",
        "reviewbot.hosts.gitlab",
        "reviewbot.platforms.github",
        "reviewbot.platforms.gitlab",
    )
    assert {i for i in imports(flow) if i.startswith(hosts)} == set()
    assert "reviewbot.ports.Host" in imports(flow)
    args = _function(flow, "review_change").args.args
    assert (
        args[0].arg == "host" and isinstance(args[0].annotation, ast.Name) and args[0].annotation.id == "Host"
    )
    text = flow.read_text(encoding="utf-8")
    assert '"github"' not in text and '"gitlab"' not in text
    entry_points = [
        _function(mods["reviewbot.platforms.github"], "review_pull"),
        _function(mods["reviewbot.platforms.gitlab"], "review_mr"),
        ast.parse(mods["reviewbot.platforms.service_handlers"].read_text(encoding="utf-8")),
    ]
    for node in entry_points:
        assert "review_change" in _calls(node)
    steps = {"restrict", "since_filter", "interdiff", "dry_run"}  # the flow's own steps
    repeats = {
        n: _calls(ast.parse(p.read_text(encoding="utf-8"))) & steps
        for n, p in mods.items()
        if n.startswith("reviewbot.platforms.") and n != "reviewbot.platforms.flow"
    }
    assert {n: s for n, s in repeats.items() if s} == {}
    handlers = mods["reviewbot.platforms.service_handlers"]
    assert {i for i in imports(handlers) if i.startswith(hosts[:2])} == set()
    assert '"github"' not in handlers.read_text(encoding="utf-8")
    assert '"gitlab"' not in handlers.read_text(encoding="utf-8")
