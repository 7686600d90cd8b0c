"""Which rules are on for which kind of file: test files, documentation and examples have their own
profile, so the review reports what a reviewer of that kind of file would keep.

    profiles = Profiles()                        # the defaults below; compose builds it from Settings
    profiles.kind_of("tests/test_api.py")        # "tests"
    kept, notes = profiles.apply(findings)       # the findings of rules that are on; a note per kind

A file's kind is the first of ``tests``, ``docs``, ``examples``, ``reexports`` whose path globs match it
(a glob without ``/`` matches the file's name, one with ``/`` the whole path; ``*`` crosses folders),
else ``code``. A finding whose rule matches one of its kind's ``off`` globs (``bandit/B101``,
``secrets/*``) is not shown; the note counts it by rule, so nothing is dropped silently. The change's
failing tests (``pytest/*``) are evidence and are never switched off by a profile.

The defaults, and why (docs/review.md lists them too):

- tests: ``assert`` is how tests check (bandit B101); a test talks to its own local server or a
  mock, where a request timeout (B113) does not matter; passwords, tokens, temporary paths and
  pseudo-random numbers in tests are fixtures (B105-B108, B311), and a test pickles its own
  objects (B301, B403); the secret detectors' guesses
  (a long hex or base64 string, a ``password = "..."`` keyword) are fixtures too. A known key format
  (an AWS or GitHub key, a private key) and a credential in a URL are still reported everywhere,
  except the documented placeholders (``user:pass@``, ``example.com``: ``pipeline.secrets``).
- docs: digests and ``password: ...`` samples in prose are placeholders.
- examples: example code shows the short form on purpose (B101, B113, the placeholders of docs).
- reexports: a package's ``__init__.py`` and a compat module import names for others to import
  from them: an import unused there is the module's interface (ruff F401, F403, F405).
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .model import Finding

__all__ = ["DEFAULT_KINDS", "DEFAULT_OFF", "KINDS", "Profiles"]


KINDS = ("tests", "docs", "examples", "reexports")  # in the order a file's kind is decided; else "code"

DEFAULT_KINDS: dict[str, tuple[str, ...]] = {
    "tests": (
        "test_*.py",
        "*_test.py",
        "tests.py",
        "conftest.py",
        "tests/*",
        "test/*",
        "testing/*",
        "*/tests/*",
        "*/test/*",
        "*/testing/*",
    ),
    "docs": ("*.md", "*.rst", "*.txt", "*.adoc", "docs/*", "doc/*", "*/docs/*", "*/doc/*"),
    "examples": ("examples/*", "example/*", "samples/*", "demo/*", "*/examples/*", "*/example/*"),
    "reexports": ("__init__.py", "compat.py", "_compat.py"),
}

_GUESSED_SECRETS = (
    "secrets/secret-keyword",
    "secrets/hex-high-entropy-string",
    "secrets/base64-high-entropy-string",
)
DEFAULT_OFF: dict[str, tuple[str, ...]] = {
    "tests": (
        "bandit/B101",
        "bandit/B113",
        "bandit/B105",
        "bandit/B106",
        "bandit/B107",
        "bandit/B108",
        "bandit/B311",
        "bandit/B301",
        "bandit/B403",
        *_GUESSED_SECRETS,
    ),
    "docs": _GUESSED_SECRETS,
    "examples": ("bandit/B101", "bandit/B113", *_GUESSED_SECRETS),
    "reexports": ("ruff/F401", "ruff/F403", "ruff/F405"),
    "code": (),
}

_NEVER_OFF = ("pytest/",)  # a failing test is evidence, whatever the kind of file


def _matches(path: str, glob: str) -> bool:
    if "/" in glob:
        return fnmatch.fnmatchcase(path, glob)
    return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], glob)


@dataclass(frozen=True, slots=True)
class Profiles:
    """``kinds``: kind -> path globs; ``off``: kind (or "code") -> rule globs not shown there."""

    kinds: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_KINDS))
    off: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_OFF))

    def kind_of(self, path: str) -> str:
        for kind in KINDS:
            if any(_matches(path, g) for g in self.kinds.get(kind, ())):
                return kind
        return "code"

    def is_off(self, f: Finding) -> bool:
        if f.rule.startswith(_NEVER_OFF):
            return False
        globs = self.off.get(self.kind_of(f.location.path), ())
        return any(fnmatch.fnmatchcase(f.rule, g) for g in globs)

    def apply(self, findings: Iterable[Finding]) -> tuple[list[Finding], list[str]]:
        """The findings of rules that are on where they are, and one note per kind with the count of
        the others by rule."""
        kept: list[Finding] = []
        off: dict[str, Counter[str]] = {}
        for f in findings:
            if self.is_off(f):
                off.setdefault(self.kind_of(f.location.path), Counter())[f.rule] += 1
            else:
                kept.append(f)
        notes = [
            f"{sum(c.values())} finding(s) of rules off in {kind} files not shown "
            f"({_counted(c)}; rules_off.{kind} in the configuration)"
            for kind, c in sorted(off.items())
        ]
        return kept, notes


def _counted(c: Counter[str]) -> str:
    return ", ".join(f"{rule} {n}" for rule, n in c.most_common())
