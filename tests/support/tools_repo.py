"""A small git repository for the tools route's tests: a change that breaks an existing test.

    from support.tools_repo import make_repo, FAKE_SHELLCHECK
    changeset = make_repo(tmp_path)   # GitSource(tmp_path, "main..feature").load(), workdir = tmp_path

base (main):                           head (feature):
  pkg/calc.py                            pkg/calc.py
    1 def add(a, b):                       1 import os                   <- added: ruff F401
    2     return a + b                     2 def add(a, b):
    3                                      3     return a - b            <- added: breaks the test
    4                                      4
    5 def double(x):                       5
    6     return undefined_y               6 def double(x):
                                           7     return undefined_y      <- unchanged: ruff F821
  tests/test_calc.py (unchanged)
  tests/test_env.py (unchanged): fails if GITHUB_TOKEN reaches the test
  scripts/run.sh                         scripts/run.sh: line 2 added
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from reviewbot.model import ChangeSet
from reviewbot.sources.git import GitSource

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid", "-c", "init.defaultBranch=main"]

CALC_OLD = "def add(a, b):\n    return a + b\n\n\ndef double(x):\n    return undefined_y\n"
CALC_NEW = "import os\ndef add(a, b):\n    return a - b\n\n\ndef double(x):\n    return undefined_y\n"
TEST_CALC = "from pkg.calc import add\n\n\ndef test_add():\n    assert add(2, 2) == 4\n"
TEST_ENV = (
    "import os\n\n\ndef test_no_secrets():\n"
    '    assert "GITHUB_TOKEN" not in os.environ, "GITHUB_TOKEN leaked"\n'
    '    assert os.environ.get("PYTHONPATH") == os.getcwd()\n'
)
RUN_OLD = "#!/bin/sh\n"
RUN_NEW = "#!/bin/sh\necho $1\n"

# A stand-in for shellcheck -f json: one comment on line 2 saying whether GITHUB_TOKEN reached it,
# one on line 1 (unchanged), exit 1 as shellcheck does when it has comments.
FAKE_SHELLCHECK = r"""#!/bin/sh
if [ -n "$GITHUB_TOKEN" ]; then tok=present; else tok=absent; fi
for a in "$@"; do last="$a"; done
printf '[{"file":"%s","line":2,"endLine":2,"column":6,"endColumn":8,"level":"info","code":2086,'\
'"message":"GITHUB_TOKEN %s"},' "$last" "$tok"
printf '{"file":"%s","line":1,"endLine":1,"column":1,"endColumn":2,"level":"error","code":1000,'\
'"message":"unchanged"}]' "$last"
exit 1
"""

# A stand-in for mypy 1.13 with --output json (JSON lines); it echoes whether it got our config.
FAKE_MYPY = r"""#!/bin/sh
if [ "$1" = "--version" ]; then echo "mypy 1.13.0 (compiled: yes)"; exit 0; fi
case "$*" in *"--config-file"*"--cache-dir /dev/null"*"--output json"*) cfg=ours;; *) cfg=missing;; esac
printf '{"file": "pkg/calc.py", "line": 3, "column": 11, "message": "config %s", "hint": null, '\
'"code": "operator", "severity": "error"}\n' "$cfg"
printf '{"file": "pkg/calc.py", "line": 3, "column": 11, "message": "a note", "hint": null, '\
'"code": null, "severity": "note"}\n'
printf '{"file": "pkg/calc.py", "line": 7, "column": 11, "message": "unchanged", "hint": null, '\
'"code": "name-defined", "severity": "error"}\n'
exit 1
"""


def git(repo: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run([*GIT, *args], cwd=repo, check=True, capture_output=True, env=env)


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_repo(root: Path) -> ChangeSet:
    git(root, "init", "-q")
    write(root, "pkg/__init__.py", "")
    write(root, "pkg/calc.py", CALC_OLD)
    write(root, "tests/test_calc.py", TEST_CALC)
    write(root, "tests/test_env.py", TEST_ENV)
    write(root, "scripts/run.sh", RUN_OLD)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    git(root, "checkout", "-qb", "feature")
    write(root, "pkg/calc.py", CALC_NEW)
    write(root, "scripts/run.sh", RUN_NEW)
    git(root, "commit", "-qam", "change")
    cs = GitSource(root, "main..feature").load()
    assert cs.workdir is not None
    return cs


def fake_tool(bin_dir: Path, name: str, script: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(script)
    path.chmod(0o755)
