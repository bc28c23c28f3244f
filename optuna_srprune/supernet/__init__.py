"""The weight-sharing SR supernet: elastic layers, subnet extraction, checkpoints and training."""

from __future__ import annotations

from optuna_srprune.supernet._elastic import ElasticConv2d
from optuna_srprune.supernet._elastic import ElasticDeconv2d
from optuna_srprune.supernet._elastic import ReparamConv2d
from optuna_srprune.supernet._network import SRNet
from optuna_srprune.supernet._supernet import SRSupernet
from optuna_srprune.supernet._train import distillation_loss
from optuna_srprune.supernet._train import progress_bar
from optuna_srprune.supernet._train import strip_checkpoint
from optuna_srprune.supernet._train import SupernetTrainer
from optuna_srprune.supernet._train import TrainSettings
from optuna_srprune.supernet._train import warmup_cosine

__all__ = [
    "ElasticConv2d",
    "ElasticDeconv2d",
    "ReparamConv2d",
    "SRNet",
    "SRSupernet",
    "SupernetTrainer",
    "TrainSettings",
    "distillation_loss",
    "progress_bar",
    "strip_checkpoint",
    "warmup_cosine",
]
