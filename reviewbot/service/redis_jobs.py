"""The job store on Redis, for workers on several machines: the rules of `jobs.py`, each step
one Lua script (atomic on the server); the per-change lease is the cross-machine lock."""

from __future__ import annotations

import time
from typing import Any

from .jobs import STATES, Job

_ENQUEUE = """
local p = ARGV[1]
if redis.call('SETNX', p..'delivery:'..ARGV[2], 1) == 0 then return 0 end
local change = ARGV[3]..'|'..ARGV[4]..'|'..ARGV[5]
local kind = ARGV[7]
if kind == 'review' then
  local headkey = p..'head:'..change..'|'..ARGV[6]
  if redis.call('EXISTS', headkey) == 1 then return 0 end
  for _, old in ipairs(redis.call('SMEMBERS', p..'queued:'..change)) do
    redis.call('ZREM', p..'queue', old)
    redis.call('SREM', p..'state:queued', old)
    redis.call('SADD', p..'state:superseded', old)
    redis.call('HSET', p..'job:'..old, 'state', 'superseded')
    redis.call('DEL', p..'head:'..change..'|'..redis.call('HGET', p..'job:'..old, 'head'))
  end
  redis.call('DEL', p..'queued:'..change)
end
local id = redis.call('INCR', p..'seq')
redis.call('HSET', p..'job:'..id, 'delivery', ARGV[2], 'host', ARGV[3], 'repo', ARGV[4], 'number', ARGV[5],
  'head', ARGV[6], 'kind', kind, 'arg', ARGV[8], 'state', 'queued', 'attempts', 0, 'error', '')
if kind == 'review' then
  redis.call('SET', p..'head:'..change..'|'..ARGV[6], id)
  redis.call('SADD', p..'queued:'..change, id)
end
redis.call('SADD', p..'state:queued', id)
redis.call('ZADD', p..'queue', 0, id)
return id
"""

_CLAIM = """
local p, now, lease = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', p..'running', '-inf', '('..now)) do
  redis.call('ZREM', p..'running', id)
  redis.call('ZADD', p..'queue', 0, id)
  redis.call('HSET', p..'job:'..id, 'state', 'queued')
  redis.call('SREM', p..'state:running', id)
  redis.call('SADD', p..'state:queued', id)
end
local ready = redis.call('ZRANGEBYSCORE', p..'queue', '-inf', now)
table.sort(ready, function(a, b) return tonumber(a) < tonumber(b) end)
for _, id in ipairs(ready) do
  local j = p..'job:'..id
  local f = redis.call('HMGET', j, 'host', 'repo', 'number', 'kind')
  local change = f[1]..'|'..f[2]..'|'..f[3]
  if redis.call('SET', p..'lock:'..change, id, 'NX', 'PX', math.floor(lease * 1000)) then
    redis.call('ZREM', p..'queue', id)
    redis.call('ZADD', p..'running', now + lease, id)
    redis.call('HSET', j, 'state', 'running')
    redis.call('HINCRBY', j, 'attempts', 1)
    redis.call('SREM', p..'state:queued', id)
    redis.call('SADD', p..'state:running', id)
    if f[4] == 'review' then redis.call('SREM', p..'queued:'..change, id) end
    return id
  end
end
return 0
"""

_FINISH = """
local p, id, state, err, not_before = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local j = p..'job:'..id
local f = redis.call('HMGET', j, 'host', 'repo', 'number', 'kind', 'state')
if f[5] ~= 'running' then return 0 end
local change = f[1]..'|'..f[2]..'|'..f[3]
if redis.call('GET', p..'lock:'..change) == id then redis.call('DEL', p..'lock:'..change) end
redis.call('ZREM', p..'running', id)
redis.call('SREM', p..'state:running', id)
redis.call('SADD', p..'state:'..state, id)
redis.call('HSET', j, 'state', state, 'error', err)
if state == 'queued' then
  redis.call('ZADD', p..'queue', not_before, id)
  if f[4] == 'review' then redis.call('SADD', p..'queued:'..change, id) end
end
return 1
"""

