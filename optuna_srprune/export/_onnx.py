"""The stand-alone ONNX model of an :class:`SRNet`, built from its layer list, and its files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import onnx
from onnx import helper
import torch

from optuna_srprune.config import receptive_radius
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import CheckpointError
from optuna_srprune.exceptions import ConfigError
from optuna_srprune.latency import build_onnx_model
from optuna_srprune.supernet import SRNet

PathLike = str | os.PathLike[str]

MODEL_ONNX = "model.onnx"
MODEL_PT = "model.pt"
CONFIG_JSON = "config.json"
METRICS_JSON = "metrics.json"

# Keys of the ONNX model's metadata_props.
META_SCALE = "srprune.scale"
META_RADIUS = "srprune.receptive_radius"
META_CONFIG = "srprune.config"

CONTRACT = (
    "optuna-srprune super-resolution network. Input 'input': float32 NCHW RGB in [0, 1], any batch, "
    "height and width. Output 'output': float32 NCHW RGB, {scale} times the height and width, not "
    "clamped (clamp to [0, 1] and round to 8 bits for display; the published PSNR is computed so). "
    "The global skip (nearest-neighbour upsampling of the input) is inside the model."
)


def to_onnx(net: SRNet) -> onnx.ModelProto:
    """The ONNX model of ``net`` with its weights: the graph the latency table times, nothing else.

    The graph comes from the same :class:`~optuna_srprune.config.LayerSpec` list as the network
    (:func:`~optuna_srprune.latency.build_onnx_model`), so the deployed model is the measured one.
    Input ``"input"`` and output ``"output"`` have named dynamic dimensions (``batch``, ``height``,
    ``width``); the output is not clamped. ``metadata_props`` hold the scale
    (``srprune.scale``), the receptive radius in LR pixels (``srprune.receptive_radius``, what a
    tiler must overlap) and the config JSON (``srprune.config``).

    Example:

        .. code::

            import numpy as np
            import onnxruntime as ort
            import torch
            from optuna_srprune.export import to_onnx
            from optuna_srprune.search_space import SRSearchSpace
            from optuna_srprune.supernet import SRNet

            net = SRNet(SRSearchSpace(scale=2).smallest()).eval()
            session = ort.InferenceSession(to_onnx(net).SerializeToString())
            x = np.random.rand(1, 3, 17, 23).astype(np.float32)
            (y,) = session.run(None, {"input": x})
            assert np.allclose(y, net(torch.from_numpy(x)).detach().numpy(), atol=1e-4)
    """
    config = net.config
    weights = {}
    for spec in net.specs:
        conv = net.conv(spec.name)
        assert conv.bias is not None
        weights[f"{spec.name}.weight"] = conv.weight.detach().cpu().numpy()
        weights[f"{spec.name}.bias"] = conv.bias.detach().cpu().numpy()
    model = build_onnx_model(net.specs, config.scale, weights)
    model.doc_string = CONTRACT.format(scale=config.scale)
    helper.set_model_props(
        model,
        {
            META_SCALE: str(config.scale),
            META_RADIUS: str(receptive_radius(config)),
            META_CONFIG: config.to_json(),
        },
    )
    onnx.checker.check_model(model)
    return model


def save_network(net: SRNet, folder: PathLike) -> dict[str, Path]:
    """Write ``model.onnx``, ``model.pt`` (the state dict) and ``config.json`` of ``net`` into ``folder``.

    ``config.json`` is the :class:`~optuna_srprune.config.SubnetConfig` JSON (scale included), so
    ``SubnetConfig.from_json`` and ``optuna-srprune evaluate --config`` read it; ``model.pt`` loads
    with ``torch.load(..., weights_only=True)`` into ``SRNet(config)``; :func:`load_network` does both.

    Returns:
        The paths written, by file name.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / name for name in (MODEL_ONNX, MODEL_PT, CONFIG_JSON)}
    onnx.save(to_onnx(net), paths[MODEL_ONNX])
    torch.save({k: v.detach().cpu().clone() for k, v in net.state_dict().items()}, paths[MODEL_PT])
    paths[CONFIG_JSON].write_text(json.dumps(net.config.to_dict(), indent=2) + "\n")
    return paths


def load_network(folder: PathLike) -> SRNet:
    """The :class:`SRNet` saved by :func:`save_network` (or ``optuna-srprune export``), in eval mode.

    Example:

        .. code::

            from optuna_srprune.export import load_network

            net = load_network("exported/")  # the folder written by `optuna-srprune export`
            print(net.config.summary())

    Raises:
        ConfigError: ``config.json`` is missing or invalid.
        CheckpointError: ``model.pt`` is missing, corrupt or does not fit the config.
    """
    folder = Path(folder)
    config_path, weights_path = folder / CONFIG_JSON, folder / MODEL_PT
    if not config_path.is_file():
        raise ConfigError(
            f"{str(config_path)!r} does not exist; give a folder written by `optuna-srprune export`."
        )
    config = SubnetConfig.from_json(config_path.read_text())
    try:
        state = torch.load(weights_path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{str(weights_path)!r} does not exist.") from None
    except Exception as err:  # noqa: BLE001 - torch raises many types for a damaged file
        raise CheckpointError(f"{str(weights_path)!r} is corrupt ({type(err).__name__}).") from err
    net = SRNet(config)
    try:
        net.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as err:
        raise CheckpointError(
            f"{str(weights_path)!r} does not fit the network of {str(config_path)!r}: {str(err)[:300]}"
        ) from err
    return net.eval()
