"""A Playground exercise in Redis, and a worker's turn of it (``jobs.queued_playground`` is the
web process's side and says why it is done in turns).

Redis keys:
- ``bpl:playground:<workspace>``, a hash: ``generation`` (this exercise's id), ``sid`` (the page
  that plays or opened it), ``setup`` (its config and points), ``progress`` (parameters, epoch,
  step, cursor), ``revision`` (bumped by every change of progress), ``playing`` (the id of the
  loop that plays it; absent when paused). The web process that has its page renews it (every
  queued_playground.RENEW_SECONDS); it lapses EXERCISE_SECONDS after the last renewal or change:
  the exercise of a page whose web process was killed is gone (its MAX_PLAYGROUNDS slot free)
  minutes later — the page, reconnected to another process, starts its exercise again anyway.
- ``bpl:playground-turn:<token>`` (a turn's answer: a JSON header, then the frame's arrays raw)
  and ``bpl:playground-taken:<token>`` (the name of the worker computing that turn, renewed every
  half second while it does; it lapses TAKEN_SECONDS later, so a web process that saw it and sees
  it gone with no answer knows the worker died, and plays the turn again elsewhere).
- ``bpl:slots:playgrounds``: MAX_PLAYGROUNDS, counted for every process.
- ``bpl:playground-work``, a hash: worker name -> the turns it computed and saved.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from engine.playground import Playground, PlaygroundConfig, Points, Split

from ..limits import LimitError
from .playground import train_turn
from .queued_graphs import packed, unpacked
from .shared import PREFIX

log = logging.getLogger(__name__)
QUEUE = "backprop-live-playground"
SLOTS = PREFIX + "slots:playgrounds"
WORKED = PREFIX + "playground-work"  # hash: worker name -> turns it computed and saved
EXERCISE_SECONDS = 300  # an exercise no web process renewed this long is gone
TAKEN_SECONDS = 2.0  # a turn's mark lapses this long after its worker last renewed it
ANSWER_SECONDS = 60  # an answer nobody read lapses from Redis after this


def exercise_key(workspace: str) -> str:
    return f"{PREFIX}playground:{workspace}"


def turn_key(token: str) -> str:
    return f"{PREFIX}playground-turn:{token}"


def taken_key(token: str) -> str:
    return f"{PREFIX}playground-taken:{token}"


# Lua: the exercise (KEYS[1]) and its MAX_PLAYGROUNDS slot (its workspace's, in KEYS[2]) lapse
# ``lapse`` ms from now, on Redis's clock.
RENEWED = """
redis.call('PEXPIRE', KEYS[1], {lapse})
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[2], 'XX', ms + tonumber({lapse}), {workspace})
redis.call('PEXPIRE', KEYS[2], {lapse})
"""

# Admits (or replaces) a workspace's exercise against MAX_PLAYGROUNDS and writes it whole.
# KEYS: the exercise, the slots; ARGV: workspace, most, lapse ms, generation, sid, setup,
# progress. Returns -1 when written, else how many exercises hold the budget.
OPEN = """
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ms)
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  local held = redis.call('ZCARD', KEYS[2])
  if held >= tonumber(ARGV[2]) then return held end
end
redis.call('ZADD', KEYS[2], ms + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'generation', ARGV[4], 'sid', ARGV[5], 'setup', ARGV[6],
           'progress', ARGV[7], 'revision', '0')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return -1
