"""A real redis-server for the job store's tests and benchmarks (`.ci/run` installs it).

from support.redis_server import start_redis
proc, url = start_redis(tmp_path)   # url: redis://127.0.0.1:PORT/0
...
proc.terminate()
proc.wait(10)
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from support.service_cluster import free_port


def start_redis(where: Path) -> tuple[subprocess.Popen[bytes], str]:
    """redis-server on a free loopback port with its files in `where` (append-only file, fsync on
    every write, no snapshots); returns the process and the URL of database 0 once the port accepts
    connections, or after 10 s of trying."""
    exe = shutil.which("redis-server")
    assert exe, "redis-server is needed (apt-get install redis-server)"
    port = free_port()
    proc = subprocess.Popen(
        [
            exe,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(where),
            "--appendonly",
            "yes",
            "--appendfsync",
            "always",
            "--save",
            "",
        ],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"
