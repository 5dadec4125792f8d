"""The job runner: training runs in worker processes (``training``), CPU-heavy calls in a
bounded pool of threads (``cpu``), and the runs a terminal trains (``terminal``).

Beyond one machine (``JOBS`` set), ``queued.QueuedTraining`` stands in for ``TrainingJobs`` with
the same interface: runs on an RQ queue in Redis, trained by ``backprop-live worker`` processes.
The rest of the server talks to these classes, never to processes, threads or queues directly.
"""

from ..limits import BusyError, LimitError
from .cpu import CpuPool
from .training import TrainingJobs

__all__ = ["BusyError", "CpuPool", "LimitError", "TrainingJobs"]
