"""Import stub for torchvision, used only when running HarmBench's own scripts to re-make
the HarmBench fixture (scripts/interop/harmbench_run.sh); never imported by jbgrade.

HarmBench's generate_completions.py and its multimodal model modules import
``torchvision.transforms`` at module level; only the multimodal (image) models use it.
torchvision's PyPI wheels are CUDA builds that cannot load next to the CPU torch wheel
(its ``_C.so`` links libtorch_cuda), and CPU builds live on download.pytorch.org, which is
not reachable here. The text API-model path never calls torchvision; anything that does
fails loudly.
"""

from . import transforms

__all__ = ["transforms"]
