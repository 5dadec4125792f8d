"""The Playground's training on the job queue (``JOBS``): each *turn* of a playing exercise —
SGD steps for PLAYGROUND_TURN_SECONDS, then its frame — is one RQ job, which any
``backprop-live worker`` may take; the exercise itself lives in Redis between turns.

Why a job per turn rather than one per Play: a playing exercise wants a CPU for as long as its
student leaves it playing. Turns of ~60 ms let N workers share M exercises turn by turn; a
worker killed mid-turn loses that turn only (the exercise stays as the last turn left it); and
the worker a paused exercise frees takes another's next turn at once.

The web process keeps the socket. Its loop enqueues a turn, reads the answer back from the Redis
list ``bpl:playground-turn:<token>``, emits the frame through its own backpressure, then
enqueues the next turn. The light requests (start, step, pause, a weight's edit, a point's graph)
are computed in the web process's CPU pool, as small traces are.

Nothing here takes a lock. Every change of an exercise's progress is written by one Lua script
that compares the revision it started from (and, for a turn, that its loop still plays the
exercise), so two changes never both land and none is lost: a turn that lost the race is
dropped (the next starts from the edit), and an edit that lost it is computed again. A pause
stops the loop's turns from writing at once, so the pause's frame is the exercise's last.

Redis keys:
- ``bpl:playground:<workspace>``, a hash: ``generation`` (this exercise's id), ``sid`` (the page
  that plays or opened it), ``setup`` (its config and points), ``progress`` (parameters, epoch,
  step, cursor), ``revision`` (bumped by every change of progress), ``playing`` (the id of the
  loop that plays it; absent when paused). It lapses EXERCISE_SECONDS after its last use: a web
  process killed with a page open never closes its exercise.
- ``bpl:playground-turn:<token>`` (a turn's answer) and ``bpl:playground-taken:<token>`` (a
  worker computes that turn; it lapses TAKEN_SECONDS later, so a web process that saw it and sees
  it gone with no answer knows the worker died, and plays the next turn elsewhere).
- ``bpl:slots:playgrounds``: MAX_PLAYGROUNDS, counted for every process.
- ``bpl:playground-work``, a hash: worker name -> the turns it computed and saved.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field

import numpy as np
from rq import Queue
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job
from rq.serializers import JSONSerializer

from engine.playground import Playground, PlaygroundConfig, Points, Split
from engine.playground import frames as playground_frames
from engine.playground.data import split

from ..limits import BusyError, LimitError
from .playground import Exercise, sample_text
from .queued import connect_rq
from .queued_graphs import packed, unpacked
from .shared import PREFIX, connect

log = logging.getLogger(__name__)
QUEUE = "backprop-live-playground"
SLOTS = PREFIX + "slots:playgrounds"
WORKED = PREFIX + "playground-work"  # hash: worker name -> turns it computed and saved
EXERCISE_SECONDS = 4 * 3600  # an exercise nobody used this long is gone (a lesson is shorter)
TAKEN_SECONDS = 2.0  # a turn lasts ~0.1 s: its worker's mark outlives it many times over
ANSWER_SECONDS = 60  # an answer nobody read lapses from Redis after this
DEATHS_IN_A_ROW = 3  # turns whose worker died, one after another, before the loop gives up
CHANGE_ATTEMPTS = 8  # an edit computed again after this many lost races is refused as busy


def exercise_key(workspace: str) -> str:
    return f"{PREFIX}playground:{workspace}"


def turn_key(token: str) -> str:
    return f"{PREFIX}playground-turn:{token}"


def taken_key(token: str) -> str:
    return f"{PREFIX}playground-taken:{token}"


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
redis.call('PEXPIRE', KEYS[1], ARGV[4])
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('ZADD', KEYS[2], 'XX', ms + tonumber(ARGV[4]), ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
"""

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


@dataclass
class Copies:
    """Each workspace's Playground built from Redis, kept while its generation lasts, and the
    revision it holds: a turn or an edit only reads the progress again when it moved on."""

    most: int = 256
    held: dict = field(default_factory=dict)  # workspace -> (generation, revision, Playground)

    def get(self, workspace: str, record: dict) -> Playground:
        generation, revision = record["generation"], int(record["revision"])
        held = self.held.pop(workspace, None)
        if held is not None and held[0] == generation and held[1] == revision:
            playground = held[2]
        else:
            playground = held[2] if held is not None and held[0] == generation \
                else playground_of(record["setup"])
            progress = unpacked(record["progress"])
            playground.resume({**progress, "params": np.frombuffer(progress["params"])})
        self.keep(workspace, generation, revision, playground)
        return playground

    def keep(self, workspace: str, generation: str, revision: int,
             playground: Playground) -> None:
        self.held.pop(workspace, None)
        self.held[workspace] = (generation, revision, playground)  # newest last
        while len(self.held) > self.most:
            del self.held[next(iter(self.held))]

    def forget(self, workspace: str) -> None:
        self.held.pop(workspace, None)


