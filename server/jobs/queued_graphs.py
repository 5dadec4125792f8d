"""Heavy graph work — big traces and gradient checks — on the RQ queue (``JOBS``), computed by
``backprop-live worker`` processes; small graphs stay in the web process, so the page stays
snappy (``QUEUED_GRAPH_MIN_NODES``).

The web process keeps the socket, the budgets and the streaming: it enqueues the work under the
trace's token and reads the answer back from a Redis list, ``bpl:graph:<token>``, one message at
a time — a trace's header (its size, the worker's name), then each frame in order; a gradient
check's report. So each frame reaches its socket once and in order, through the web process's own
backpressure, whichever worker computed it. A cancel (``cancel_trace``, or the page going away)
sets ``bpl:cancel:<token>``: a job still waiting is cancelled in the queue, a worker that has it
checks the mark before computing and between frames. No answer within
``QUEUED_GRAPH_WAIT_SECONDS`` cancels it and says so.

The messages are JSON, their binary arrays base64 (``{"$b64": ...}``): a worker sends data, never
code. ``bpl:graph-work`` counts, per worker name, the jobs each has computed.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import dataclass

from rq import Queue
from rq.serializers import JSONSerializer

from ..limits import LimitError
from .queued import cancel_if_queued, connect_rq
from .shared import PREFIX, connect

log = logging.getLogger(__name__)
QUEUE = "backprop-live-graphs"  # workers take from it before the training queue: it is short work
ANSWER_SECONDS = 600  # an answer nobody reads lapses from Redis after this
WORKED = PREFIX + "graph-work"  # hash: worker name -> graph jobs it computed
KINDS = ("trace", "gradient_check")
# What a graph's request can fail with (its answer says why); anything else is logged as a fault.
EXPECTED = ("NotFoundError", "DomainError", "ValueError", "TypeError", "OverflowError",
            "FormatError", "LimitError", "StorageError")


def answers_key(token: str) -> str:
    return f"{PREFIX}graph:{token}"


def cancel_key(token: str) -> str:
    return f"{PREFIX}cancel:{token}"


def packed(message) -> str:
    """JSON, with bytes (the frames' arrays) as {"$b64": ...}."""
    def default(value):
        if isinstance(value, bytes):
            return {"$b64": base64.b64encode(value).decode("ascii")}
        raise TypeError(f"not JSON: {type(value).__name__}")
    return json.dumps(message, default=default, allow_nan=True)


def unpacked(text: str):
    def hook(obj):
        if len(obj) == 1 and "$b64" in obj:
            return base64.b64decode(obj["$b64"])
        return obj
    return json.loads(text, object_hook=hook)


class QueuedGraphs:
    """The web process's side: enqueue, read the answers, cancel."""

    def __init__(self, settings: dict):
        self.redis = connect(settings["JOBS"])
        self.queue = Queue(QUEUE, connection=connect_rq(settings["JOBS"]),
                           serializer=JSONSerializer)
        self.min_nodes = int(settings["QUEUED_GRAPH_MIN_NODES"])
        self.wait = float(settings["QUEUED_GRAPH_WAIT_SECONDS"])
        if self.min_nodes < 0:
            raise ValueError(f"QUEUED_GRAPH_MIN_NODES must be 0 or more, not {self.min_nodes}")
        if not self.wait > 0:
            raise ValueError(f"QUEUED_GRAPH_WAIT_SECONDS must be more than 0, not {self.wait:g}")

    def wanted(self, nodes: int) -> bool:
        return nodes >= self.min_nodes

    def start(self, kind: str, token: str, ref: str, workspace: str, args: dict) -> None:
        self.queue.enqueue("server.jobs.queued_graphs.graph_job", kind, token, ref, workspace,
                           args, job_id=token, job_timeout=max(60, int(self.wait * 10)),
                           result_ttl=0, failure_ttl=ANSWER_SECONDS)

    def answers(self, token: str, cancelled):
        """The job's messages in order, until its last (``"last": true``); stops (and cancels
        the job) once ``cancelled()``. LimitError if one is not there within the wait."""
        waited = 0.0
        while True:
            if cancelled():
                self.cancel(token)
                return
            popped = self.redis.blpop([answers_key(token)], timeout=0.25)
            if popped is None:
                waited += 0.25
                if waited >= self.wait:
                    self.cancel(token)
                    raise LimitError(
                        f"no worker answered within {self.wait:g} s (QUEUED_GRAPH_WAIT_SECONDS):"
                        " are `backprop-live worker` processes running?",
                        "QUEUED_GRAPH_WAIT_SECONDS")
                continue
            waited = 0.0
            message = unpacked(popped[1])
            yield message
            if message.get("last"):
                self.redis.delete(answers_key(token))
                return

    def cancel(self, token: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.set(cancel_key(token), "1", ex=ANSWER_SECONDS)
            pipe.delete(answers_key(token))
            pipe.execute()
        cancel_if_queued(token, self.queue.connection)


# -- the worker's side ------------------------------------------------------------------------
@dataclass
class GraphWorkContext:
    """What ``backprop-live worker`` gives the graph jobs: the compute functions (the sockets'
    own, injected: this layer does not import them) and the worker's name."""

    redis: object  # shared.connect(JOBS)
    name: str
    # kind -> fn(ref, workspace, args, token, cancelled) -> [message, ...] (the last: "last")
    compute: dict


CONTEXT: GraphWorkContext | None = None  # set by `backprop-live worker`


def graph_job(kind: str, token: str, ref: str, workspace: str, args: dict) -> str:
    """Compute one trace or gradient check and push its messages for the web process."""
    context = CONTEXT
    assert context is not None, "graph_job runs in `backprop-live worker`"
    red = context.redis

    def cancelled() -> bool:
        return bool(red.exists(cancel_key(token)))
    if cancelled():
        return "cancelled"
    red.hincrby(WORKED, context.name, 1)
    try:
        messages = context.compute[kind](ref, workspace, args, token, cancelled)
    except Exception as exc:  # the web process answers with it, as it would its own
        messages = [{"error": str(exc)[:2000], "kind": type(exc).__name__,
                     "node": getattr(exc, "position", None), "limit": getattr(exc, "limit", None)}]
        if type(exc).__name__ not in EXPECTED:
            log.exception("graph job %s failed", token)
            messages[0]["error"] = f"the worker failed: {type(exc).__name__}: {exc}"[:2000]
    if messages is None:
        return "cancelled"
    messages[0] = {**messages[0], "worker": context.name, "pid": os.getpid()}
    messages[-1] = {**messages[-1], "last": True}
    key = answers_key(token)
    for message in messages:
        if cancelled():
            red.delete(key)
            return "cancelled"
        with red.pipeline() as pipe:
            pipe.rpush(key, packed(message))
            pipe.expire(key, ANSWER_SECONDS)
            pipe.execute()
    return "done"
