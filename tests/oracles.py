"""Oracles the tests share: finite differences in float64 and the reference design's ResNet
snippet, run as a user would paste it."""

from __future__ import annotations

import numpy as np


def central_diff(f, x: float, h: float) -> float:
    """df/dx by the fourth-order central difference (float64).

    (8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h has truncation error h⁴ f⁽⁵⁾ / 30 and
    rounding error about 1.5 ε max|f| / h (ε = 2.2e-16): with h ≈ 1e-3 · scale both stay near
    1e-12 relative for the smooth, moderate functions the tests use.
    """
    return (8.0 * (f(x + h) - f(x - h)) - (f(x + 2 * h) - f(x - 2 * h))) / (12.0 * h)


def gradient_fd(f, x, h=1e-3) -> np.ndarray:
    """Central-difference gradient of f: R^n -> R at x, one coordinate at a time.

    ``h`` is a relative step (scaled by max(1, |x_i|)), or an array of absolute steps.
    """
    x = np.asarray(x, np.float64)
    steps = np.broadcast_to(np.asarray(h, np.float64), x.shape) if np.ndim(h) else None
    grad = np.empty_like(x)
    for i in range(len(x)):
        def along(t, i=i):
            y = x.copy()
            y[i] = t
            return f(y)
        step = steps[i] if steps is not None else h * max(1.0, abs(float(x[i])))
        grad[i] = central_diff(along, float(x[i]), float(step))
    return grad


# The reference README's second snippet, verbatim, followed by its "initialize" and "compute"
# blocks (its continuation lines sit at column 0 inside parentheses, which Python accepts).
REFERENCE_RESNET = """\
# hyper-parameters
size = 16 # the size of input picture will be of size by size
classes = 10 # how many classes there are in the classification task
FC_nodes = 32 # how many hidden nodes there are in the Fully-Connected layer
Conv_size = 9 # size of convolution operator
# construct ResNet forward computational graph with higher APIs from nn class
ResNet = nn()
image = ResNet.new_const_nodes_list(size * size)
label = ResNet.new_const_nodes_list(classes)
zero = ResNet.new_const_nodes_list(1)
W1 = ResNet.new_input_nodes_list(Conv_size)
b1 = ResNet.new_input_nodes_list(1)
Conv1 = ResNet.Conv(size, size, image, W1, b1, zero)[0]
ReLU1 = ResNet.ReLU(size * size, Conv1)
W2 = ResNet.new_input_nodes_list(Conv_size)
b2 = ResNet.new_input_nodes_list(1)
Conv2 = ResNet.Conv(size, size, ReLU1, W2, b2, zero)[0]
Sum2 = ResNet.vector_add(size * size, image, Conv2) # skip connections
ReLU2 = ResNet.ReLU(size * size, Sum2)
W3 = ResNet.new_input_nodes_list(size * size * FC_nodes)
b3 = ResNet.new_input_nodes_list(FC_nodes)
FC3 = ResNet.FC(size * size, FC_nodes, ReLU2, W3, b3)[0]
ReLU3 = ResNet.ReLU(FC_nodes, FC3)
W4 = ResNet.new_input_nodes_list(FC_nodes * classes)
b4 = ResNet.new_input_nodes_list(classes)
FC4 = ResNet.FC(FC_nodes, classes, ReLU3, W4, b4)[0]
Softmax4 = ResNet.Softmax(classes, FC4)
Loss = ResNet.Cross_Entropy_Loss(classes, Softmax4, label)
Loss.set_as_output()
Weights = W1 + b1 + W2 + b2 + W3 + b3 + W4 + b4
params = len(Weights)
Graph = graph(Weights, image + label + zero, [Loss])
# initialize
init_weights = np.random.random(size = Conv_size + 1 + Conv_size + 1
+ size * size * FC_nodes + FC_nodes
+ FC_nodes * classes + classes) - 0.5
init_image = np.random.random(size = size * size)
init_label = [0,1,0,0,0,0,0,0,0,0]
init_zero = [0]
Graph.feed(list(init_weights), list(init_image) + init_label + init_zero)
# compute
Graph.compute_forward()
Graph.back_prop()
"""


def run_reference(snippet: str, seed: int) -> dict:
    """Run a reference snippet as a user would paste it; return its variables."""
    namespace: dict = {}
    np.random.seed(seed)
    exec("import numpy as np\nfrom engine import node, graph, nn\n" + snippet, namespace)
    return namespace


def relative_error(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))