class Progress:
    """The scripts that change an exercise in Redis, for both sides."""

    def __init__(self, client):
        self.redis = client
        self.save_script = client.register_script(SAVE)

    def save(self, workspace: str, record: dict, playground: Playground,
             playing: str = "") -> int:
        return int(self.save_script(
            keys=[exercise_key(workspace), SLOTS],
            args=[record["generation"], record["revision"], progress_of(playground),
                  int(EXERCISE_SECONDS * 1000), workspace, playing]))


# -- the worker's side ------------------------------------------------------------------------
@dataclass
class PlaygroundWorkContext:
    """What ``backprop-live worker`` gives the turns: Redis, the settings, its name."""

    redis: object  # shared.connect(JOBS)
    settings: dict
    name: str = ""
    copies: Copies = field(default_factory=Copies)
    progress: Progress | None = None


CONTEXT: PlaygroundWorkContext | None = None  # set by `backprop-live worker`


def turn(workspace: str, playing: str, token: str) -> str:
    """One turn of the exercise loop ``playing`` plays; its answer pushed for the web process."""
    context = CONTEXT
    assert context is not None, "turn runs in `backprop-live worker`"
    red = context.redis
    red.set(taken_key(token), "1", px=int(TAKEN_SECONDS * 1000))
    try:
        answer = _turn(context, workspace, playing)
    except LimitError as exc:
        answer = {"error": str(exc), "limit": exc.limit}
    except Exception as exc:  # noqa: BLE001 — the page is told, the worker goes on
        log.exception("a Playground turn of %s failed", workspace)
        context.copies.forget(workspace)
        answer = {"error": f"the worker failed: {type(exc).__name__}: {exc}"[:2000],
                  "limit": None}
    answer["worker"] = context.name
    with red.pipeline() as pipe:
        pipe.rpush(turn_key(token), packed(answer))
        pipe.expire(turn_key(token), ANSWER_SECONDS)
        pipe.delete(taken_key(token))
        pipe.execute()
    return "done"


def _turn(context: PlaygroundWorkContext, workspace: str, playing: str) -> dict:
    record = context.redis.hgetall(exercise_key(workspace))
    if record.get("playing") != playing:
        return {"idle": True}  # paused, closed or played by another loop since it was queued
    settings = context.settings
    playground = context.copies.get(workspace, record)
    most = settings["MAX_PLAYGROUND_EPOCHS"]
    if playground.epoch >= most:
        raise LimitError(f"this exercise reached MAX_PLAYGROUND_EPOCHS={most}: reset it to "
                         "train again", "MAX_PLAYGROUND_EPOCHS")
    end = time.perf_counter() + settings["PLAYGROUND_TURN_SECONDS"]
    playground.step()
    while time.perf_counter() < end and playground.epoch < most:
        playground.step()
    stepped_at = time.time()
    frame = playground_frames.frame(playground, settings["PLAYGROUND_GRID"])
    frame["stepped_at"] = stepped_at * 1000  # as the web process's turns: bench/playground.py
    assert context.progress is not None
    saved = context.progress.save(workspace, record, playground, playing)
    if saved != 1:  # an edit came first (the next turn starts from it), or a pause did
        context.copies.forget(workspace)
        return {"idle": True} if saved < 0 else {"again": True}
    context.copies.keep(workspace, record["generation"], int(record["revision"]) + 1,
                        playground)
    context.redis.hincrby(WORKED, context.name, 1)
    return {"frame": frame}


