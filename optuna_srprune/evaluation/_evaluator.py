"""``SupernetEvaluator``: the PSNR/SSIM of a subnet with weights inherited from the supernet."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
import dataclasses
from pathlib import Path

import torch

from optuna_srprune.config import receptive_radius
from optuna_srprune.config import SubnetConfig
from optuna_srprune.data import ValidationSet
from optuna_srprune.evaluation._tiling import upscale_tiled
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.metrics import psnr_torch
from optuna_srprune.metrics import ssim_torch
from optuna_srprune.supernet import SRSupernet


@dataclasses.dataclass(frozen=True)
class Quality:
    """Mean and per-image PSNR (dB) and SSIM of a network on a validation set."""

    psnr: float
    ssim: float
    per_image: dict[str, tuple[float, float]]


def _device_of(net: Callable[[torch.Tensor], torch.Tensor]) -> torch.device:
    """Where a module's weights are (the CPU for anything else): its inputs must go there."""
    if isinstance(net, torch.nn.Module):
        for parameter in net.parameters():
            return parameter.device
    return torch.device("cpu")


class SupernetEvaluator:
    """Scores subnets of a supernet on a validation set, without training them.

    Inference runs in ``torch.inference_mode`` on the CPU, tiled when an LR image is larger than
    ``tile`` pixels a side; results are cached per config, and are deterministic.

    Example:

        .. code::

            from optuna_srprune.evaluation import SupernetEvaluator
            from optuna_srprune.supernet import SRSupernet

            supernet = SRSupernet.pretrained(scale=2)
            evaluator = SupernetEvaluator(supernet)  # the embedded Set5
            quality = evaluator.evaluate(supernet.space.smallest())
            print(f"{quality.psnr:.2f} dB")

    Args:
        supernet: A trained supernet.
        val_data: A :class:`~optuna_srprune.data.ValidationSet`, a folder of HR images, or ``None`` for
            the embedded Set5.
        tile: Largest LR tile side; larger images are processed in overlapping tiles.
        cache_size: Number of configs whose results are kept.
        device: Where the supernet runs (e.g. ``"cuda"``); images are moved there and back.
    """

    def __init__(
        self,
        supernet: SRSupernet,
        val_data: ValidationSet | str | Path | None = None,
        tile: int = 256,
        cache_size: int = 4096,
        device: str | torch.device = "cpu",
    ) -> None:
        if not isinstance(val_data, ValidationSet):
            val_data = ValidationSet(val_data, supernet.scale)
        if val_data.scale != supernet.scale:
            raise ConfigError(
                f"Validation set is for x{val_data.scale} but the supernet is x{supernet.scale}."
            )
        self.supernet = supernet.eval().to(device)
        self.val_data = val_data
        self.tile = tile
        self._cache: OrderedDict[SubnetConfig, Quality] = OrderedDict()
        self._cache_size = cache_size

    @property
    def scale(self) -> int:
        return self.supernet.scale

    def evaluate(self, config: SubnetConfig) -> Quality:
        """PSNR/SSIM of ``config`` with inherited weights (cached)."""
        if config in self._cache:
            self._cache.move_to_end(config)
            return self._cache[config]
        quality = self._evaluate(config)
        self._cache[config] = quality
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return quality

    def _evaluate(self, config: SubnetConfig) -> Quality:
        self.supernet.set_active(config)
        return evaluate_network(self.supernet, self.val_data, receptive_radius(config), self.tile)


@torch.inference_mode()
def evaluate_network(
    net: Callable[[torch.Tensor], torch.Tensor], val_data: ValidationSet, radius: int, tile: int = 256
) -> Quality:
    """PSNR/SSIM of ``net`` on ``val_data`` by the project's protocol (the output clamped to [0, 1]).

    Inference is tiled (``tile`` LR pixels a side, overlapping by the receptive ``radius``), so
    large images fit in memory; the tiles do not change the result.

    Example:

        .. code::

            from optuna_srprune.data import ValidationSet
            from optuna_srprune.config import receptive_radius
            from optuna_srprune.evaluation import evaluate_network
            from optuna_srprune.search_space import SRSearchSpace
            from optuna_srprune.supernet import SRNet

            config = SRSearchSpace(scale=2).smallest()
            quality = evaluate_network(SRNet(config).eval(), ValidationSet(None, 2), receptive_radius(config))
            print(f"{quality.psnr:.2f} dB")

    Args:
        net: An SR network: NCHW RGB in [0, 1] in, ``val_data.scale`` times larger out.
        val_data: The validation pairs.
        radius: The network's receptive-field radius in LR pixels (see
            :func:`~optuna_srprune.config.receptive_radius`).
        tile: Largest LR tile side.
    """
    scale = val_data.scale
    per_image = {}
    device = _device_of(net)
    for pair in val_data:
        lr = pair.lr.unsqueeze(0).to(device)
        sr = upscale_tiled(net, lr, scale, tile, radius).clamp_(0, 1).cpu()
        hr = pair.hr.unsqueeze(0)
        per_image[pair.name] = (
            psnr_torch(sr, hr, scale, is_gray=pair.is_gray),
            ssim_torch(sr, hr, scale, is_gray=pair.is_gray),
        )
    n = len(per_image)
    return Quality(
        psnr=sum(p for p, _ in per_image.values()) / n,
        ssim=sum(s for _, s in per_image.values()) / n,
        per_image=per_image,
    )
