"""Hand-designed real-time SR networks and how they are trained, scored and exported for the headline."""

from baselines._models import BASELINES
from baselines._models import ECBSR
from baselines._models import ESPCN
from baselines._models import FSRCNN
from baselines._train import evaluate
from baselines._train import export_onnx
from baselines._train import train

__all__ = ["BASELINES", "ECBSR", "ESPCN", "FSRCNN", "evaluate", "export_onnx", "train"]