"""

# Writes progress computed from ``revision`` ARGV[2] of generation ARGV[1]; with ARGV[6], only
# while that loop plays it. Returns 1 written, 0 a change came first, -1 the exercise (or its
# playing) is not this one's any more. KEYS: the exercise, the slots.
SAVE = """
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return -1 end
if ARGV[6] ~= '' and redis.call('HGET', KEYS[1], 'playing') ~= ARGV[6] then return -1 end
if redis.call('HGET', KEYS[1], 'revision') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'progress', ARGV[3], 'revision', tostring(tonumber(ARGV[2]) + 1))
""" + RENEWED.format(lapse="ARGV[4]", workspace="ARGV[5]") + "return 1"

# Sets fields ARGV[2..] (name, value pairs) of generation ARGV[1] only: never a partial hash.
SET_FIELDS = """
if redis.call('HGET', KEYS[1], 'generation') ~= ARGV[1] then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
"""

# Ends the exercise if page ARGV[1] has it. KEYS: the exercise, the slots; ARGV[2]: workspace.
CLOSE = """
if redis.call('HGET', KEYS[1], 'sid') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
"""

# The loop ARGV[1] stops playing the exercise, if it still does.
UNPLAY = """
if redis.call('HGET', KEYS[1], 'playing') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], 'playing')
return 1
"""


# Renews the exercise of page ARGV[1] (ARGV[2]: workspace, ARGV[3]: lapse ms); 0: not its own.
RENEW = """
if redis.call('HGET', KEYS[1], 'sid') ~= ARGV[1] then return 0 end
""" + RENEWED.format(lapse="ARGV[3]", workspace="ARGV[2]") + "return 1"


# -- an exercise as data, and the copies built from it ----------------------------------------
def setup_of(playground: Playground) -> str:
    data = playground.data
    return packed({"config": asdict(playground.config),
                   "train": [data.train.xy.tobytes(), data.train.labels.tobytes()],
                   "test": [data.test.xy.tobytes(), data.test.labels.tobytes()]})


def progress_of(playground: Playground) -> str:
    progress = playground.progress()
    return packed({**progress, "params": progress["params"].tobytes()})


def _points(pair) -> Points:
    xy, labels = pair
    return Points(np.frombuffer(xy, np.float64).reshape(-1, 2).copy(),
                  np.frombuffer(labels, np.float64).copy())


def playground_of(setup: str) -> Playground:
    given = unpacked(setup)
    options = {name: tuple(value) if isinstance(value, list) else value
               for name, value in given["config"].items()}
    return Playground(PlaygroundConfig(**options),
                      Split(_points(given["train"]), _points(given["test"])))


class Copies:
    """Each workspace's Playground built from Redis, kept while its generation lasts, with the
    revision it holds: a turn or an edit reads the progress again only when it moved on, and
    builds the network only for a new exercise. A copy is *taken* — no one else has it while a
    change is computed — and given back once that change is written."""

    def __init__(self, lock, most: int = 256):
        self.lock = lock  # an OS lock: copies are taken in the web process's CPU-pool threads
        self.most = most
        self.held: dict = {}  # workspace -> (generation, revision, Playground), newest last

    def take(self, workspace: str, record: dict, setup) -> Playground:
        """The exercise of ``record`` (generation, revision, progress) as a Playground of its
        own; ``setup()`` gives the setup's text when the network must be built."""
        generation, revision = record["generation"], int(record["revision"])
        with self.lock:
            held = self.held.pop(workspace, None)
        if held is not None and held[0] == generation:
            if held[1] == revision:
                return held[2]
            playground = held[2]
        else:
            playground = playground_of(setup())
        progress = unpacked(record["progress"])
        playground.resume({**progress, "params": np.frombuffer(progress["params"])})
        return playground

    def give_back(self, workspace: str, generation: str, revision: int,
                  playground: Playground) -> None:
        with self.lock:
            self.held.pop(workspace, None)
            self.held[workspace] = (generation, revision, playground)
            while len(self.held) > self.most:
                del self.held[next(iter(self.held))]

    def forget(self, workspace: str) -> None:
        with self.lock:
            self.held.pop(workspace, None)


class Progress:
    """The script that writes an exercise's progress, for both sides."""

    def __init__(self, client):
        self.redis = client
        self.save_script = client.register_script(SAVE)

    def save(self, workspace: str, record: dict, progress: str, playing: str = "") -> int:
        """1 written; 0 a change came first; -1 not this exercise (or not this loop's)."""
        return int(self.save_script(
            keys=[exercise_key(workspace), SLOTS],
            args=[record["generation"], record["revision"], progress,
                  int(EXERCISE_SECONDS * 1000), workspace, playing]))


