"""micrograd code as students paste it, and PyTorch (float64) computing the same thing: the
oracle of the paste tests (formats, the CLI, the page).

Each snippet is micrograd source text; its oracle builds the same computation with torch tensors
and returns (the output's value, {input's name on the page: its gradient}).
"""

from __future__ import annotations

import torch

# The micrograd half of micrograd's test/test_engine.py test_sanity_check, pasted as it is.
SANITY_CHECK = """\
x = Value(-4.0)
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
xmg, ymg = x, y
"""

# The micrograd half of test_more_ops.
MORE_OPS = """\
a = Value(-4.0)
b = Value(2.0)
c = a + b
d = a * b + b**3
c += c + 1
c += 1 + c + (-a)
d += d * 2 + (b + a).relu()
d += 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g += 10.0 / f
g.backward()
amg, bmg, gmg = a, b, g
"""

# The neuron of micrograd's first lecture, as typed there.
LECTURE_NEURON = """\
from micrograd.engine import Value
# inputs x1,x2
x1 = Value(2.0, label='x1')
x2 = Value(0.0, label='x2')
# weights w1,w2
w1 = Value(-3.0, label='w1')
w2 = Value(1.0, label='w2')
# bias of the neuron
b = Value(6.8813735870195432, label='b')
# x1*w1 + x2*w2 + b
x1w1 = x1*w1; x1w1.label = 'x1*w1'
x2w2 = x2*w2; x2w2.label = 'x2*w2'
x1w1x2w2 = x1w1 + x2w2; x1w1x2w2.label = 'x1*w1 + x2*w2'
n = x1w1x2w2 + b; n.label = 'n'
o = n.tanh(); o.label = 'o'
o.backward()
print(o.data, x1.grad)
"""

# A name rebound as in Python (the page shows x, x′, x″, x‴), with every operator form accepted.
REBINDING = """\
import micrograd
x = Value(0.5)
w = Value(-1.25, label='weight')
x = x * w + 1
x = x.sigmoid() / (2 - x) + x.exp() ** 2
x = -(x + 3).log() - 0.5 * x.tanh()
x.backward()
"""


def sanity_check() -> tuple[float, dict[str, float]]:
    x = _leaf(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    return y.item(), {"x": x.grad.item()}


def more_ops() -> tuple[float, dict[str, float]]:
    a, b = _leaf(-4.0), _leaf(2.0)
    c = a + b
    d = a * b + b**3
    c = c + c + 1
    c = c + 1 + c + (-a)
    d = d + d * 2 + (b + a).relu()
    d = d + 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g = g + 10.0 / f
    g.backward()
    return g.item(), {"a": a.grad.item(), "b": b.grad.item()}


def lecture_neuron() -> tuple[float, dict[str, float]]:
    x1, x2, w1, w2 = _leaf(2.0), _leaf(0.0), _leaf(-3.0), _leaf(1.0)
    b = _leaf(6.8813735870195432)
    o = torch.tanh(x1 * w1 + x2 * w2 + b)
    o.backward()
    return o.item(), {name: t.grad.item() for name, t in
                      {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b}.items()}


def rebinding() -> tuple[float, dict[str, float]]:
    x0, w = _leaf(0.5), _leaf(-1.25)
    x = x0 * w + 1
    x = torch.sigmoid(x) / (2 - x) + torch.exp(x) ** 2
    x = -torch.log(x + 3) - 0.5 * torch.tanh(x)
    x.backward()
    return x.item(), {"x": x0.grad.item(), "weight": w.grad.item()}


# snippet -> (its oracle, the output's name on the page)
SNIPPETS = {
    "sanity_check": (SANITY_CHECK, sanity_check, "y"),
    "more_ops": (MORE_OPS, more_ops, "g′"),
    "lecture_neuron": (LECTURE_NEURON, lecture_neuron, "o"),
    "rebinding": (REBINDING, rebinding, "x‴"),
}


def _leaf(value: float) -> torch.Tensor:
    return torch.tensor([value], dtype=torch.float64, requires_grad=True)
