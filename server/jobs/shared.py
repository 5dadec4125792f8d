"""What the web processes and the workers of one deployment share in Redis, by key.

- ``bpl:training`` — a hash, run id → {"workspace", "address"}: the runs queued or training. The
  training budgets (MAX_TRAINING_JOBS, _PER_WORKSPACE, _PER_ADDRESS) count it, in one Lua script,
  so two web processes admitting at the same moment cannot both take the last slot.
- ``bpl:started:<run>`` — set when a worker takes the run; ``bpl:alive:<run>`` — its heartbeat,
  renewed every third of ``JOB_HEARTBEAT_SECONDS`` with that expiry: a run started whose heartbeat
  is gone lost its worker.
- ``bpl:stop:<run>`` — a stop asked for, from any web process; the worker checks it between steps.
- ``bpl:reaped:<run>`` — the one web process that marks a dead worker's run failed took it.
- ``bpl:slots:<budget>[:<whose>]`` — sorted sets of the slots held of the other budgets
  (computations and traces per workspace, traces in all, new workspaces per address), each
  slot scored with when it lapses: a slot a killed process never gave back lapses by itself.
"""

from __future__ import annotations

import json

import redis

from ..limits import BusyError

PREFIX = "bpl:"
TRAINING = PREFIX + "training"
MARK_SECONDS = 24 * 3600  # how long stop and reaped marks outlive their run


def key(kind: str, run_id: str) -> str:
    return f"{PREFIX}{kind}:{run_id}"


def connect(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)


# Counts the runs of the hash against the three budgets and adds the new one if each has room;
# returns the name of the budget that is spent (and its count), or "" when admitted.
ADMIT = """
local total, mine, here = 0, 0, 0
for _, value in ipairs(redis.call('HVALS', KEYS[1])) do
  local run = cjson.decode(value)
  total = total + 1
  if run.workspace == ARGV[2] then mine = mine + 1 end
  if run.address == ARGV[3] then here = here + 1 end
end
if total >= tonumber(ARGV[4]) then return {'MAX_TRAINING_JOBS', total} end
if mine >= tonumber(ARGV[5]) then return {'MAX_TRAINING_PER_WORKSPACE', mine} end
if here >= tonumber(ARGV[6]) then return {'MAX_TRAINING_PER_ADDRESS', here} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[7])
return {'', 0}
"""

BUSY = {"MAX_TRAINING_JOBS": "the server is busy: {n} training runs are going on",
        "MAX_TRAINING_PER_WORKSPACE": "this workspace already has {n} training runs going on",
        "MAX_TRAINING_PER_ADDRESS": "{n} training runs from this computer are going on"}


# Takes one slot of every budget given, or none: KEYS are the budgets' sorted sets, ARGV the
# slot's name, how long it may be held (ms), then each budget's most. Lapsed slots are dropped
# first; the clock is Redis's own, one for every machine. Returns the index (1-based) of the
# budget that is spent and its count, or {0, 0}.
TAKE = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local hold = tonumber(ARGV[2])
for i, budget in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', budget, '-inf', ms)
  local held = redis.call('ZCARD', budget)
  if held >= tonumber(ARGV[2 + i]) then return {i, held} end
end
for _, budget in ipairs(KEYS) do
  redis.call('ZADD', budget, ms + hold, ARGV[1])
  redis.call('PEXPIRE', budget, hold)
end
return {0, 0}
"""


class SharedSlots:
    """Budgets of things held at once (or made in a window), counted for every process."""

    def __init__(self, client: redis.Redis):
        self.redis = client
        self._take = client.register_script(TAKE)

    def take(self, slot: str, budgets: list[tuple[str, int]], hold_seconds: float) -> int | None:
        """Hold ``slot`` in each ``(budget key, most)``; the index of the first budget that is
        spent (and takes nothing), else None."""
        spent, _ = self._take(keys=[PREFIX + "slots:" + k for k, _ in budgets],
                              args=[slot, int(hold_seconds * 1000), *(m for _, m in budgets)])
        return spent - 1 if spent else None

    def count(self, budget: str) -> int:
        return int(self.redis.zcard(PREFIX + "slots:" + budget))

    def give_back(self, slot: str, budgets: list[str]) -> None:
        with self.redis.pipeline() as pipe:
            for budget in budgets:
                pipe.zrem(PREFIX + "slots:" + budget, slot)
            pipe.execute()


class SharedTraining:
    """The runs of every process, and their budgets, in Redis."""

    def __init__(self, client: redis.Redis):
        self.redis = client
        self._admit = client.register_script(ADMIT)

    def admit(self, run_id: str, workspace: str, address: str, settings: dict) -> None:
        """Take a training slot for ``run_id``; BusyError naming the budget that is spent."""
        info = json.dumps({"workspace": workspace, "address": address})
        spent, count = self._admit(keys=[TRAINING], args=[
            run_id, workspace, address, settings["MAX_TRAINING_JOBS"],
            settings["MAX_TRAINING_PER_WORKSPACE"], settings["MAX_TRAINING_PER_ADDRESS"], info])
        if spent:
            raise BusyError(f"{BUSY[spent].format(n=count)} ({spent}={settings[spent]}); stop "
                            "one or wait", spent)

    def active(self) -> dict[str, dict]:
        """Run id → its workspace and address, for the runs queued or training anywhere."""
        return {run_id: json.loads(info)
                for run_id, info in self.redis.hgetall(TRAINING).items()}

    def release(self, run_id: str) -> None:
        """Free the run's slot and forget its heartbeat (a stop mark stays: it may be late)."""
        with self.redis.pipeline() as pipe:
            pipe.hdel(TRAINING, run_id)
            pipe.delete(key("started", run_id), key("alive", run_id))
            pipe.execute()

    def ask_to_stop(self, run_id: str) -> None:
        self.redis.set(key("stop", run_id), "1", ex=MARK_SECONDS)

    def stop_asked(self, run_id: str) -> bool:
        return bool(self.redis.exists(key("stop", run_id)))

    def started(self, run_id: str, heartbeat: float) -> None:
        """A worker took the run: it has a heartbeat from now on."""
        with self.redis.pipeline() as pipe:
            pipe.set(key("started", run_id), "1", ex=MARK_SECONDS)
            pipe.set(key("alive", run_id), "1", px=int(heartbeat * 1000))
            pipe.execute()

    def beat(self, run_id: str, heartbeat: float) -> None:
        self.redis.set(key("alive", run_id), "1", px=int(heartbeat * 1000))

    def dead(self) -> list[str]:
        """Runs a worker took whose heartbeat has stopped."""
        runs = list(self.redis.hkeys(TRAINING))
        if not runs:
            return []
        with self.redis.pipeline() as pipe:
            for run_id in runs:
                pipe.exists(key("started", run_id))
                pipe.exists(key("alive", run_id))
            found = pipe.execute()
        return [run_id for run_id, started, alive in zip(runs, found[::2], found[1::2],
                                                         strict=True) if started and not alive]

    def reaped(self, run_id: str) -> bool:
        """Whether a web process took ``run_id``'s worker for dead (a heartbeat that came late,
        under a heavy load): that worker must stop — its run is recorded failed already."""
        return bool(self.redis.exists(key("reaped", run_id)))

    def claim_dead(self, run_id: str) -> bool:
        """Whether this process is the one to mark ``run_id``'s death (the first to ask)."""
        return bool(self.redis.set(key("reaped", run_id), "1", nx=True, ex=MARK_SECONDS))
