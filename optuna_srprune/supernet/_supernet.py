"""``SRSupernet``: every subnet of an :class:`SRSearchSpace` as a slice of one set of weights."""

from __future__ import annotations

import dataclasses
import itertools
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from optuna_srprune.config import layer_shapes
from optuna_srprune.config import LayerShape
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import CheckpointError
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.nn import run_layers
from optuna_srprune.search_space import SRSearchSpace
from optuna_srprune.supernet._checkpoint import check_compatible
from optuna_srprune.supernet._checkpoint import read_checkpoint
from optuna_srprune.supernet._checkpoint import write_checkpoint
from optuna_srprune.supernet._elastic import ElasticConv2d
from optuna_srprune.supernet._elastic import ElasticDeconv2d
from optuna_srprune.supernet._elastic import ReparamConv2d
from optuna_srprune.supernet._network import SRNet

ASSETS = Path(__file__).resolve().parent / "assets"


class SRSupernet(nn.Module):
    """A weight-sharing supernet covering every subnet of a search space.

    Each layer holds weights for its largest form: width ``w = max(widths)``; per block position,
    weights for every block kind (``edsr``: 3x3 ``w->w`` and 3x3 ``w->w``; ``wdsr``: 1x1
    ``w->expansion*w``, 1x1 ``expansion*w->w``, 3x3 ``w->w``; ``ecb``: 3x3 ``w->w``), and one tail of
    each kind. A subnet uses the leading slices of them, so pruning keeps a prefix of each layer's
    channels; :meth:`sort_channels` orders channels by importance so that the prefix holds the most
    important ones. The ``ecb`` convs (and the head, in a space with ``ecb`` blocks) train as
    re-parameterisable edge-oriented blocks (:class:`ReparamConv2d`), folded into plain 3x3 convs on
    every pass.

    Example:

        .. code::

            import torch
            from optuna_srprune.search_space import SRSearchSpace
            from optuna_srprune.supernet import SRSupernet

            space = SRSearchSpace(scale=2, max_depth=2, widths=(8, 16), channel_multiple=4)
            supernet = SRSupernet(space).eval()
            config = space.smallest()
            x = torch.rand(1, 3, 12, 12)
            net = supernet.extract(config)
            assert torch.allclose(net(x), supernet(x, config), atol=1e-5)

    Args:
        space: The search space; its ``scale`` is the supernet's.
    """

    def __init__(self, space: SRSearchSpace) -> None:
        super().__init__()
        self.space = space
        self.scale = space.scale
        self.max_width = max(space.widths)
        self.convs = nn.ModuleDict()
        for kind, tail in itertools.product(space.block_kinds, space.tails):
            for spec in layer_shapes(dataclasses.replace(space.full(kind), tail=tail)):
                key = self._key(spec, kind)
                if key not in self.convs:
                    self.convs[key] = _elastic_layer(spec, kind, reparam_head="ecb" in space.block_kinds)
        with torch.no_grad():  # start close to the nearest-neighbour skip: a small tail
            for tail in space.tails:
                layer = self._layer(_tail_key(tail))
                layer.weight.mul_(0.1)
                layer.bias.zero_()
        self._active: SubnetConfig | None = None
        self._validated: set[SubnetConfig] = set()

    # ----------------------------------------------------------------- running subnets
    def set_active(self, config: SubnetConfig) -> None:
        """Make ``config`` the subnet that ``forward(x)`` runs when no config is passed."""
        self._validate(config)
        self._active = config

    @property
    def active(self) -> SubnetConfig:
        """The active subnet (the largest until :meth:`set_active` is called)."""
        return self._active if self._active is not None else self.space.largest()

    def forward(self, x: torch.Tensor, config: SubnetConfig | None = None) -> torch.Tensor:
        """Super-resolve ``x`` (NCHW, RGB in [0, 1]) with subnet ``config`` (default: the active one)."""
        config = self.active if config is None else config
        self._validate(config)

        def conv(spec: LayerShape, feat: torch.Tensor) -> torch.Tensor:
            return self._elastic(spec, config)(feat, spec.out_channels)

        return run_layers(x, layer_shapes(config), conv)

    def extract(self, config: SubnetConfig) -> SRNet:
        """A stand-alone :class:`SRNet` of ``config`` holding copies of its inherited weights."""
        self._validate(config)
        net = SRNet(config)
        for spec in net.specs:
            weight, bias = self._elastic(spec, config).sliced(spec.in_channels, spec.out_channels)
            target = net.conv(spec.name)
            with torch.no_grad():
                target.weight.copy_(weight)
                assert target.bias is not None
                target.bias.copy_(bias)
        return net.train(self.training)

    # ----------------------------------------------------------------- importance ordering
    @torch.no_grad()
    def sort_channels(self, trunk: bool = False) -> None:
        """Re-order channels by the L1 norm of the filters producing them, most important first.

        Inside every block (and kind), the outputs of each prunable layer are permuted together with the
        input channels of the layer consuming them. With ``trunk=True`` the trunk channels are permuted
        too: the outputs of the head and of every block's last conv, the inputs of every block's first
        conv and of the tail, scored by the summed L1 norms of all producers. The largest networks
        compute exactly the same function afterwards; smaller slices then keep the most important
        channels. Trunk sorting is not defined for spaces with ``ecb`` blocks or the ``deconv`` tail
        (their folded branches would have to be permuted too); ``ecb`` blocks have one layer, so
        nothing inside them is sorted.
        """
        if trunk and ("ecb" in self.space.block_kinds or "deconv" in self.space.tails):
            raise ConfigError("Trunk channels cannot be sorted in a space with ecb blocks or a deconv tail.")
        for i in range(self.space.max_depth):
            for kind in self.space.block_kinds:
                layers = self._block_layers(i, kind)
                for producer, consumer in zip(layers[:-1], layers[1:]):
                    perm = torch.argsort(_l1(producer), descending=True, stable=True)
                    _permute_out(producer, perm)
                    _permute_in(consumer, perm)
        if trunk:
            self._sort_trunk()

    def _sort_trunk(self) -> None:
        producers = [self._layer("head")]
        consumers = [self._layer("tail")]
        for i in range(self.space.max_depth):
            for kind in self.space.block_kinds:
                layers = self._block_layers(i, kind)
                producers.append(layers[-1])
                consumers.append(layers[0])
        perm = torch.argsort(sum(_l1(p) for p in producers), descending=True, stable=True)  # type: ignore[arg-type]
        for layer in producers:
            _permute_out(layer, perm)
        for layer in consumers:
            _permute_in(layer, perm)

    # ----------------------------------------------------------------- checkpoints
    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        space: SRSearchSpace | None = None,
        scale: int | None = None,
    ) -> SRSupernet:
        """A supernet with the weights of checkpoint ``path``, in eval mode.

        Raises:
            CheckpointError: The file is missing or corrupt, or was trained for another ``scale`` or
                ``space`` (when given; otherwise the checkpoint's own space is used).
        """
        ckpt = read_checkpoint(path)
        saved = check_compatible(ckpt, space, scale, path)
        supernet = cls(space if space is not None else saved)
        supernet.load_weights(ckpt["model"], path)
        return supernet.eval()

    @classmethod
    def pretrained(cls, scale: int, space: SRSearchSpace | None = None) -> SRSupernet:
        """The supernet shipped with the package for ``scale`` (trained on the 291 images).

        Raises:
            CheckpointError: No supernet is shipped for ``scale``, or ``space`` differs from its space.
        """
        path = ASSETS / f"supernet_x{scale}.pt"
        if not path.is_file():
            shipped = sorted(p.name for p in ASSETS.glob("supernet_x*.pt"))
            raise CheckpointError(
                f"No pretrained supernet is shipped for x{scale} (shipped: {shipped or 'none'}); "
                "train one with `optuna-srprune train-supernet`."
            )
        return cls.load(path, space=space, scale=scale)

    def save(self, path: str | os.PathLike[str], **extra: Any) -> None:
        """Write a weights-only checkpoint (loadable by :meth:`load`); ``extra`` is stored as well."""
        write_checkpoint(path, {**self.checkpoint_header(), "model": self.state_dict(), **extra})

    def checkpoint_header(self) -> dict[str, Any]:
        """What identifies this supernet in a checkpoint: scale and search-space settings."""
        return {"scale": self.scale, "space": self.space.to_dict()}

    def load_weights(self, state: dict[str, torch.Tensor], path: str | os.PathLike[str] = "") -> None:
        """Load a state dict, raising :class:`CheckpointError` if it does not fit this supernet."""
        try:
            self.load_state_dict(state)
        except (RuntimeError, KeyError, TypeError) as err:
            raise CheckpointError(
                f"Supernet checkpoint {str(path)!r} does not fit this search space: {str(err)[:300]}"
            ) from err

    # ----------------------------------------------------------------- helpers
    def _validate(self, config: SubnetConfig) -> None:
        if config not in self._validated:
            if config.scale != self.scale:
                raise ConfigError(f"Config is for x{config.scale}, the supernet for x{self.scale}.")
            self.space.validate(config)
            self._validated.add(config)

    def _elastic(self, spec: LayerShape, config: SubnetConfig) -> ElasticConv2d | ElasticDeconv2d:
        """The elastic layer holding the weights of layer ``spec`` of ``config``."""
        kind = "" if spec.block is None else config.blocks[spec.block].kind
        return self._layer(self._key(spec, kind))

    @staticmethod
    def _key(spec: LayerShape, kind: str) -> str:
        if spec.name == "tail":
            return _tail_key("deconv" if spec.op == "deconv" else "conv3x3")
        if spec.block is None:
            return spec.name
        # Keys predate LayerShape.block: "block3.conv1" of an edsr block is "block3_edsr_conv1".
        block, conv = spec.name.split(".")
        return f"{block}_{kind}_{conv}"

    def _layer(self, key: str) -> Any:
        layer = self.convs[key]
        assert isinstance(layer, (ElasticConv2d, ElasticDeconv2d))
        return layer

    def _block_layers(self, index: int, kind: str) -> list[ElasticConv2d]:
        specs = [s for s in layer_shapes(self.space.full(kind)) if s.block == index]
        return [self._layer(self._key(spec, kind)) for spec in specs]


