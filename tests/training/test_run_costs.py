"""A run's fixed costs: records go out in batches, the BLAS runs on the threads it is given."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from engine.training import TrainConfig, load_digits, train
from engine.training.loop import GroupNorms
from server.jobs.records import RecordBatcher

CONFIG = TrainConfig(model="mlp", epochs=3, batch_size=128, width=4)


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def run_with(batcher: RecordBatcher, digits) -> None:
    train(CONFIG, on_step=lambda m: batcher.add("step", m),
          on_epoch=lambda m: batcher.add("epoch", m), data=digits)
    batcher.flush()


def test_records_wait_for_their_batch_and_epochs_are_never_held(digits):
    """With a window no run reaches, a batch goes out only at each epoch's end: 3 flushes
    for 36 steps and 3 epochs, every record once, in order, each epoch last in its batch."""
    sent: list[list[dict]] = []
    run_with(RecordBatcher(sent.append, seconds=math.inf), digits)
    steps = 3 * -(-len(digits.train_labels) // 128)
    assert len(sent) == 3
    records = [r for batch in sent for r in batch]
    assert [r["type"] for r in records].count("step") == steps
    assert [r["step"] for r in records if r["type"] == "step"] == list(range(1, steps + 1))
    assert [batch[-1]["type"] for batch in sent] == ["epoch"] * 3
    json.dumps(sent, allow_nan=False)  # what the worker writes: valid JSON


def test_a_zero_window_sends_each_record(digits):
    sent: list[list[dict]] = []
    run_with(RecordBatcher(sent.append, seconds=0.0), digits)
    assert all(len(batch) == 1 for batch in sent)
    assert len(sent) == 3 * -(-len(digits.train_labels) // 128) + 3


def test_a_record_is_the_metrics_as_they_were(digits):
    """The shallow copy a record makes still leaves it unchanged by later changes."""
    sent: list[list[dict]] = []
    steps = []
    batcher = RecordBatcher(sent.append, seconds=math.inf)
    train(TrainConfig(model="resnet", epochs=1, batch_size=512, width=4),
          on_step=lambda m: (steps.append(m), batcher.add("step", m)), data=digits)
    batcher.flush()
    record = sent[0][0]
    steps[0].grad_norms["Conv1"] = -1.0
    steps[0].branches["Add2"]["value_rms"][0] = -1.0
    assert record["grad_norms"]["Conv1"] > 0 and record["branches"]["Add2"]["value_rms"][0] > 0
    assert set(record) == {"type", "step", "epoch", "loss", "accuracy", "grad_norms",
                           "seconds", "branches", "time"}


def blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]


def test_a_run_limits_the_blas_and_restores_it(digits):
    before = blas_threads()
    assert before, "numpy's BLAS is visible to threadpoolctl"
    during: list[list[int]] = []
    train(CONFIG, on_step=lambda m: during.append(blas_threads()), data=digits)
    assert during and all(threads == [1] * len(before) for threads in during)
    assert blas_threads() == before
    during.clear()
    train(CONFIG, on_step=lambda m: during.append(blas_threads()), data=digits,
          blas_threads=None)
    assert all(threads == before for threads in during)


def test_group_norms_are_each_groups_norm():
    rng = np.random.default_rng(0)
    grad = rng.normal(size=50)
    groups = {"a": np.arange(0, 7), "b": np.array([30, 8, 9]), "c": np.arange(10, 30)}
    norms = GroupNorms(groups)(grad)
    for name, positions in groups.items():
        assert norms[name] == pytest.approx(np.linalg.norm(grad[positions]), rel=1e-14)
    in_place = {"a": np.arange(0, 7), "b": np.arange(7, 20)}
    norms = GroupNorms(in_place)(grad)
    assert norms["b"] == pytest.approx(np.linalg.norm(grad[7:20]), rel=1e-14)
