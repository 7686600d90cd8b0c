"""`scripts/setup` on a machine whose Python lacks its venv module (Debian and Ubuntu ship it as a
package of its own): it names the package and stops before making a .venv it could not fill."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_python_without_its_venv_module_is_named_with_its_package(tmp_path: Path) -> None:
    """No apt-get or dnf on PATH, so nothing is installed: the one line says what is missing. The
    script runs from a copy, so that a setup going on would make its .venv there, not here."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts" / "setup", repo / "scripts" / "setup")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for d in ("/usr/local/bin", "/usr/bin", "/bin"):
        for tool in Path(d).iterdir() if Path(d).is_dir() else ():
            if tool.name not in {"apt-get", "dnf"} and not (bin_dir / tool.name).exists():
                (bin_dir / tool.name).symlink_to(tool)
    python = tmp_path / "python3"  # this Python, as if `import ensurepip` had been left out
    python.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = -c ] && [ "$2" = "import ensurepip" ]; then exit 1; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    python.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    env |= {"PATH": str(bin_dir), "PYTHON": str(python)}
    setup = repo / "scripts" / "setup"
    p = subprocess.run([str(setup)], capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 2, p.stderr
    package = f"python{sys.version_info[0]}.{sys.version_info[1]}-venv"
    assert p.stderr.splitlines()[-1] == (
        f"reviewbot: {package} is not installed (Python's venv module, which makes .venv): "
        "install it with this system's package manager"
    )
    assert not (repo / ".venv").exists()