def _tail_key(tail: str) -> str:
    # The 3x3 tail keeps the key it had before tails were searchable, so old checkpoints load.
    return "tail" if tail == "conv3x3" else f"tail_{tail}"


def _elastic_layer(spec: LayerShape, kind: str, reparam_head: bool) -> ElasticConv2d | ElasticDeconv2d:
    if spec.op == "deconv":
        return ElasticDeconv2d(spec.in_channels, spec.out_channels, spec.kernel)
    # The head trains as an ECB in spaces with ecb blocks (ECBSR's head is one), as plain elsewhere.
    if (kind == "ecb" and spec.block is not None) or (spec.name == "head" and reparam_head):
        return ReparamConv2d(spec.in_channels, spec.out_channels)
    return ElasticConv2d(spec.in_channels, spec.out_channels, spec.kernel)


def _l1(layer: ElasticConv2d) -> torch.Tensor:
    return layer.weight.abs().sum(dim=(1, 2, 3))


def _permute_out(layer: ElasticConv2d, perm: torch.Tensor) -> None:
    layer.weight.copy_(layer.weight[perm])
    layer.bias.copy_(layer.bias[perm])


def _permute_in(layer: ElasticConv2d, perm: torch.Tensor) -> None:
    layer.weight.copy_(layer.weight[:, perm])