_RENEW = """
local p, id, attempts, now, lease = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local j = p..'job:'..id
local f = redis.call('HMGET', j, 'host', 'repo', 'number', 'state', 'attempts')
if f[4] ~= 'running' or f[5] ~= attempts then return 0 end
local until_ = redis.call('ZSCORE', p..'running', id)
if not until_ or tonumber(until_) < now then return 0 end
local change = f[1]..'|'..f[2]..'|'..f[3]
if redis.call('GET', p..'lock:'..change) ~= id then return 0 end
redis.call('PEXPIRE', p..'lock:'..change, math.floor(lease * 1000))
redis.call('ZADD', p..'running', now + lease, id)
return 1
"""


class RedisJobStore:
    """Jobs in Redis under `prefix`; any number of servers and workers share it."""

    def __init__(
        self,
        url: str,
        *,
        max_attempts: int = 3,
        backoff: float = 5.0,
        lease: float = 900.0,
        prefix: str = "reviewbot:",
    ):
        import redis

        self.max_attempts, self.backoff, self.lease, self.prefix = max_attempts, backoff, lease, prefix
        self.r: Any = redis.Redis.from_url(url, decode_responses=True)
        self._enqueue = self.r.register_script(_ENQUEUE)
        self._claim = self.r.register_script(_CLAIM)
        self._finish = self.r.register_script(_FINISH)
        self._renew = self.r.register_script(_RENEW)

    def enqueue(
        self, delivery: str, host: str, repo: str, number: int, head: str, kind: str = "review", arg: str = ""
    ) -> bool:
        """Store the job (Redis with appendfsync); False for a known delivery or review head."""
        return bool(self._enqueue(args=[self.prefix, delivery, host, repo, number, head, kind, arg]))

    def claim(self, now: float | None = None) -> Job | None:
        now = time.time() if now is None else now
        job_id = int(self._claim(args=[self.prefix, now, self.lease]))
        return self.get(job_id) if job_id else None

    def renew(self, job: Job, now: float | None = None) -> bool:
        """Extend the lock and the lease of a job this worker claimed; False when it is no longer its."""
        now = time.time() if now is None else now
        return bool(self._renew(args=[self.prefix, job.id, job.attempts, now, self.lease]))

    def done(self, job_id: int) -> None:
        self._finish(args=[self.prefix, job_id, "done", "", 0])

    def fail(self, job_id: int, error: str, now: float | None = None) -> None:
        now = time.time() if now is None else now
        job = self.get(job_id)
        if job.attempts >= self.max_attempts:
            self._finish(args=[self.prefix, job_id, "failed", error[:2000], 0])
        else:
            delay = self.backoff * 2 ** (job.attempts - 1)
            self._finish(args=[self.prefix, job_id, "queued", error[:2000], now + delay])

    def get(self, job_id: int) -> Job:
        h = self.r.hgetall(f"{self.prefix}job:{job_id}")
        return Job(
            job_id,
            h["delivery"],
            h["host"],
            h["repo"],
            int(h["number"]),
            h["head"],
            h["kind"],
            h["arg"],
            h["state"],
            int(h["attempts"]),
            h["error"],
        )

    def jobs(self, *states: str) -> list[Job]:
        ids = sorted(int(i) for s in states or STATES for i in self.r.smembers(f"{self.prefix}state:{s}"))
        return [self.get(i) for i in ids]

    def count(self) -> dict[str, int]:
        return {s: int(self.r.scard(f"{self.prefix}state:{s}")) for s in STATES}

    def ping(self) -> bool:
        return bool(self.r.ping())

    def reviewed(self, host: str, repo: str, number: int, head: str) -> bool:
        return bool(self.r.exists(f"{self.prefix}head:{host}|{repo}|{number}|{head}"))
