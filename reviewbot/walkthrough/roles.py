"""What part a file plays in a project, from its path: code, tests, dependencies, CI, build,
configuration, docs; and, for requirement files, the requirements the diff adds and removes."""

from __future__ import annotations

import fnmatch
import re

from ..model import FileDiff, LineKind
from .model import Detail, detail, listing

__all__ = ["ROLES", "requirements", "role"]

# in the order a reader scans them; the walkthrough's labels
ROLES = {
    "code": "code",
    "test": "tests",
    "dependencies": "dependencies",
    "ci": "CI",
    "build": "build",
    "config": "configuration",
    "docs": "docs",
    "other": "other",
}

_DEPENDENCIES = (
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "requirements*.txt",
    "requirements/*.txt",
    "constraints*.txt",
    "Pipfile",
    "Pipfile.lock",
    "poetry.lock",
    "uv.lock",
    "pdm.lock",
    "environment.yml",
    "environment.yaml",
    "package.json",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "go.mod",
    "go.sum",
    "Cargo.toml",
    "Cargo.lock",
    "Gemfile",
    "Gemfile.lock",
    "composer.json",
    "composer.lock",
    "pom.xml",
    "build.gradle",
    "build.gradle.kts",
    "*.csproj",
)
_CI = (
    ".github/workflows/*",
    ".github/actions/*",
    ".gitlab-ci.yml",
    ".gitlab-ci/*",
    ".circleci/*",
    ".travis.yml",
    "azure-pipelines.yml",
    "Jenkinsfile",
    ".drone.yml",
    "bitbucket-pipelines.yml",
    ".pre-commit-config.yaml",
    "action.yml",
    "action.yaml",
    ".buildkite/*",
)
_BUILD = (
    "Dockerfile",
    "Dockerfile.*",
    "*.Dockerfile",
    "Containerfile",
    "docker-compose*.yml",
    "docker-compose*.yaml",
    "compose.yml",
    "compose.yaml",
    "Makefile",
    "*.mk",
    "CMakeLists.txt",
    "tox.ini",
    "noxfile.py",
    "MANIFEST.in",
    ".dockerignore",
)
_CONFIG_EXT = (".toml", ".cfg", ".ini", ".yml", ".yaml", ".conf", ".env", ".properties")
_CONFIG_NAMES = (
    ".editorconfig",
    ".flake8",
    ".pylintrc",
    ".coveragerc",
    ".gitignore",
    ".gitattributes",
    "mypy.ini",
)
_DOCS_EXT = (".md", ".rst", ".txt", ".adoc")
_CODE_EXT = (
    ".py",
    ".pyi",
    ".pyx",
    ".js",
    ".jsx",
    ".mjs",
    ".cjs",
    ".ts",
    ".tsx",
    ".go",
    ".rs",
    ".java",
    ".kt",
    ".scala",
    ".cs",
    ".c",
    ".h",
    ".cc",
    ".cpp",
    ".hpp",
    ".rb",
    ".php",
    ".swift",
    ".sh",
    ".bash",
    ".sql",
    ".m",
    ".lua",
    ".pl",
    ".r",
    ".jl",
    ".dart",
    ".vue",
    ".svelte",
)
_TEST_NAME = re.compile(
    r"^(test_.*\.py|.*_test\.(py|go|rb|cc|cpp)|conftest\.py|.*\.(test|spec)\.[jt]sx?|.*Tests?\.(java|kt|cs))$"
)


def _pattern(globs: tuple[str, ...]) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """One regex for the whole path, one for the file name (globs without a "/")."""
    names = [g for g in globs if "/" not in g] or ["\0"]
    return (
        re.compile("|".join(fnmatch.translate(g) for g in globs)),
        re.compile("|".join(fnmatch.translate(g) for g in names)),
    )


_CI_RE, _DEPENDENCIES_RE, _BUILD_RE = _pattern(_CI), _pattern(_DEPENDENCIES), _pattern(_BUILD)


def _matches(path: str, patterns: tuple[re.Pattern[str], re.Pattern[str]]) -> bool:
    whole, name = patterns
    return bool(whole.match(path) or name.match(path.rsplit("/", 1)[-1]))


def role(path: str) -> str:
    """The key in ``ROLES`` of the file at ``path``."""
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    if _matches(path, _CI_RE):
        return "ci"
    if _matches(path, _DEPENDENCIES_RE):
        return "dependencies"
    if _matches(path, _BUILD_RE):
        return "build"
    parts = path.split("/")[:-1]
    if _TEST_NAME.match(name) or any(p in ("tests", "test", "testing", "__tests__", "spec") for p in parts):
        return "test" if lower.endswith(_CODE_EXT) else ("docs" if lower.endswith(_DOCS_EXT) else "test")
    if lower.endswith(_CODE_EXT):
        return "code"
    if (
        lower.endswith(_DOCS_EXT)
        or "docs" in parts
        or "doc" in parts
        or lower in ("readme", "changelog", "license")
    ):
        return "docs"
    if lower.endswith(_CONFIG_EXT) or name in _CONFIG_NAMES:
        return "config"
    return "other"


_REQUIREMENT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(?P<spec>(?:[<>=!~]=?|===)[^;#]*)?\s*(?:;[^#]*)?(?:#.*)?$"
)


def requirements(f: FileDiff) -> list[Detail]:
    """For a ``requirements*.txt``/``constraints*.txt`` file: requirements added, removed and whose
    version specifier changed, as detail phrases; [] for other files."""
    name = f.path.rsplit("/", 1)[-1]
    if not (
        fnmatch.fnmatch(name, "requirements*.txt")
        or fnmatch.fnmatch(name, "constraints*.txt")
        or fnmatch.fnmatch(f.path, "requirements/*.txt")
    ):
        return []
    found: dict[str, dict[str, str]] = {"added": {}, "removed": {}}
    for h in f.hunks:
        for ln in h.lines:
            if ln.kind is LineKind.CONTEXT:
                continue
            m = _REQUIREMENT.match(ln.text.strip())
            if m:
                side = "added" if ln.kind is LineKind.ADDED else "removed"
                found[side][m.group("name").lower().replace("_", "-")] = (m.group("spec") or "").strip()
    added, removed = found["added"], found["removed"]
    out: list[Detail] = []
    new = [n for n in added if n not in removed]
    gone = [n for n in removed if n not in added]
    moved = [n for n in added if n in removed and added[n] != removed[n]]
    if new:
        out.append(listing("requirements added: ", [n + added[n] for n in new]))
    if gone:
        out.append(listing("requirements removed: ", gone))
    if moved:
        for n in moved:
            out.append(
                detail("version of {} changed from {} to {}", n, removed[n] or "any", added[n] or "any")
            )
    return out
