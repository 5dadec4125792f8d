"""The job runner: training runs in worker processes (``training``), CPU-heavy calls in a
bounded pool of threads (``cpu``), and the runs a terminal trains (``terminal``).

This is the interface a queue on Redis would replace for running beyond one machine: the rest
of the server talks to these classes, never to processes or threads directly.
"""

from ..limits import BusyError, LimitError
from .cpu import CpuPool
from .training import TrainingJobs

__all__ = ["BusyError", "CpuPool", "LimitError", "TrainingJobs"]
