"""Hand-designed real-time SR networks and how they are trained, scored and exported for the headline."""

from baselines._models import BASELINES
from baselines._models import ECBSR
from baselines._models import ESPCN
from baselines._models import FSRCNN
from baselines._runs import build
from baselines._runs import CHECKPOINTS
from baselines._runs import load_trained
from baselines._runs import PLATEAU_DB
from baselines._runs import plateau_gain
from baselines._runs import run_name
from baselines._train import evaluate
from baselines._train import export_onnx
from baselines._train import train

__all__ = [
    "BASELINES",
    "CHECKPOINTS",
    "ECBSR",
    "ESPCN",
    "FSRCNN",
    "PLATEAU_DB",
    "build",
    "evaluate",
    "export_onnx",
    "load_trained",
    "plateau_gain",
    "run_name",
    "train",
]
