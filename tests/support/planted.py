"""A fake installed environment for the documentation index: a site-packages folder with one
distribution (`oldlib`, found through its dist-info RECORD) whose modules would fail loudly if
imported: each raises at import and first writes a marker file, so a test can tell that indexing
never ran them."""

from __future__ import annotations

from pathlib import Path

from reviewbot.knowledge.docs import Environment

BOOBY_TRAP = """import pathlib as _p
_p.Path({marker!r}).write_text("imported")
raise SystemExit("this module must never be imported by the indexer")
"""

OLDLIB_INIT = '''"""oldlib: a small HTTP helper library."""
from .client import fetch, Session
from .helpers import *
'''

OLDLIB_CLIENT = '''"""The client."""
import warnings


def fetch(url, timeout=None, *, verify=True, retries=0):
    """Fetch a URL and return its body.

    The timeout is in seconds; None waits forever. Raises FetchError when the server answers 5xx.
    The 'retries' argument is deprecated since 2.0 and will be removed; use Session(retries=...).
    """
    if retries:
        warnings.warn("retries is deprecated", DeprecationWarning)


def get_json(url):
    """This function is deprecated since 2.0; use fetch() and json.loads() instead."""
    return None


class Session:
    """A connection pool with its own settings."""

    def __init__(self, retries=0, backoff_factor=0.0):
        """backoff_factor multiplies the sleep between retries."""

    def close(self):
        """Close every connection of the pool. A closed session cannot be used again."""
'''

OLDLIB_HELPERS = '''"""Helpers re-exported by the package."""
__all__ = ["quote_path"]


def quote_path(path, safe="/"):
    """Percent-encode a URL path. Characters in `safe` are left as they are."""
'''


def make_site(root: Path, marker: Path, version: str = "2.1.0") -> Environment:
    """root/site-packages with oldlib `version` (a trap in its every module) and a tiny stdlib."""
    site = root / "site-packages"
    pkg = site / "oldlib"
    pkg.mkdir(parents=True, exist_ok=True)
    trap = BOOBY_TRAP.format(marker=str(marker))
    files = {
        "oldlib/__init__.py": trap + OLDLIB_INIT,
        "oldlib/client.py": trap + OLDLIB_CLIENT,
        "oldlib/helpers.py": trap + OLDLIB_HELPERS,
    }
    for rel, text in files.items():
        (site / rel).write_text(text)
    for old in site.glob("oldlib-*.dist-info"):
        for f in old.iterdir():
            f.unlink()
        old.rmdir()
    info = site / f"oldlib-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: oldlib\nVersion: {version}\n")
    (info / "RECORD").write_text("".join(f"{rel},,\n" for rel in files) + f"{info.name}/METADATA,,\n")
    stdlib = root / "stdlib"
    stdlib.mkdir(exist_ok=True)
    (stdlib / "textwrap2.py").write_text(
        trap
        + '"""Text wrapping."""\n\ndef dedent(text):\n'
        + '    """Remove common leading whitespace from every line of text."""\n'
    )
    (stdlib / "test").mkdir(exist_ok=True)
    (stdlib / "test" / "test_x.py").write_text("def test_x():\n    pass\n")
    return Environment("3.11.7", stdlib, (site,))
