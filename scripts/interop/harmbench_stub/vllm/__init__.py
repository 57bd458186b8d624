"""Import stub for vLLM, used only when running HarmBench's own scripts to re-make the
HarmBench fixture (scripts/interop/harmbench_run.sh); never imported by jbgrade.

HarmBench's generate_completions.py and baselines/model_utils.py import ``SamplingParams``
and ``LLM`` from vLLM at module level. vLLM is a GPU inference engine that is used only on
HarmBench's local-weights path (``--generate_with_vllm``); the API-model path that queries
jbgrade's reference target over HTTP never touches it. Installing vLLM would pull a CUDA
build of torch. This stub lets the modules import and fails loudly if anything uses it.
"""


class _Unavailable:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("vLLM is stubbed out: only HarmBench's API-model path may run here")


class SamplingParams(_Unavailable):
    pass


class LLM(_Unavailable):
    pass
