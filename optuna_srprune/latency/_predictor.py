"""``LatencyPredictor``: a network's latency as the sum of its kernels plus a fitted overhead."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
import dataclasses

from optuna_srprune._defaults import DEFAULT_HR_SIZE
from optuna_srprune.config import layer_specs
from optuna_srprune.config import LayerSpec
from optuna_srprune.config import lr_size
from optuna_srprune.config import SubnetConfig
from optuna_srprune.exceptions import LatencyTableError
from optuna_srprune.latency._backend import LatencyBackend
from optuna_srprune.latency._table import LatencyTable


def overhead_context(scale: int, lr_height: int, lr_width: int) -> str:
    """The key of an overhead fit: it depends on the scale and the input size."""
    return f"x{scale}:{lr_height}x{lr_width}"


@dataclasses.dataclass(frozen=True)
class LayerLatency:
    """One row of :meth:`LatencyPredictor.breakdown`.

    Attributes:
        name: Layer name (``"overhead"`` for the per-network term).
        key: Kernel key (empty for the overhead).
        ms: Contribution to the prediction in milliseconds.
        interpolated: Whether the kernel was missing and interpolated.
    """

    name: str
    key: str
    ms: float
    interpolated: bool = False


def _family(layer: LayerSpec) -> tuple[object, ...]:
    return (layer.op, layer.kernel, layer.stride, layer.height, layer.width, layer.activation, layer.residual,
            layer.pixel_shuffle)  # fmt: skip


class LatencyPredictor:
    """Predicts a subnet's latency from a measured lookup table, in microseconds.

    ``predict(config) = intercept + slope * sum(kernel latencies)``, where the kernels are the
    config's :func:`~optuna_srprune.config.layer_specs` at the LR size of ``hr_size``, and
    ``(intercept, slope)`` is the per-network overhead fitted by calibration from end-to-end
    measurements (``(0, 1)`` when none was fitted). Kernel latencies are read once and cached.

    Missing kernels: by default a :class:`~optuna_srprune.exceptions.LatencyTableError` names the
    kernel and says to calibrate (calibration measures every channel count the space can produce, so
    this only happens for configs outside the calibrated space). With ``interpolate=True`` a missing
    kernel is linearly interpolated in one channel count (output first, then input) between the
    nearest measured kernels below and above that differ only in that count; there is no
    extrapolation, and interpolation cannot see a staircase between the two measured counts.

    Example:

        .. code::

            from optuna_srprune.config import BlockConfig, SubnetConfig, layer_specs
            from optuna_srprune.latency import LatencyPredictor, LatencyTable, Timing

            config = SubnetConfig(2, 8, (BlockConfig("edsr", (8,)),))
            table = LatencyTable("sqlite://", "example|threads=1|float32")
            for layer in layer_specs(config, 8, 8):
                table.add(layer.key(), Timing(1.0, 0.0, 1))
            predictor = LatencyPredictor(table, hr_size=(16, 16))
            assert predictor.predict(config) == 4.0

    Args:
        table: The lookup table (its fingerprint must have kernels).
        hr_size: Output size ``(height, width)`` the latency is for.
        backend: If given, its fingerprint must equal the table's (a table from another device is
            refused).
        interpolate: Interpolate missing kernels instead of raising.
    """

    def __init__(
        self,
        table: LatencyTable,
        *,
        hr_size: tuple[int, int] = DEFAULT_HR_SIZE,
        backend: LatencyBackend | None = None,
        interpolate: bool = False,
    ) -> None:
        if backend is not None and backend.fingerprint() != table.fingerprint:
            raise LatencyTableError(
                f"The latency table is for {table.fingerprint!r} but the back-end is "
                f"{backend.fingerprint()!r}; calibrate this back-end first."
            )
        table.require()
        self.table = table
        self.hr_size = hr_size
        self.interpolate = interpolate
        self._ms = {key: t.median_ms for key, t in table.timings().items()}
        self._families: dict[tuple[object, ...], list[LayerSpec]] = defaultdict(list)
        for key in self._ms:
            spec = LayerSpec.from_key(key)
            self._families[_family(spec)].append(spec)
        self._interpolated_ms: dict[str, float | None] = {}
        self._overheads: dict[int, tuple[float, float]] = {}
        self._predictions: dict[SubnetConfig, float] = {}

    def predict(self, config: SubnetConfig) -> float:
        """Predicted end-to-end latency of ``config`` in milliseconds."""
        cached = self._predictions.get(config)
        if cached is None:
            layers = self._layers(config)
            intercept, slope = self.overhead(config.scale)
            cached = intercept + slope * sum(self._kernel_ms(layer)[0] for layer in layers)
            self._predictions[config] = cached
        return cached

    def breakdown(self, config: SubnetConfig) -> list[LayerLatency]:
        """Per-layer contributions (slope applied) and the overhead; they sum to :meth:`predict`."""
        intercept, slope = self.overhead(config.scale)
        rows = []
        for layer in self._layers(config):
            ms, interpolated = self._kernel_ms(layer)
            rows.append(LayerLatency(layer.name, layer.key(), slope * ms, interpolated))
        rows.append(LayerLatency("overhead", "", intercept))
        return rows

    def overhead(self, scale: int) -> tuple[float, float]:
        """The fitted ``(intercept_ms, slope)`` for ``scale`` at this size (``(0, 1)`` if none)."""
        if scale not in self._overheads:
            context = overhead_context(scale, *lr_size(*self.hr_size, scale))
            self._overheads[scale] = self.table.overhead(context) or (0.0, 1.0)
        return self._overheads[scale]

    def _layers(self, config: SubnetConfig) -> Sequence[LayerSpec]:
        return layer_specs(config, *lr_size(*self.hr_size, config.scale))

    def _kernel_ms(self, layer: LayerSpec) -> tuple[float, bool]:
        key = layer.key()
        ms = self._ms.get(key)
        if ms is not None:
            return ms, False
        if self.interpolate:
            if key not in self._interpolated_ms:  # cached here; never written to the table
                self._interpolated_ms[key] = self._interpolated(layer)
            ms = self._interpolated_ms[key]
            if ms is not None:
                return ms, True
        raise LatencyTableError(
            f"Kernel {key} ({layer.name}) is not in the latency table for {self.table.fingerprint!r}"
            + (" and cannot be interpolated" if self.interpolate else "")
            + "; calibrate with a search space that contains this network (or pass interpolate=True)."
        )

    def _interpolated(self, layer: LayerSpec) -> float | None:
        family = self._families.get(_family(layer), [])
        for attr, other in (("out_channels", "in_channels"), ("in_channels", "out_channels")):
            same = [s for s in family if getattr(s, other) == getattr(layer, other)]
            target = getattr(layer, attr)
            below = [s for s in same if getattr(s, attr) < target]
            above = [s for s in same if getattr(s, attr) > target]
            if below and above:
                lo = max(below, key=lambda s: getattr(s, attr))
                hi = min(above, key=lambda s: getattr(s, attr))
                c_lo, c_hi = getattr(lo, attr), getattr(hi, attr)
                t_lo, t_hi = self._ms[lo.key()], self._ms[hi.key()]
                return t_lo + (t_hi - t_lo) * (target - c_lo) / (c_hi - c_lo)
        return None
