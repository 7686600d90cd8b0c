"""Helpers for the GitLab tests: a client for the stand-in that records its waits."""

from __future__ import annotations

from dataclasses import replace

from reviewbot.hosts.gitlab.client import POLICY, GitLabClient


def client(standin, *, waits: list[float] | None = None, attempts: int = 6) -> GitLabClient:
    record = waits if waits is not None else []
    policy = replace(POLICY, attempts=attempts, base_s=0.5)
    return GitLabClient(standin.token, url=standin.url, policy=policy, sleep=record.append)


# GitLab's documented Code Quality report format (docs.gitlab.com, ci/testing/code_quality): an array
# of issues with these fields; severity one of five names; lines.begin an integer line.
CODE_QUALITY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "minLength": 1},
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {
                            "begin": {"type": "integer", "minimum": 1},
                            "end": {"type": "integer", "minimum": 1},
                        },
                    },
                },
            },
        },
    },
}
