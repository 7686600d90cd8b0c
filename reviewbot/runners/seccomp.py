"""A seccomp filter for the sandbox, as the classic BPF program ``bwrap --seccomp FD`` loads.

It denies (EPERM) the system calls a test never needs and that widen what a sandboxed program can
reach: ptrace and reading other processes' memory, kernel keyrings, eBPF, perf, userfaultfd,
io_uring, mounts and namespaces, module loading, kexec and reboot, swap, file handles; and
``socket()`` of every address family but ``AF_INET`` and ``AF_INET6`` (a test's own loopback): no
``AF_UNIX`` (a unix socket that lies in a bound path, the checkout, cannot be connected to), no
``AF_VSOCK`` (the hypervisor), no ``AF_NETLINK``, ``AF_PACKET``, ``AF_ALG`` and the rest, whose kernel
code is reachable otherwise. ``socketpair`` stays allowed (asyncio and multiprocessing use it). A call
from another ABI (x32, i386 on x86_64) is denied.
Built here from the syscall numbers of x86_64 and aarch64; on other machines :func:`program`
returns None and the sandbox runs without a filter (and says so).
"""

from __future__ import annotations

import errno
import platform
import struct

__all__ = ["BLOCKED", "program"]

BLOCKED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kexec_load",
    "kexec_file_load",
    "keyctl",
    "add_key",
    "request_key",
    "bpf",
    "perf_event_open",
    "userfaultfd",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "open_by_handle_at",
    "name_to_handle_at",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsmount",
    "acct",
)

_X86_64 = {
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311, "kexec_load": 246,
    "kexec_file_load": 320, "keyctl": 250, "add_key": 248, "request_key": 249, "bpf": 321,
    "perf_event_open": 298, "userfaultfd": 323, "mount": 165, "umount2": 166, "pivot_root": 155,
    "chroot": 161, "unshare": 272, "setns": 308, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168, "open_by_handle_at": 304,
    "name_to_handle_at": 303, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432, "acct": 163, "socket": 41,
}  # fmt: skip
_AARCH64 = {
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271, "kexec_load": 104,
    "kexec_file_load": 294, "keyctl": 219, "add_key": 217, "request_key": 218, "bpf": 280,
    "perf_event_open": 241, "userfaultfd": 282, "mount": 40, "umount2": 39, "pivot_root": 41,
    "chroot": 51, "unshare": 97, "setns": 268, "init_module": 105, "finit_module": 273,
    "delete_module": 106, "reboot": 142, "swapon": 224, "swapoff": 225, "open_by_handle_at": 265,
    "name_to_handle_at": 264, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
    "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432, "acct": 89, "socket": 198,
}  # fmt: skip
# machine -> (AUDIT_ARCH_*, syscall numbers, first number of a foreign ABI sharing the arch or None)
_ARCHES = {
    "x86_64": (0xC000003E, _X86_64, 0x40000000),  # x32 calls carry bit 30
    "aarch64": (0xC00000B7, _AARCH64, None),
}

_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_ALLOW = 0x7FFF0000  # SECCOMP_RET_ALLOW
_DENY = 0x00050000 | errno.EPERM  # SECCOMP_RET_ERRNO
_AF_INET = 2
_AF_INET6 = 10  # the same number on x86_64 and aarch64
# offsets in struct seccomp_data: nr, arch, then args[] (the low half of args[0] on little-endian)
_NR, _ARCH, _ARG0 = 0, 4, 16


def program(machine: str | None = None) -> bytes | None:
    """The filter for ``machine`` (default: this one) as bytes of struct sock_filter, or None."""
    spec = _ARCHES.get(machine or platform.machine())
    if spec is None:
        return None
    arch, numbers, foreign = spec
    # (code, jump-if-true target label or offset, jump-if-false target label or offset, k)
    ops: list[tuple[int, str | int, str | int, int]] = [
        (_LD_ABS, 0, 0, _ARCH),
        (_JEQ, 0, "deny", arch),
        (_LD_ABS, 0, 0, _NR),
    ]
    if foreign is not None:
        ops.append((_JGE, "deny", 0, foreign))
    ops += [(_JEQ, "deny", 0, numbers[name]) for name in BLOCKED]
    ops += [
        (_JEQ, 0, "allow", numbers["socket"]),
        (_LD_ABS, 0, 0, _ARG0),
        (_JEQ, "allow", 0, _AF_INET),
        (_JEQ, "allow", "deny", _AF_INET6),
    ]
    labels = {"allow": len(ops), "deny": len(ops) + 1}
    ops += [(_RET, 0, 0, _ALLOW), (_RET, 0, 0, _DENY)]
    out = bytearray()
    for i, (code, jt, jf, k) in enumerate(ops):
        t = labels[jt] - i - 1 if isinstance(jt, str) else jt
        f = labels[jf] - i - 1 if isinstance(jf, str) else jf
        out += struct.pack("=HBBI", code, t, f, k)
    return bytes(out)
