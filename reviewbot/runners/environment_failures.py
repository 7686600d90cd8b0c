"""Failures that belong to the machine, not to the change: a test that needs what the sandbox does
not have (the network, a name server, a program, a package that is not installed) is reported as
not run here, with the reason, never as a failure of the change.

    why = environment_reason(case, workdir)   # None: the failure is the test's own

The sandbox itself gives tests what a machine without the network has (loopback names in its
/etc/hosts, a home, a writable temp dir, a UTF-8 locale: runners/bwrap.py), so what is left here
is what no offline machine has. Only the failure's own text decides (pytest's message and short
traceback), and only these shapes of it:

- name resolution: ``socket.gaierror``, "Temporary failure in name resolution", "Name or service
  not known", urllib3's ``NameResolutionError``;
- the network: "Network is unreachable", "No route to host";
- a refused bind: "Cannot assign requested address", "Address family not supported";
- a program the machine lacks: ``FileNotFoundError`` for a bare command name that is not a file of
  the checkout;
- a package that is not installed: ``ModuleNotFoundError`` for a top-level name that is neither in
  the checkout (``name/``, ``name.py``, ``src/name``) nor importable by the sandbox's Python.
"""

from __future__ import annotations

import importlib.util
import os
import re

from .pytest_report import TestCase

__all__ = ["environment_reason"]

_CHECKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"gaierror|Temporary failure in name resolution|Name or service not known|"
            r"nodename nor servname|NameResolutionError|Failed to resolve"
        ),
        "it needs a name server (the sandbox resolves only the loopback names)",
    ),
    (
        re.compile(r"Network is unreachable|No route to host|\[Errno 101\]|\[Errno 113\]"),
        "it needs the network (the sandbox has only its own loopback)",
    ),
    (
        re.compile(r"Cannot assign requested address|Address family not supported|\[Errno 99\]|\[Errno 97\]"),
        "its socket could not bind here (the sandbox has only its own loopback)",
    ),
)
_NO_PROGRAM = re.compile(r"FileNotFoundError: \[Errno 2\] No such file or directory: '([\w.+-]+)'")
_NO_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")


def _in_checkout(workdir: str | None, name: str) -> bool:
    if not workdir:
        return False
    return any(
        os.path.exists(os.path.join(workdir, *parts))
        for parts in ((name,), (f"{name}.py",), ("src", name), ("src", f"{name}.py"))
    )


def environment_reason(case: TestCase, workdir: str | None) -> str | None:
    """Why ``case`` failed because of this machine, or None when the failure is the test's own."""
    text = f"{case.message}\n{case.text}"
    for pattern, why in _CHECKS:
        if pattern.search(text):
            return why
    if (m := _NO_PROGRAM.search(text)) and not _in_checkout(workdir, m.group(1)):
        return f"it runs the program {m.group(1)!r}, which this machine lacks"
    if m := _NO_MODULE.search(text):
        top = m.group(1).split(".")[0]
        if not _in_checkout(workdir, top) and importlib.util.find_spec(top) is None:
            return f"it imports {top!r}, which is not installed here"
    return None
