"""The autoregressive contract and the one sampling routine every autoregressive model uses.

An autoregressive image model factorises p(x) = Π p(x_ij | pixels before ij in raster order) (van den Oord et al.
2016, arXiv:1601.06759). A naive sampler runs the whole network once per pixel. The cached sampler (after Fast
PixelCNN++, Ramachandran et al. 2017, arXiv:1704.06001) keeps every layer's activations from earlier positions and,
for each new pixel, computes only that pixel's column of activations through the layers: a small slice of a
forward pass. Given the same pre-drawn uniforms both give the same images (tests compare them in float64).

A model keeps this contract:
    forward(x, condition, keep=None) -> logits   the full network; fills `keep` (a dict) with what `step` needs
    step(keep, i, j) -> logits at (i, j), (n, K)  uses only pixels before (i, j) in raster order
    put(keep, i, j, value)                        writes the chosen value at (i, j) into `keep`
Logits are (n, 1, H, W) for binary pixels (Bernoulli, sigmoid) or (n, K, H, W) for K categories (softmax).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

from .base import ImageModel, LikelihoodModel, one_intra_op_thread


class MaskedConv2d(nn.Conv2d):
    """A kh×kw convolution that sees only pixels before the centre in raster order (type "A"), or also the centre ("B").

    Only the kernel's causal part is stored: rows down to the centre row (and, for a 1×kw kernel, columns up to the
    centre), with the input padded on the top and left; the centre row's later taps are masked. That skips the
    multiply-adds with weights that would always be zero. Stacking 3×3 type-B layers leaves a blind spot above right
    of each pixel (van den Oord et al. 2016, Fig. 1). `at(padded, i, j)` is the output at one position from `pad(x)`:
    the cached sampler's slice.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: tuple[int, int], mask_type: str):
        kh, kw = kernel
        rows, cols = kh // 2 + 1, (kw if kh > 1 else kw // 2 + 1)
        super().__init__(in_channels, out_channels, (rows, cols))
        self.pads = (kw // 2, cols - 1 - kw // 2, kh // 2, 0)  # left, right, top, bottom
        mask = torch.ones(rows, cols)
        mask[-1, kw // 2 + (mask_type == "B") :] = 0
        self.register_buffer("mask", mask, persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(self.pad(x), self.weight * self.mask, self.bias)

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads)

    def cache(self, x: torch.Tensor) -> torch.Tensor:
        """The padded input channels-last, (n, H + top, W + left + right, C): pixel (i, j) at [:, i + top, j + left]."""
        return self.pad(x).permute(0, 2, 3, 1).contiguous()

    def at(self, cache: torch.Tensor, i: int, j: int) -> torch.Tensor:
        """Output at (i, j), (n, out), from `cache(x)`: one small matrix product."""
        rows, cols = self.kernel_size
        window = cache[:, i : i + rows, j : j + cols]  # (n, rows, cols, C): a few contiguous runs
        return torch.addmm(self.bias, window.flatten(1), self.flat_weight())

    def flat_weight(self) -> torch.Tensor:
        """The masked weight as (rows · cols · C, out), matching a flattened channels-last window."""
        return reshaped_weight(self, lambda w: (w * self.mask).permute(2, 3, 1, 0).flatten(0, 2).contiguous())


def reshaped_weight(module: nn.Module, make: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """`make(module.weight)`, remembered until the weight changes: sampling reuses it for every pixel."""
    w = module.weight
    key = (w._version, w.data_ptr(), w.dtype, w.device)
    if getattr(module, "_reshaped_key", None) != key:
        with torch.no_grad():
            module._reshaped = make(w.detach())
        module._reshaped_key = key
    return module._reshaped


def pointwise(layers: nn.Sequential, h: torch.Tensor) -> torch.Tensor:
    """A stack of ReLUs and 1×1 convolutions applied to per-pixel vectors h (n, C): a model's head in `step`."""
    for layer in layers:
        h = F.relu(h) if isinstance(layer, nn.ReLU) else F.linear(h, layer.weight[:, :, 0, 0], layer.bias)
    return h


class AutoregressiveModel(ImageModel, LikelihoodModel):
    """An image model over discrete pixels: binary (`categories` = 1, Bernoulli) or `categories` = K values.

    Subclasses set `image_shape`, `categories` and, when class-conditional, `num_classes`.
    """

    categories: int = 1
    num_classes: int = 0

    def forward(self, x: torch.Tensor, condition: torch.Tensor | None = None, keep: dict | None = None):
        raise NotImplementedError

    def step(self, keep: dict, i: int, j: int) -> torch.Tensor:
        raise NotImplementedError

    def put(self, keep: dict, i: int, j: int, value: torch.Tensor) -> None:
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor, *, condition: torch.Tensor | None = None) -> torch.Tensor:
        """log p(x | condition) in nats, (n,): exact, one forward pass."""
        logits = self(x, condition)
        if self.categories == 1:
            return -F.binary_cross_entropy_with_logits(logits, x.to(logits.dtype), reduction="none").flatten(1).sum(1)
        return -F.cross_entropy(logits, x.long().squeeze(1), reduction="none").flatten(1).sum(1)

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        temperature: float = 1.0,
        condition: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        known: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """n images (n, 1, H, W) in [0, 1] (binary models) or code indices (categorical), with the cached sampler."""
        *_, x = sample_rows(self, n, generator, temperature, condition, mask, known)
        return x


def draw(logits: torch.Tensor, u: torch.Tensor, temperature: float) -> torch.Tensor:
    """One value per row of `logits` (n, K) from uniforms `u` (n,) by the inverse CDF: the same u, the same value."""
    logits = logits.double() / temperature
    if logits.shape[1] == 1:
        return (u < torch.sigmoid(logits[:, 0])).double()
    cdf = logits.softmax(1).cumsum(1)[:, :-1]
    return (cdf < u[:, None]).sum(1).double()


def sample_rows(
    model: AutoregressiveModel,
    n: int,
    generator: torch.Generator | None = None,
    temperature: float = 1.0,
    condition: torch.Tensor | None = None,
    mask: torch.Tensor | None = None,
    known: torch.Tensor | None = None,
    cached: bool = True,
    uniforms: torch.Tensor | None = None,
) -> Iterator[torch.Tensor]:
    """Sample in raster order; yields the images (n, 1, H, W) after each row from the first pixel to fill to the last.

    Args:
        condition: class labels (n,) for a class-conditional model; None draws unconditionally.
        mask: (n or 1, 1, H, W), 1 where a pixel is to be drawn; None draws every pixel.
        known: (n or 1, 1, H, W) values kept where mask is 0.
        cached: the cached sampler (one slice per pixel) or the naive one (one forward pass per pixel).
        uniforms: (n, H, W) float64 in [0, 1); drawn from `generator` on the CPU when None.
    """
    if not temperature > 0:
        raise ValueError("Temperature must be above 0.")
    C, H, W = model.image_shape
    device, dtype = model.device, next(model.parameters()).dtype
    if uniforms is None:
        uniforms = torch.rand((n, H, W), generator=generator, dtype=torch.float64)
    uniforms = uniforms.to(device)
    x = torch.zeros((n, C, H, W), device=device, dtype=dtype)
    if known is not None:
        x = x + known.to(device, dtype)
    if mask is None:
        mask = torch.ones((1, 1, H, W), device=device, dtype=torch.bool)
    mask = mask.to(device).bool().expand(n, 1, H, W)
    positions = mask.any(0)[0].flatten().nonzero()
    if condition is not None:
        condition = condition.to(device)
    if len(positions) == 0:
        yield x
        return
    first, last = positions[0].item(), positions[-1].item()
    keep = {} if cached else None
    # Grad mode and the intra-op thread count are per thread, and a server may resume this generator on another
    # thread: both are set around each stretch of work, never around a yield.
    if cached:
        with torch.no_grad():
            keep = prime(model, x, condition)  # every activation before the first pixel to draw is now final
    W = x.shape[-1]
    for row_start in range(first - first % W, last + 1, W):
        with torch.no_grad(), one_intra_op_thread():  # per-pixel slices are tiny ops: one core is faster
            for p in range(max(row_start, first), min(row_start + W, last + 1)):
                _fill(model, x, condition, mask, uniforms, temperature, keep, *divmod(p, W))
        yield x


def prime(model: AutoregressiveModel, x: torch.Tensor, condition: torch.Tensor | None) -> dict:
    """The cache `step` needs, from one full forward pass. When every image is the same and has the same condition
    (the n answers of one completion, or a sample started from blank), the pass runs on one image and its cache is
    copied n times: the observed rows are read once, not n times."""
    keep: dict = {}
    n = len(x)
    if n > 1 and torch.equal(x, x[:1].expand_as(x)) and (condition is None or bool((condition == condition[0]).all())):
        model(x[:1], None if condition is None else condition[:1], keep)
        return _repeat(keep, n)
    model(x, condition, keep)
    return keep


def _repeat(keep, n: int):
    """Every tensor in `keep` (nested dicts), its batch of one repeated n times (copies: `step` writes into them)."""
    if isinstance(keep, dict):
        return {key: _repeat(value, n) for key, value in keep.items()}
    return keep.repeat(n, *([1] * (keep.dim() - 1)))


def _fill(model, x, condition, mask, uniforms, temperature, keep, i: int, j: int) -> None:
    """Draw pixel (i, j) where the mask asks for it, keep it otherwise, and tell the cache."""
    if keep is not None:
        logits = model.step(keep, i, j)
    elif mask[:, 0, i, j].any():
        logits = model(x, condition)[:, :, i, j]
    else:
        logits = None
    if logits is not None:
        value = draw(logits, uniforms[:, i, j], temperature).to(x.dtype)
        x[:, 0, i, j] = torch.where(mask[:, 0, i, j], value, x[:, 0, i, j])
    if keep is not None:
        model.put(keep, i, j, x[:, 0, i, j])


def receptive_field(model: AutoregressiveModel, i: int, j: int, x: torch.Tensor | None = None) -> torch.Tensor:
    """|∂ logits(i, j) / ∂ x|, (H, W): which input pixels the prediction at (i, j) depends on (binary-pixel models).

    Taken at a random binary image (or `x`), with the model in whatever mode it is (the app's are in eval mode).
    Zero at (i, j) and after it; for PixelCNN also zero in the blind spot above right.
    """
    C, H, W = model.image_shape
    if x is None:
        x = (torch.rand((1, C, H, W), generator=torch.Generator().manual_seed(0)) < 0.5).float()
    x = x.to(model.device, next(model.parameters()).dtype).requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(model(x, None)[0, :, i, j].sum(), x)  # no parameter .grad is touched
    return grad[0].abs().sum(0)


def naive_sample(model: AutoregressiveModel, n: int, uniforms: torch.Tensor, **kwargs) -> torch.Tensor:
    """The whole network once per pixel: the reference the cached sampler must equal (and the benchmark's baseline)."""
    *_, x = sample_rows(model, n, cached=False, uniforms=uniforms, **kwargs)
    return x