# -- the web process's side -------------------------------------------------------------------
class QueuedPlaygrounds:
    """``jobs.playground.PlaygroundJobs``'s interface, with the exercises in Redis and their
    turns on the workers."""

    def __init__(self, settings: dict, cpu, start_task, emit, os_lock=threading.Lock):
        self.settings = settings
        self.os_lock = os_lock  # OS locks: the copies are used in the CPU pool's threads
        self._locks: dict[str, object] = {}  # workspace -> the lock of its copy
        self._locks_lock = os_lock()
        self.cpu = cpu
        self.start_task = start_task
        self.emit = emit  # emit(event, data, sid); server.sockets.playground sets its own
        self.redis = connect(settings["JOBS"])
        self.queue = Queue(QUEUE, connection=connect_rq(settings["JOBS"]),
                           serializer=JSONSerializer)
        self.wait = float(settings["PLAYGROUND_TURN_WAIT_SECONDS"])
        if not self.wait > TAKEN_SECONDS:
            raise ValueError(f"PLAYGROUND_TURN_WAIT_SECONDS must be more than "
                             f"{TAKEN_SECONDS:g}, not {self.wait:g}")
        self.copies = Copies()
        self.progress = Progress(self.redis)
        self._open = self.redis.register_script(OPEN)
        self._set_fields = self.redis.register_script(SET_FIELDS)
        self._close = self.redis.register_script(CLOSE)
        self._unplay = self.redis.register_script(UNPLAY)
        self.loops: dict[str, str] = {}  # workspace -> the id of this process's loop playing it

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, workspace: str, sid: str, config: PlaygroundConfig,
              points=None) -> Exercise:
        data = None
        if points is not None:
            data = split(points, config.ratio, np.random.default_rng(config.seed))
        playground = self.cpu.call(workspace, Playground, config, data)
        generation, most = uuid.uuid4().hex, self.settings["MAX_PLAYGROUNDS"]
        held = int(self._open(keys=[exercise_key(workspace), SLOTS], args=[
            workspace, most, int(EXERCISE_SECONDS * 1000), generation, sid,
            setup_of(playground), progress_of(playground)]))
        if held >= 0:
            raise BusyError(f"the server is busy: {held} Playground exercises are open "
                            f"(MAX_PLAYGROUNDS={most})", "MAX_PLAYGROUNDS")
        self.copies.keep(workspace, generation, 0, playground)
        return Exercise(workspace, sid, playground)

    def close(self, workspace: str, sid: str) -> None:
        """The page ``sid`` went: its exercise ends (another tab's of the workspace stays)."""
        if self._close(keys=[exercise_key(workspace), SLOTS], args=[sid, workspace]):
            self.copies.forget(workspace)
            self.loops.pop(workspace, None)
            with self._locks_lock:
                self._locks.pop(workspace, None)

    def frame(self, exercise: Exercise) -> dict:
        return playground_frames.frame(exercise.playground, self.settings["PLAYGROUND_GRID"])

    def _record(self, workspace: str) -> dict:
        record = self.redis.hgetall(exercise_key(workspace))
        if not record:
            raise ValueError("no Playground exercise here yet: send playground_start first")
        self.redis.pexpire(exercise_key(workspace), int(EXERCISE_SECONDS * 1000))
        return record

    # -- driving -------------------------------------------------------------------------------
    def play(self, workspace: str, sid: str) -> None:
        record = self._record(workspace)
        playing = record.get("playing")
        if playing is not None and self.loops.get(workspace) == playing:
            self._set_fields(keys=[exercise_key(workspace)],
                             args=[record["generation"], "sid", sid])
            return  # this process's loop plays it: its frames go to ``sid`` from now on
        loop = uuid.uuid4().hex
        if self._set_fields(keys=[exercise_key(workspace)],
                            args=[record["generation"], "sid", sid, "playing", loop]):
            self.loops[workspace] = loop
            self.start_task(self._loop, workspace, loop)

    def pause(self, workspace: str) -> dict:
        self.redis.hdel(exercise_key(workspace), "playing")  # no turn in flight writes after it
        return self._change(workspace, self._frame, save=False)

    def step(self, workspace: str) -> dict:
        """One batch, then its frame (paused exercises only: playing, the workers step)."""
        if self._record(workspace).get("playing"):
            raise ValueError("the exercise is playing: pause it before stepping")
        return self._change(workspace, self._step, save=True)

    def set_weight(self, workspace: str, position, value) -> dict:
        largest = self.settings["PLAYGROUND_MAX_WEIGHT"]

        def edit(playground: Playground) -> dict:
            playground.set_weight(position, value, largest)
            return self._frame(playground)
        return self._change(workspace, edit, save=True)

    def sample_source(self, workspace: str, index: int) -> tuple[str, str]:
        """(JSON graph text, name) of point ``index``'s graph with the current weights."""
        return self._change(workspace, lambda playground: sample_text(playground, index),
                            save=False)

    def _frame(self, playground: Playground) -> dict:
        return playground_frames.frame(playground, self.settings["PLAYGROUND_GRID"])

    def _step(self, playground: Playground) -> dict:
        most = self.settings["MAX_PLAYGROUND_EPOCHS"]
        if playground.epoch >= most:
            raise LimitError(f"this exercise reached MAX_PLAYGROUND_EPOCHS={most}: reset it to "
                             "train again", "MAX_PLAYGROUND_EPOCHS")
        playground.step()
        return self._frame(playground)

    def _change(self, workspace: str, work, save: bool):
        """``work(playground)`` on the exercise as Redis has it, in the CPU pool; with ``save``,
        its change written unless a turn or another edit wrote first — then computed again."""
        for _ in range(CHANGE_ATTEMPTS):
            record = self._record(workspace)
            playground, result = self.cpu.call(workspace, self._apply, workspace, record, work)
            if not save:
                return result
            saved = self.progress.save(workspace, record, playground)
            if saved == 1:
                self.copies.keep(workspace, record["generation"], int(record["revision"]) + 1,
                                 playground)
                return result
            self.copies.forget(workspace)
            if saved < 0:
                raise ValueError("this Playground exercise was replaced while it changed: "
                                 "start it again")
        raise BusyError(f"the exercise changed {CHANGE_ATTEMPTS} times while this was computed:"
                        " try again", "PLAYGROUND_TURN_SECONDS")

    def _apply(self, workspace: str, record: dict, work):
        """In a CPU-pool thread; one at a time per workspace, since they share its copy."""
        with self._lock_of(workspace):
            playground = self.copies.get(workspace, record)
            try:
                return playground, work(playground)
            except Exception:
                self.copies.forget(workspace)  # it may be half changed
                raise

    def _lock_of(self, workspace: str):
        with self._locks_lock:
            return self._locks.setdefault(workspace, self.os_lock())

    # -- the loop ------------------------------------------------------------------------------
    def _loop(self, workspace: str, loop: str) -> None:
        """While ``loop`` plays the exercise: a turn on the queue, its frame to the page."""
        deaths = 0
        while True:
            playing, sid = self.redis.hmget(exercise_key(workspace), "playing", "sid")
            if playing != loop:
                break
            token = uuid.uuid4().hex
            self.queue.enqueue("server.jobs.queued_playground.turn", workspace, loop, token,
                               job_id=token, job_timeout=60, result_ttl=0,
                               failure_ttl=ANSWER_SECONDS)
            answer = self._answer(token)
            if answer == "died":
                deaths += 1
                if deaths < DEATHS_IN_A_ROW:
                    continue
                answer = {"error": f"the workers computing this exercise stopped "
                                   f"{DEATHS_IN_A_ROW} turns in a row", "limit": None}
            elif answer is None:
                self._cancel(token)
                answer = {"error": f"no worker took this exercise's turn within {self.wait:g} s "
                                   "(PLAYGROUND_TURN_WAIT_SECONDS): are `backprop-live worker` "
                                   "processes running, and one of them not training?",
                          "limit": "PLAYGROUND_TURN_WAIT_SECONDS"}
            deaths = 0
            if "error" in answer:
                self._stop(workspace, loop)
                self.emit("playground_stopped", {"reason": answer["error"],
                                                 "limit": answer["limit"]}, sid)
                break
            if answer.get("idle"):
                break
            if "frame" in answer:
                try:
                    self.emit("playground_frame", answer["frame"], sid)
                except LimitError:  # the page does not read: it was disconnected, which closes it
                    self._stop(workspace, loop)
                    break
        if self.loops.get(workspace) == loop:
            del self.loops[workspace]

    def _answer(self, token: str):
        """The turn's answer; "died" if its worker took it and went; None if none took it
        within PLAYGROUND_TURN_WAIT_SECONDS."""
        waited, taken = 0.0, False
        while waited < self.wait:
            popped = self.redis.blpop([turn_key(token)], timeout=0.25)
            if popped is not None:
                return unpacked(popped[1])
            waited += 0.25
            if self.redis.exists(taken_key(token)):
                taken = True
            elif taken:
                last = self.redis.lpop(turn_key(token))  # it may have answered just now
                return unpacked(last) if last is not None else "died"
        return None

    def _cancel(self, token: str) -> None:
        try:
            job = Job.fetch(token, connection=self.queue.connection, serializer=JSONSerializer)
            if job.get_status() == "queued":
                job.cancel()
        except (NoSuchJobError, InvalidJobOperation):
            pass

    def _stop(self, workspace: str, loop: str) -> None:
        """The exercise stops playing, if ``loop`` still plays it."""
        self._unplay(keys=[exercise_key(workspace)], args=[loop])
