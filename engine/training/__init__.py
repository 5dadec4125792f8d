"""Training on the engine: batched whole-layer kernels, the models, optimisers, the bundled
digits, and the training loop.

The scalar graph stays the truth; ``kernels.FusedProgram`` runs the same layers on a batch as a
few array operations each, and tests check that both agree. Nothing in the engine's core imports
this package.
"""

from .datasets import Digits, load_digits
from .kernels import FusedProgram
from .loop import (
    EpochMetrics,
    StepMetrics,
    TrainConfig,
    Trainer,
    TrainingError,
    TrainResult,
    train,
)
from .models import MODELS, Model, NetworkSpecError, from_network, mlp, resnet
from .optim import DEFAULT_LR, OPTIMIZERS, SGD, Adam

__all__ = [
    "Digits", "load_digits", "FusedProgram", "EpochMetrics", "StepMetrics", "TrainConfig",
    "Trainer", "TrainingError", "TrainResult", "train", "MODELS", "Model", "NetworkSpecError",
    "from_network", "mlp", "resnet", "DEFAULT_LR", "OPTIMIZERS", "SGD", "Adam",
]
