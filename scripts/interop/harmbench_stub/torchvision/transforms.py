"""``torchvision.transforms`` names HarmBench imports; each fails if used (see __init__)."""


class _Unavailable:
    def __init__(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("torchvision is stubbed out: only HarmBench's API-model path may run")


class Compose(_Unavailable):
    pass


class Normalize(_Unavailable):
    pass


class Resize(_Unavailable):
    pass


class ToTensor(_Unavailable):
    pass


class InterpolationMode:
    BICUBIC = "bicubic"
    BILINEAR = "bilinear"
