"""The reference README's snippets, run as pasted, against closed forms and an independent numpy
implementation of the same network; plus the reference's own directional-derivative check."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine import graph, nn, node
from tests.oracles import central_diff, gradient_fd, run_reference

# The README's first example, verbatim, with the one line the issue allows: ``c3`` is used by the
# graph constructor but never defined in the README.
REFERENCE_EXPRESSION = """\
# construct forward computational graph with APIs in node and graph classes
x1 = node('input', None)
x2 = node('input', None)
x3 = node('input', None)
c1 = node('const', None)
c2 = node('const', None)
fac1 = node('+', node('sin', node('+', x1, c1)),
node('cos', node('*', c2, x2)))
fac2 = node('tan', node('log', x3))
fac3 = node('+', node('sin', node('+', x2, c1)),
node('cos', node('*', c2, x1)))
fac4 = node('exp', node('+', c1, node('sin', x3)))
o = node('+', node('*', fac1, fac2), node('*', fac3, fac4), is_output = True)
c3 = node('const', None)
# compute
G = graph([x1,x2,x3], [c1,c2,c3], [o])
x_init = np.random.random(size = 3)
const_init = [1.0, 2.0, 1.0]
G.feed(x_init, const_init)
G.compute_forward()
G.back_prop()
yo = o.forward
gradient = [x1.backward, x2.backward, x3.backward]
"""


def expression_terms(x1, x2, x3):
    """The two products of the README's y:
    (sin(x1+1) + cos(2x2)) tan(log x3)  and  (sin(x2+1) + cos(2x1)) exp(1 + sin x3)."""
    return ((math.sin(x1 + 1) + math.cos(2 * x2)) * math.tan(math.log(x3)),
            (math.sin(x2 + 1) + math.cos(2 * x1)) * math.exp(1 + math.sin(x3)))


def expression(x):
    return sum(expression_terms(*x))


def expression_gradient(x1, x2, x3):
    """∂y/∂x1, ∂y/∂x2, ∂y/∂x3, derived by hand."""
    t = math.tan(math.log(x3))
    e = math.exp(1 + math.sin(x3))
    a = math.sin(x1 + 1) + math.cos(2 * x2)
    b = math.sin(x2 + 1) + math.cos(2 * x1)
    return (math.cos(x1 + 1) * t - 2 * math.sin(2 * x1) * e,
            -2 * math.sin(2 * x2) * t + math.cos(x2 + 1) * e,
            a * (1 + t * t) / x3 + b * e * math.cos(x3))


def _check_expression(x, value, gradient):
    scale = sum(abs(t) for t in expression_terms(*x))
    assert value == pytest.approx(expression(x), rel=1e-12, abs=1e-12 * scale)
    analytic = expression_gradient(*x)
    fd = gradient_fd(expression, x, h=[1e-4, 1e-4, 1e-4 * min(1.0, x[2])])
    # ∂y/∂x3 carries 1/x3 and sec²(log x3): measure errors against the size of each term.
    size = [abs(g) + scale for g in analytic]
    for k in range(3):
        assert abs(gradient[k] - analytic[k]) <= 1e-11 * size[k] / min(1.0, x[2]) ** 2
        assert abs(gradient[k] - fd[k]) <= 1e-6 * size[k] / min(1.0, x[2]) ** 2


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_first_reference_example_runs_verbatim(seed):
    ns = run_reference(REFERENCE_EXPRESSION, seed)
    x = [float(v) for v in ns["x_init"]]
    np.random.seed(seed)
    assert x == list(np.random.random(size=3))
    assert isinstance(ns["yo"], float)
    assert all(isinstance(g, float) for g in ns["gradient"])
    _check_expression(x, ns["yo"], ns["gradient"])


@pytest.fixture(scope="module")
def expression_graph():
    return run_reference(REFERENCE_EXPRESSION, seed=7)


def _pole_free(x3):
    return abs(math.cos(math.log(x3))) >= 0.05  # tan(log x3) away from its poles


@settings(max_examples=100)
@given(x1=st.floats(-5, 5), x2=st.floats(-5, 5),
       x3=st.floats(0.05, 50).filter(_pole_free))
def test_first_reference_example_at_many_points(expression_graph, x1, x2, x3):
    ns = expression_graph
    ns["G"].feed([x1, x2, x3], [1.0, 2.0, 1.0])
    ns["G"].compute_forward()
    ns["G"].back_prop()
    _check_expression([x1, x2, x3], ns["o"].forward,
                      [ns["x1"].backward, ns["x2"].backward, ns["x3"].backward])


# -- the ResNet --------------------------------------------------------------------------------
SIZE, CLASSES, FC_NODES = 16, 10, 32


def relu(v):
    return np.maximum(v, 0.0)


def conv3x3(image, kernel9, bias):
    """Cross-correlation with a 3×3 kernel (row-major), zero same-padding, plus a scalar bias."""
    m, n = image.shape
    padded = np.pad(image, 1)
    k = kernel9.reshape(3, 3)
    out = np.zeros_like(image)
    for di in range(3):
        for dj in range(3):
            out += k[di, dj] * padded[di:di + m, dj:dj + n]
    return out + bias


def log_softmax(z):
    m = z.max()
    return z - (m + np.log(np.exp(z - m).sum()))


def numpy_resnet_loss(weights, image, label):
    """The README's ResNet, written directly in numpy from its description."""
    w = np.asarray(weights, np.float64)
    sizes = [9, 1, 9, 1, SIZE * SIZE * FC_NODES, FC_NODES, FC_NODES * CLASSES, CLASSES]
    W1, b1, W2, b2, W3, b3, W4, b4 = np.split(w, np.cumsum(sizes)[:-1])
    x = np.asarray(image, np.float64).reshape(SIZE, SIZE)
    r1 = relu(conv3x3(x, W1, b1[0]))
    r2 = relu(x + conv3x3(r1, W2, b2[0])).ravel()
    h3 = relu(W3.reshape(FC_NODES, SIZE * SIZE) @ r2 + b3)
    z = W4.reshape(CLASSES, FC_NODES) @ h3 + b4
    return float(-(np.asarray(label, np.float64) * log_softmax(z)).sum())


