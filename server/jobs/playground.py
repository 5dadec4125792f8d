"""Playground exercises: one per workspace, trained off the event loop, streamed while playing.

An exercise is small (a few hundred points, a few dozen weights), so it lives in the server
process rather than a worker: each *turn* runs SGD steps for up to ``PLAYGROUND_TURN_SECONDS`` in
the CPU pool (an OS thread), then computes the boundary and neuron maps; the loop emits that
frame and starts the next turn, so a page gets ~1 / turn frames a second. Pause ends the loop
after the current turn; the page's disconnect (closing it) ends the exercise. Budgets:
``MAX_PLAYGROUNDS`` exercises at once in all, ``MAX_PLAYGROUND_EPOCHS`` epochs each.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.formats.export import export_graph
from engine.playground import Playground, PlaygroundConfig
from engine.playground import frames as playground_frames
from engine.playground.data import split

from ..limits import BusyError, LimitError


@dataclass
class Exercise:
    workspace: str
    sid: str
    playground: Playground
    playing: bool = False
    generation: int = 0  # bumped by reset / a new exercise: an old loop sees it and ends
    # One turn at a time. An OS lock (under eventlet too): turns take it in the CPU pool's
    # OS threads, where a green lock would not hold.
    lock: Any = field(default_factory=threading.Lock)


def train_turn(playground: Playground, seconds: float, most: int, grid: int,
               between=None) -> dict:
    """SGD steps for ``seconds`` (at least one, never past epoch ``most``), then the frame
    (``grid`` × ``grid`` maps) with ``stepped_at``: the wall clock at the last step, in ms —
    the page's latency to its pixels (bench/playground.py item 3) is measured against it, on
    the same machine. ``between()`` runs between steps and before the frame. LimitError once
    the exercise is at MAX_PLAYGROUND_EPOCHS."""
    if playground.epoch >= most:
        raise LimitError(f"this exercise reached MAX_PLAYGROUND_EPOCHS={most}: reset it to "
                         "train again", "MAX_PLAYGROUND_EPOCHS")
    end = time.perf_counter() + seconds
    playground.step()
    while time.perf_counter() < end and playground.epoch < most:
        if between is not None:
            between()
        playground.step()
    stepped_at = time.time()
    if between is not None:
        between()
    frame = playground_frames.frame(playground, grid)
    frame["stepped_at"] = stepped_at * 1000
    return frame


def sample_text(playground: Playground, index) -> tuple[str, str]:
    """(JSON graph text, name) of point ``index``'s scalar graph (training points first) with
    the current weights."""
    data = playground.data
    count = len(data.train) + len(data.test)
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < count:
        raise ValueError(f"index must be a point's number, 0..{count - 1}")
    train = index < len(data.train)
    k = index if train else index - len(data.train)
    g = playground.sample_graph(train, k)
    text = json.dumps(export_graph(g))
    x, y = (data.train if train else data.test).xy[k]
    name = (f"Playground {'training' if train else 'test'} point {k} "
            f"({x:.2f}, {y:.2f}), epoch {playground.epoch}")
    return text, name


class PlaygroundJobs:
    def __init__(self, settings: dict, cpu, start_task, emit, os_lock=threading.Lock):
        self.settings = settings
        self.os_lock = os_lock
        self.cpu = cpu  # CpuPool: every turn runs in its threads, within its budgets
        self.start_task = start_task
        self.emit = emit  # emit(event, data, sid)
        self.exercises: dict[str, Exercise] = {}  # workspace -> its one exercise

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, workspace: str, sid: str, config: PlaygroundConfig,
              points=None) -> Exercise:
        """A new exercise for ``workspace`` (replacing its old one), paused at epoch 0."""
        old = self.exercises.get(workspace)
        if old is None and len(self.exercises) >= self.settings["MAX_PLAYGROUNDS"]:
            raise BusyError(f"the server is busy: {len(self.exercises)} Playground exercises "
                            f"are open (MAX_PLAYGROUNDS={self.settings['MAX_PLAYGROUNDS']})",
                            "MAX_PLAYGROUNDS")
        data = None
        if points is not None:
            data = split(points, config.ratio, np.random.default_rng(config.seed))
        playground = self.cpu.call(workspace, Playground, config, data)
        if old is not None:
            old.playing = False
        exercise = Exercise(workspace, sid, playground,
                            generation=(old.generation + 1) if old else 0, lock=self.os_lock())
        self.exercises[workspace] = exercise
        return exercise

    def close(self, workspace: str, sid: str) -> None:
        """The page ``sid`` went: its exercise ends (another tab's of the workspace stays)."""
        exercise = self.exercises.get(workspace)
        if exercise is not None and exercise.sid == sid:
            exercise.playing = False
            del self.exercises[workspace]

    def get(self, workspace: str) -> Exercise:
        exercise = self.exercises.get(workspace)
        if exercise is None:
            raise ValueError("no Playground exercise here yet: send playground_start first")
        return exercise

    # -- driving -------------------------------------------------------------------------------
    def play(self, workspace: str, sid: str) -> None:
        exercise = self.get(workspace)
        exercise.sid = sid
        if not exercise.playing:
            exercise.playing = True
            self.start_task(self._loop, exercise, exercise.generation)

    def pause(self, workspace: str) -> dict:
        exercise = self.get(workspace)
        exercise.playing = False
        # In the pool: a turn in flight finishes first (its frame is the last one), and the
        # event loop never waits on the lock.
        return self.cpu.call(workspace, self._frame_locked, exercise)

    def _frame_locked(self, exercise: Exercise) -> dict:
        with exercise.lock:
            return self.frame(exercise)

    def step(self, workspace: str) -> dict:
        """One batch, then its frame (paused exercises only: playing, the loop steps)."""
        exercise = self.get(workspace)
        if exercise.playing:
            raise ValueError("the exercise is playing: pause it before stepping")
        frame = self.cpu.call(workspace, self._turn, exercise, 0.0, False)
        assert frame is not None, "a step that is not the loop's always runs"
        return frame

    def set_weight(self, workspace: str, position, value) -> dict:
        """The diagram's edit of an edge: that weight set (playing or not), then its frame."""
        exercise = self.get(workspace)
        return self.cpu.call(workspace, self._set_weight_locked, exercise, position, value)

    def _set_weight_locked(self, exercise: Exercise, position, value) -> dict:
        with exercise.lock:
            exercise.playground.set_weight(position, value,
                                           self.settings["PLAYGROUND_MAX_WEIGHT"])
            return self.frame(exercise)

    def sample_source(self, workspace: str, index: int) -> tuple[str, str]:
        """(JSON graph text, name) of point ``index``'s scalar graph (training points first)
        with the current weights: one forward and back-prop of that sample, for the Graph tab."""
        exercise = self.get(workspace)
        return self.cpu.call(workspace, self._sample_locked, exercise, index)

    def _sample_locked(self, exercise: Exercise, index: int) -> tuple[str, str]:
        with exercise.lock:
            return sample_text(exercise.playground, index)

    def frame(self, exercise: Exercise) -> dict:
        return playground_frames.frame(exercise.playground, self.settings["PLAYGROUND_GRID"])

    def _turn(self, exercise: Exercise, seconds: float, looping: bool) -> dict | None:
        """Steps for ``seconds`` (at least one), then the frame; in a CPU-pool thread. The
        loop's turn does nothing once paused (a pause may come while it waits for the lock)."""
        with exercise.lock:
            if looping and not exercise.playing:
                return None
            try:
                return train_turn(exercise.playground, seconds,
                                  self.settings["MAX_PLAYGROUND_EPOCHS"],
                                  self.settings["PLAYGROUND_GRID"])
            except LimitError:
                exercise.playing = False
                raise

    def _loop(self, exercise: Exercise, generation: int) -> None:
        seconds = self.settings["PLAYGROUND_TURN_SECONDS"]
        while exercise.playing and exercise.generation == generation \
                and self.exercises.get(exercise.workspace) is exercise:
            try:
                frame = self.cpu.call(exercise.workspace, self._turn, exercise, seconds, True)
            except (BusyError, LimitError) as exc:
                exercise.playing = False
                self.emit("playground_stopped", {"reason": str(exc), "limit": exc.limit},
                          exercise.sid)
                return
            if frame is None or exercise.generation != generation:
                return
            try:
                self.emit("playground_frame", frame, exercise.sid)
            except LimitError:  # the page does not read: it was disconnected, which closes it
                exercise.playing = False
                return
