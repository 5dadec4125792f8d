"""Socket.IO events for a run's pictures (docs/protocol.md): the test digits with their
predictions, the conv kernels' history, and one digit's feature maps and saliency — each
computed from the run's stored weights in the CPU pool, answered in the acknowledgement with
its arrays as binary attachments."""

from __future__ import annotations

import math
from functools import partial

from ..catalog import NotFoundError
from ..jobs import pictures
from .common import handle, text_arg, workspace


def _run(services, data) -> dict:
    run = services.store.run(text_arg(data, "run_id"), workspace())
    if run is None:
        raise NotFoundError("no such run")
    return run


def _epoch(data) -> int | None:
    epoch = data.get("epoch")
    if epoch is None:
        return None
    if not isinstance(epoch, int) or isinstance(epoch, bool) or not 0 <= epoch <= 100000:
        raise ValueError("epoch must be an integer ≥ 0 (0: before training), or null: the "
                         "latest")
    return epoch


def _pixels(data) -> list[float]:
    pixels = data.get("pixels")
    side = pictures.SIZE
    if not isinstance(pixels, list) or len(pixels) != side * side or not all(
            isinstance(p, (int, float)) and not isinstance(p, bool) and math.isfinite(p)
            and 0 <= p <= 1 for p in pixels):
        raise ValueError(f"pixels must be {side * side} numbers in [0, 1] ({side}×{side}, "
                         "row by row)")
    return [float(p) for p in pixels]


def _class(data, key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10:
        raise ValueError(f"{key} must be a class 0..9")
    return value


def test_digits(services, data):
    run, epoch = _run(services, data), _epoch(data)
    return {"ok": True, **services.cpu.call(workspace(), pictures.test_strip, services.store,
                                            run, epoch)}


def kernels(services, data):
    run = _run(services, data)
    return {"ok": True, **services.cpu.call(workspace(), pictures.kernel_history,
                                            services.store, run)}


def _which(data) -> tuple[int | None, list[float] | None]:
    """(a test digit's index, None) or (None, drawn pixels)."""
    digit = data.get("digit")
    if digit is None:
        return None, _pixels(data)
    if not isinstance(digit, int) or isinstance(digit, bool) or not 0 <= digit < 360:
        raise ValueError("digit must be a test digit's index, 0..359")
    return digit, None


def digit_maps(services, data):
    run, epoch = _run(services, data), _epoch(data)
    digit, pixels = _which(data)
    return {"ok": True, **services.cpu.call(workspace(), pictures.digit_maps, services.store,
                                            run, epoch, digit, pixels, _class(data, "label"))}


def digit_graph(services, data):
    """The digit's scalar graph with the run's weights, for the Graph tab: its ref (loaded and
    traced as any graph's) and the loss digit_maps gave it."""
    run, epoch = _run(services, data), _epoch(data)
    digit, pixels = _which(data)
    ws = workspace()
    loaded, name, loss = services.cpu.call(ws, pictures.digit_graph, services.store, run,
                                           epoch, digit, pixels, _class(data, "label"))
    return {"ok": True, "ref": services.catalog.keep_digit(ws, loaded, name), "name": name,
            "loss": loss}


def register(socketio, services) -> None:
    handle(socketio, "run_test_digits", partial(test_digits, services))
    handle(socketio, "run_kernels", partial(kernels, services))
    handle(socketio, "digit_maps", partial(digit_maps, services))
    handle(socketio, "digit_graph", partial(digit_graph, services))