def engine_loss(ns, weights) -> float:
    ns["Graph"].feed(list(weights), list(ns["init_image"]) + ns["init_label"] + ns["init_zero"])
    ns["Graph"].compute_forward()
    return ns["Loss"].forward


def engine_gradient(ns, weights) -> np.ndarray:
    engine_loss(ns, weights)
    ns["Graph"].back_prop()
    return np.array([w.backward for w in ns["Weights"]])


def test_resnet_snippet_runs_and_loss_matches_numpy(resnet):
    ns = resnet
    assert ns["params"] == 9 + 1 + 9 + 1 + 256 * 32 + 32 + 32 * 10 + 10
    expected = numpy_resnet_loss(ns["init_weights"], ns["init_image"], ns["init_label"])
    assert ns["Loss"].forward == pytest.approx(expected, rel=1e-12)
    # The gradient the snippet's own back_prop left behind is there and finite.
    grads = np.array([w.backward for w in ns["Weights"]])
    assert grads.shape == (ns["params"],) and np.isfinite(grads).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_resnet_directional_derivative(resnet, seed):
    """The reference's check: (L(w + h d) - L(w - h d)) / 2h against ∇L · d, ≤ 1e-6 relative.

    d is a random unit direction in the 8,574-dimensional weight space; h = 1e-5 with the
    4th-order stencil keeps truncation (~h⁴) and rounding (~ε L / h ≈ 5e-11) far below 1e-6 of
    ∇L · d, while moving each ReLU's input by ~1e-5 at most, so no kink is crossed.
    """
    ns = resnet
    rng = np.random.default_rng(seed)
    w = np.asarray(ns["init_weights"], np.float64)
    d = rng.standard_normal(w.size)
    d /= np.linalg.norm(d)
    grad = engine_gradient(ns, w)
    along = grad @ d
    image, label = ns["init_image"], ns["init_label"]
    fd_engine = central_diff(lambda t: engine_loss(ns, w + t * d), 0.0, 1e-5)
    fd_numpy = central_diff(lambda t: numpy_resnet_loss(w + t * d, image, label), 0.0, 1e-5)
    assert abs(fd_engine - along) <= 1e-6 * abs(along)
    assert abs(fd_numpy - along) <= 1e-6 * abs(along)


def test_resnet_softmax_probabilities_are_readable(resnet):
    """The README: "You may get the forward or backward value of any node". Softmax4 holds the
    network's prediction; after compute_forward its values must be the softmax of FC4."""
    ns = resnet
    engine_loss(ns, ns["init_weights"])
    z = np.array([n.forward for n in ns["FC4"]])
    probabilities = [n.forward for n in ns["Softmax4"]]
    assert None not in probabilities
    np.testing.assert_allclose(probabilities, np.exp(log_softmax(z)), rtol=1e-14)


