"""The settings classes under their public name (``fastemb.config.Word2VecConfig``); they live in base/config.py."""
from .base.config import SubwordSettings, SupervisedConfig, TrainConfig, Word2VecConfig

__all__ = ["SubwordSettings", "SupervisedConfig", "TrainConfig", "Word2VecConfig"]
