"""The 2-D Playground: TensorFlow Playground's data sets, features and small networks, built
with ``nn`` and trained through the fused program (see trainer.py)."""

from .data import (
    CLASSIFICATION,
    GENERATORS,
    REGRESSION,
    SQUARE,
    PlaygroundDataError,
    Points,
    Split,
    generate,
)
from .features import FEATURES, FeatureError
from .network import Network, build
from .trainer import Maps, Metrics, Playground, PlaygroundConfig, PlaygroundError

__all__ = [
    "CLASSIFICATION", "GENERATORS", "REGRESSION", "SQUARE", "PlaygroundDataError", "Points",
    "Split", "generate", "FEATURES", "FeatureError", "Network", "build", "Maps", "Metrics",
    "Playground", "PlaygroundConfig", "PlaygroundError",
]
