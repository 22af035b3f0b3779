"""The live pipeline's settings: defined with the configuration tree (``openlfr.config.pipeline``, the
``pipeline`` section of ``Settings``), named here too for the pipeline's own modules."""

from openlfr.config.pipeline import PipelineConfig

__all__ = ["PipelineConfig"]