# -- a turn's answer: a JSON header, then the frame's arrays as they are ------------------------
def packed_answer(answer: dict) -> bytes:
    """The frame's binary arrays go raw after the header, so the web process's event loop reads
    a frame of a 6 × 8 network (a megabyte) without base64 or a JSON parse of it."""
    frame, blobs = answer.get("frame"), []
    header = dict(answer)
    if frame is not None:
        header["frame"] = {}
        for name, value in frame.items():
            if isinstance(value, bytes):
                header["frame"][name] = {"$blob": len(blobs)}
                blobs.append(value)
            else:
                header["frame"][name] = value
    header["blobs"] = [len(b) for b in blobs]
    head = json.dumps(header, allow_nan=True).encode()
    return len(head).to_bytes(4, "little") + head + b"".join(blobs)


def unpacked_answer(data: bytes) -> dict:
    size = int.from_bytes(data[:4], "little")
    header = json.loads(data[4:4 + size])
    at, blobs = 4 + size, []
    for length in header.pop("blobs"):
        blobs.append(data[at:at + length])
        at += length
    frame = header.get("frame")
    if frame is not None:
        header["frame"] = {name: blobs[value["$blob"]]
                           if isinstance(value, dict) and "$blob" in value else value
                           for name, value in frame.items()}
    return header


# -- the worker's side ------------------------------------------------------------------------
@dataclass
class PlaygroundWorkContext:
    """What ``backprop-live worker`` gives the turns: Redis (text, and bytes for the answers),
    its name."""

    redis: Any  # shared.connect(JOBS)
    raw: Any  # queued.connect_rq(JOBS): bytes
    name: str = ""
    copies: Copies = field(default_factory=lambda: Copies(threading.Lock()))
    progress: Progress | None = None


CONTEXT: PlaygroundWorkContext | None = None  # set by `backprop-live worker`


def turn(workspace: str, playing: str, token: str, limits: dict) -> str:
    """One turn of the exercise loop ``playing`` plays, within the web process's ``limits``
    (its MAX_PLAYGROUND_EPOCHS, PLAYGROUND_TURN_SECONDS, PLAYGROUND_GRID); the answer pushed
    for the web process."""
    context = CONTEXT
    assert context is not None, "turn runs in `backprop-live worker`"

    def mark() -> None:  # "this worker computes it", renewed while it does
        context.redis.set(taken_key(token), context.name, px=int(TAKEN_SECONDS * 1000))
    mark()
    try:
        answer = _turn(context, workspace, playing, limits, mark)
    except LimitError as exc:
        answer = {"error": str(exc), "limit": exc.limit}
    except Exception as exc:  # noqa: BLE001 — the page is told, the worker goes on
        log.exception("a Playground turn of %s failed", workspace)
        answer = {"error": f"the worker failed: {type(exc).__name__}: {exc}"[:2000],
                  "limit": None}
    answer["worker"] = context.name
    with context.raw.pipeline() as pipe:
        pipe.rpush(turn_key(token), packed_answer(answer))
        pipe.expire(turn_key(token), ANSWER_SECONDS)
        pipe.delete(taken_key(token))
        pipe.execute()
    return "done"


def _turn(context: PlaygroundWorkContext, workspace: str, playing: str, limits: dict,
          mark) -> dict:
    key = exercise_key(workspace)
    fields = ("generation", "revision", "progress", "playing")
    record = dict(zip(fields, context.redis.hmget(key, *fields), strict=True))
    if record["playing"] != playing:
        return {"idle": True}  # paused, closed or played by another loop since it was queued
    playground = context.copies.take(workspace, record, lambda: context.redis.hget(key, "setup"))
    due = time.perf_counter() + TAKEN_SECONDS / 4

    def renew_mark() -> None:
        nonlocal due
        if time.perf_counter() > due:
            mark()
            due = time.perf_counter() + TAKEN_SECONDS / 4
    frame = train_turn(playground, limits["seconds"], limits["epochs"], limits["grid"],
                       between=renew_mark)
    assert context.progress is not None
    saved = context.progress.save(workspace, record, progress_of(playground), playing)
    if saved != 1:  # an edit came first (the next turn starts from it), or a pause did: the
        return {"idle": True} if saved < 0 else {"again": True}  # copy taken is dropped
    context.copies.give_back(workspace, record["generation"], int(record["revision"]) + 1,
                             playground)
    context.redis.hincrby(WORKED, context.name, 1)
    return {"frame": frame}
