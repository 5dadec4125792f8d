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

The keys and scripts, and the worker's side: ``jobs.playground_turns``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid

import numpy as np
from rq import Queue
from rq.serializers import JSONSerializer

from engine.playground import Playground, PlaygroundConfig
from engine.playground import frames as playground_frames
from engine.playground.data import split

from ..limits import BusyError, LimitError
from .playground import Exercise, sample_text, train_turn
from .playground_turns import (
    ANSWER_SECONDS,
    CLOSE,
    EXERCISE_SECONDS,
    OPEN,
    QUEUE,
    RENEW,
    SET_FIELDS,
    SLOTS,
    TAKEN_SECONDS,
    UNPLAY,
    Copies,
    Progress,
    exercise_key,
    progress_of,
    setup_of,
    taken_key,
    turn_key,
    unpacked_answer,
)
from .queued import cancel_if_queued, connect_rq
from .shared import connect

log = logging.getLogger(__name__)
RENEW_SECONDS = 60  # how often this process renews its pages' exercises (they lapse after 300)
DEATHS_IN_A_ROW = 3  # turns whose worker died, one after another, before the loop gives up
CHANGE_ATTEMPTS = 8  # an edit computed again after this many lost races is refused as busy


class QueuedPlaygrounds:
    """``jobs.playground.PlaygroundJobs``'s interface, with the exercises in Redis and their
    turns on the workers."""

    def __init__(self, settings: dict, cpu, start_task, sleep, emit, connected,
                 os_lock=threading.Lock):
        self.settings = settings
        self.cpu = cpu
        self.start_task, self.sleep = start_task, sleep
        self.emit = emit  # emit(event, data, sid); server.sockets.playground sets its own
        self.connected = connected  # connected(sid): whether that page is still this process's
        self.redis = connect(settings["JOBS"])
        self.queue = Queue(QUEUE, connection=connect_rq(settings["JOBS"]),
                           serializer=JSONSerializer)
        self.wait = float(settings["PLAYGROUND_TURN_WAIT_SECONDS"])
        if not self.wait > TAKEN_SECONDS:
            raise ValueError(f"PLAYGROUND_TURN_WAIT_SECONDS must be more than "
                             f"{TAKEN_SECONDS:g}, not {self.wait:g}")
        self.limits = {"epochs": settings["MAX_PLAYGROUND_EPOCHS"],
                       "seconds": settings["PLAYGROUND_TURN_SECONDS"],
                       "grid": settings["PLAYGROUND_GRID"]}  # what each turn is computed with
        self.copies = Copies(os_lock())
        self.progress = Progress(self.redis)
        self._open = self.redis.register_script(OPEN)
        self._set_fields = self.redis.register_script(SET_FIELDS)
        self._close = self.redis.register_script(CLOSE)
        self._unplay = self.redis.register_script(UNPLAY)
        self._renew = self.redis.register_script(RENEW)
        self.loops: dict[str, str] = {}  # workspace -> the id of this process's loop playing it
        self.pages: dict[str, str] = {}  # workspace -> the page of this process that has it
        # workspace -> a lock (green: the event loop's) that one change of it at a time holds
        # in this process, from reading it to writing it; other processes' lose at the write
        self.changing: dict[str, threading.Lock] = {}
        start_task(self._renew_pages)

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
        self.pages[workspace] = sid
        self.copies.forget(workspace)  # the socket's answer reads this one; a change builds its own
        return Exercise(workspace, sid, playground)

    def close(self, workspace: str, sid: str) -> None:
        """The page ``sid`` went: its exercise ends (another tab's of the workspace stays)."""
        try:
            self._close(keys=[exercise_key(workspace), SLOTS], args=[sid, workspace])
        except Exception:  # Redis away: the exercise lapses by itself, unrenewed
            log.warning("could not close the Playground exercise of %s", workspace,
                        exc_info=True)
        if self.pages.get(workspace) == sid:
            del self.pages[workspace]
            self.loops.pop(workspace, None)
            self.changing.pop(workspace, None)
            self.copies.forget(workspace)

    def frame(self, exercise: Exercise) -> dict:
        return self._frame(exercise.playground)

    def _record(self, workspace: str) -> dict:
        record = self.redis.hgetall(exercise_key(workspace))
        if not record:
            raise ValueError("no Playground exercise here yet: send playground_start first")
        return record

    # -- driving -------------------------------------------------------------------------------
    def play(self, workspace: str, sid: str) -> None:
        record = self._record(workspace)
        playing = record.get("playing")
        if playing is not None and self.loops.get(workspace) == playing:
            self._set_fields(keys=[exercise_key(workspace)],
                             args=[record["generation"], "sid", sid])
            self.pages[workspace] = sid
            return  # this process's loop plays it: its frames go to ``sid`` from now on
        loop = uuid.uuid4().hex
        if self._set_fields(keys=[exercise_key(workspace)],
                            args=[record["generation"], "sid", sid, "playing", loop]):
            self.loops[workspace] = loop
            self.pages[workspace] = sid
            self.start_task(self._loop, workspace, loop)

    def pause(self, workspace: str) -> dict:
        self.redis.hdel(exercise_key(workspace), "playing")  # no turn in flight writes after it
        return self._change(workspace, self._frame, save=False)

    def step(self, workspace: str) -> dict:
        """One batch, then its frame (paused exercises only: playing, the workers step)."""
        return self._change(workspace, self._step, save=True, paused=True)

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
        return train_turn(playground, 0.0, self.settings["MAX_PLAYGROUND_EPOCHS"],
                          self.settings["PLAYGROUND_GRID"])

    def _change(self, workspace: str, work, save: bool, paused: bool = False):
        """``work(playground)`` on the exercise as Redis has it, in the CPU pool; with ``save``,
        its change written unless a turn (or another process's edit) wrote first — then
        computed again. One change of a workspace at a time in this process."""
        with self.changing.setdefault(workspace, threading.Lock()):
            for _ in range(CHANGE_ATTEMPTS):
                record = self._record(workspace)
                if paused and record.get("playing"):
                    raise ValueError("the exercise is playing: pause it before stepping")
                playground, result, progress = self.cpu.call(
                    workspace, self._apply, workspace, record, work, save)
                if not save:
                    self.copies.give_back(workspace, record["generation"],
                                          int(record["revision"]), playground)
                    return result
                saved = self.progress.save(workspace, record, progress)
                if saved == 1:
                    self.copies.give_back(workspace, record["generation"],
                                          int(record["revision"]) + 1, playground)
                    return result
                if saved < 0:
                    raise ValueError("this Playground exercise was replaced while it changed: "
                                     "start it again")
        raise BusyError(f"the exercise's turns (of PLAYGROUND_TURN_SECONDS each) were written "
                        f"first {CHANGE_ATTEMPTS} times while this was computed: try again",
                        "PLAYGROUND_TURN_SECONDS")

    def _apply(self, workspace: str, record: dict, work, save: bool):
        """In a CPU-pool thread, on a copy no one else has: (it, what ``work`` gave, its
        progress to write if ``save``). A copy that ``work`` failed on is dropped."""
        playground = self.copies.take(workspace, record, lambda: record["setup"])
        result = work(playground)
        return playground, result, progress_of(playground) if save else None

    # -- the loop ------------------------------------------------------------------------------
    def _loop(self, workspace: str, loop: str) -> None:
        try:
            self._play(workspace, loop)
        except Exception as exc:  # the page is told, not left waiting, and may step again
            log.exception("the Playground loop of %s failed", workspace)
            sid = self.pages.get(workspace)
            with contextlib.suppress(Exception):
                self._stop(workspace, loop)
            if sid is not None:
                self.emit("playground_stopped", {
                    "reason": f"the Playground's loop failed: {type(exc).__name__}: {exc}",
                    "limit": None}, sid)
        finally:
            if self.loops.get(workspace) == loop:
                del self.loops[workspace]

    def _play(self, workspace: str, loop: str) -> None:
        """While ``loop`` plays the exercise: a turn on the queue, its frame to the page."""
        deaths, key = 0, exercise_key(workspace)
        while True:
            playing, sid = self.redis.hmget(key, "playing", "sid")
            if playing != loop:
                break
            token = uuid.uuid4().hex
            self.queue.enqueue("server.jobs.playground_turns.turn", workspace, loop, token,
                               self.limits, job_id=token, job_timeout=60, result_ttl=0,
                               failure_ttl=ANSWER_SECONDS)
            answer = self._answer(token)
            if answer == "died":
                deaths += 1
                if deaths < DEATHS_IN_A_ROW:
                    continue
                answer = {"error": f"the workers computing this exercise stopped "
                                   f"{DEATHS_IN_A_ROW} turns in a row", "limit": None}
            elif answer is None:
                cancel_if_queued(token, self.queue.connection)
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
            # Not after a pause, a reset or another tab's play that came while it was computed
            if "frame" in answer and self.redis.hget(key, "playing") == loop:
                try:
                    self.emit("playground_frame", answer["frame"], sid)
                except LimitError:  # the page does not read: it was disconnected, which closes it
                    self._stop(workspace, loop)
                    break

    def _renew_pages(self) -> None:
        """Every RENEW_SECONDS: the exercises of this process's pages still connected are
        renewed in Redis; a gone page's is left to lapse."""
        while True:
            self.sleep(RENEW_SECONDS)
            for workspace, sid in list(self.pages.items()):
                try:
                    renewed = self.connected(sid) and self._renew(
                        keys=[exercise_key(workspace), SLOTS],
                        args=[sid, workspace, int(EXERCISE_SECONDS * 1000)])
                except Exception:  # Redis away for a moment: renew it next time
                    log.warning("could not renew the Playground exercises", exc_info=True)
                    break
                if not renewed and self.pages.get(workspace) == sid:  # gone, or another's
                    self.close(workspace, sid)

    def _answer(self, token: str):
        """The turn's answer; "died" if its worker took it and went; None if none took it
        within PLAYGROUND_TURN_WAIT_SECONDS."""
        waited, taken, raw = 0.0, False, self.queue.connection
        while waited < self.wait:
            popped = raw.blpop([turn_key(token)], timeout=0.25)
            if popped is not None:
                return unpacked_answer(popped[1])
            waited += 0.25
            if self.redis.exists(taken_key(token)):
                taken = True
            elif taken:
                last = raw.lpop(turn_key(token))  # it may have answered just now
                return unpacked_answer(last) if last is not None else "died"
        return None

    def _stop(self, workspace: str, loop: str) -> None:
        """The exercise stops playing, if ``loop`` still plays it."""
        self._unplay(keys=[exercise_key(workspace)], args=[loop])
