"""The stand-alone :class:`SRNet` of one config."""

from __future__ import annotations

from optuna_srprune.config import layer_shapes
from optuna_srprune.config import SubnetConfig
from optuna_srprune.nn import LayerNet


class SRNet(LayerNet):
    """A stand-alone SR network of one :class:`SubnetConfig`, with physically sized convolutions.

    This is what :meth:`SRSupernet.extract` returns; built directly, its weights are freshly initialised
    (for training a subnet alone). Input and output are RGB in ``[0, 1]``, NCHW. It runs its layers
    through :func:`optuna_srprune.nn.run_layers`, as the supernet and the torch latency back-end do.

    Example:

        .. code::

            import torch
            from optuna_srprune.search_space import SRSearchSpace
            from optuna_srprune.supernet import SRNet

            net = SRNet(SRSearchSpace(scale=2).smallest())
            assert net(torch.rand(1, 3, 8, 8)).shape == (1, 3, 16, 16)

    Args:
        config: The network's shape.
    """

    def __init__(self, config: SubnetConfig) -> None:
        super().__init__(layer_shapes(config))
        self.config = config
