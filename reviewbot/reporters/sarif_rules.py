"""What a SARIF rule says about itself: help text, a documentation link, tags and, for security
findings, GitHub's ``security-severity`` (a number from 0 to 10 as a string: 9+ critical, 7+ high,
4+ medium, below that low)."""

from __future__ import annotations

import re
from typing import Any

from ..model import Finding, Severity

_CWE = re.compile(r"\bCWE-(\d+)\b")
_SECURITY_SEVERITY = {Severity.ERROR: "8.0", Severity.WARNING: "5.5", Severity.INFO: "3.0"}

# Where each tool documents its rules; "{code}" is the rule's part after the slash.
_HELP_URI = {
    "ruff": "https://docs.astral.sh/ruff/rules/",
    "bandit": "https://bandit.readthedocs.io/en/latest/plugins/index.html",
    "mypy": "https://mypy.readthedocs.io/en/stable/error_code_list.html",
    "shellcheck": "https://www.shellcheck.net/wiki/{code}",
    "eslint": "https://eslint.org/docs/latest/rules/{code}",
    "pytest": "https://docs.pytest.org/en/stable/how-to/output.html",
}
_OWN_DOCS = {  # reviewbot's own routes: the page of this repository that describes them
    "review": "docs/review.md",
    "interpreter": "docs/interpreter.md",
    "search": "docs/search.md",
    "repo_qa": "docs/search.md",
}


def cwe(f: Finding) -> str | None:
    m = _CWE.search(f.message)
    return m.group(1) if m else None


def help_uri(f: Finding) -> str | None:
    """The page where the tool that reported `f` documents its rule, when there is one."""
    prefix, _, code = f.rule.partition("/")
    return _HELP_URI[prefix].replace("{code}", code) if prefix in _HELP_URI else None


def describe(f: Finding) -> dict[str, Any]:
    """`help`, `helpUri` (a tool's own rule pages) and `properties` (tags, security-severity) of the
    rule of `f`, the first finding of that rule."""
    out: dict[str, Any] = {}
    uri = help_uri(f)
    where = (
        f"See {uri}." if uri else f"See {_OWN_DOCS.get(f.route, 'docs/output.md')} in reviewbot's repository."
    )
    text = f"A {f.category} finding reported by {f.source} (rule {f.rule}). {where}"
    out["help"] = {"text": text, "markdown": text}
    if uri:
        out["helpUri"] = uri
    tags = [f.category, f.source]
    props: dict[str, Any] = {"category": f.category, "source": f.source}
    number = cwe(f)
    if f.category == "security" or number:
        tags.append("security")
        props["security-severity"] = _SECURITY_SEVERITY[f.severity]
    if number:
        tags.append(f"external/cwe/cwe-{number}")
    props["tags"] = list(dict.fromkeys(tags))
    out["properties"] = props
    return out