def test_resnet_node_count_and_groups(resnet):
    ns = resnet
    nodes = ns["Graph"].nodes()
    assert 35_000 <= len(nodes) <= 37_000  # "~36,000 scalar nodes"
    assert len({n.id for n in nodes}) == len(nodes)

    layers = {"Conv1": ns["Conv1"], "ReLU1": ns["ReLU1"], "Conv2": ns["Conv2"],
              "ReLU2": ns["ReLU2"], "FC3": ns["FC3"], "ReLU3": ns["ReLU3"], "FC4": ns["FC4"],
              "Softmax4": ns["Softmax4"]}
    for name, outputs in layers.items():
        assert {n.group for n in outputs} == {name}
    add_group = {n.group for n in ns["Sum2"]}
    assert len(add_group) == 1 and None not in add_group
    assert ns["Loss"].group is not None

    # Every node a layer made carries a group; walking down from a layer's outputs until the
    # previous layer's outputs (or a leaf), every node met belongs to that layer, and there are
    # as many as the layer's arithmetic needs (an n-term sum takes n - 1 additions).
    assert all(n.group is not None for n in nodes if n.operator not in ("input", "const"))
    order = ["Conv1", "ReLU1", "Conv2", "Add", "ReLU2", "FC3", "ReLU3", "FC4"]
    layer_outputs = dict(layers, Add=ns["Sum2"])
    expected_count = {"Conv1": 256 * (9 + 8 + 1), "ReLU1": 256, "Conv2": 256 * (9 + 8 + 1),
                      "Add": 256, "ReLU2": 256, "FC3": 32 * (256 + 255 + 1), "ReLU3": 32,
                      "FC4": 10 * (32 + 31 + 1)}
    for k, name in enumerate(order):
        stop = {id(n) for earlier in order[:k] for n in layer_outputs[earlier]}
        seen, stack = {}, list(layer_outputs[name])
        while stack:
            n = stack.pop()
            if id(n) in seen or id(n) in stop or n.operator in ("input", "const"):
                continue
            seen[id(n)] = n
            stack.extend(n.children)
        group = add_group.pop() if name == "Add" else name
        assert {n.group for n in seen.values()} == {group}, name
        assert len(seen) == expected_count[name], name


# -- nn layers, small, with a non-square image --------------------------------------------------
def test_nn_return_shapes():
    net = nn()
    x = net.new_const_nodes_list(12)
    assert len(x) == 12 and all(n.operator == "const" for n in x)
    W = net.new_input_nodes_list(9)
    b = net.new_input_nodes_list(1)
    zero = net.new_const_nodes_list(1)
    conv = net.Conv(3, 4, x, W, b, zero)
    assert len(conv) == 4
    y, W_out, b_out, zero_out = conv
    assert len(y) == 12 and list(W_out) == W and list(b_out) == b and list(zero_out) == zero
    fc = net.FC(12, 5, y)
    assert len(fc) == 3
    y2, W2, b2 = fc
    assert len(y2) == 5 and len(W2) == 60 and len(b2) == 5
    assert all(n.operator == "input" for n in W2 + b2)
    conv_default = net.Conv(2, 2, net.new_const_nodes_list(4))
    assert [len(part) for part in conv_default] == [4, 9, 1, 1]
    assert conv_default[3][0].operator == "const"
    assert len(net.ReLU(5, y2)) == 5
    assert len(net.vector_add(5, y2, y2)) == 5
    assert len(net.matrix_multiply(2, 5, W2[:10], y2)) == 2
    assert isinstance(net.scalar_sum(5, y2), node)
    assert len(net.Softmax(5, y2)) == 5
    assert isinstance(net.Cross_Entropy_Loss(5, net.Softmax(5, y2), x[:5]), node)


def test_small_network_against_numpy():
    """Conv on a 3×5 image (m ≠ n catches a transposed index), matrix_multiply, scalar_sum,
    vector_add, FC, ReLU, Softmax, Cross_Entropy_Loss: loss and every weight's gradient."""
    m, n, hidden, classes = 3, 5, 4, 3
    net = nn()
    image = net.new_const_nodes_list(m * n)
    label = net.new_const_nodes_list(classes)
    zero = net.new_const_nodes_list(1)
    W1, b1 = net.new_input_nodes_list(9), net.new_input_nodes_list(1)
    conv = net.ReLU(m * n, net.Conv(m, n, image, W1, b1, zero)[0])
    skip = net.vector_add(m * n, image, conv)
    M = net.new_input_nodes_list(2 * m * n)
    mm = net.matrix_multiply(2, m * n, M, skip)
    total = net.scalar_sum(2, mm)
    fc_in = skip[: hidden - 1] + [total]
    y, W2, b2 = net.FC(hidden, classes, fc_in)
    p = net.Softmax(classes, y)
    loss = net.Cross_Entropy_Loss(classes, p, label)
    weights = W1 + b1 + M + W2 + b2
    g = graph(weights, image + label + zero, [loss])

    rng = np.random.default_rng(5)
    w = rng.uniform(-1, 1, len(weights))
    img = rng.uniform(-1, 1, m * n)
    lab = np.array([0.0, 0.0, 1.0])

    def reference(w):
        k1, c1, Mw, Wf, bf = np.split(w, np.cumsum([9, 1, 2 * m * n, classes * hidden]))
        x = img.reshape(m, n)
        s = (x + relu(conv3x3(x, k1, c1[0]))).ravel()
        t = (Mw.reshape(2, m * n) @ s).sum()
        z = Wf.reshape(classes, hidden) @ np.append(s[: hidden - 1], t) + bf
        return float(-(lab * log_softmax(z)).sum())

    g.feed(list(w), list(img) + list(lab) + [0.0])
    g.compute_forward()
    g.back_prop()
    assert loss.forward == pytest.approx(reference(w), rel=1e-13)
    fd = gradient_fd(reference, w, h=1e-3)
    grads = np.array([v.backward for v in weights])
    np.testing.assert_allclose(grads, fd, rtol=1e-7, atol=1e-9)
