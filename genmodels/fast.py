"""A faster way to run an image-to-image network, where the machine allows it, with eager fp32 as the fallback.

Two tools, each used only where it works:
- bf16 autocast, only where the device computes in bf16 natively (CPUs with AVX-512 BF16 or AMX, recent GPUs);
  elsewhere bf16 is emulated and slower than fp32, so it stays off;
- `torch.compile`, warmed in a background thread on a first input shape, so nobody waits for the compilation;
  until it is ready, or if it fails (no C++ compiler, an unsupported op), calls run eagerly.

Results are returned in fp32. `FastPath.status()` says which tools are on, for the UI and the benchmark.
"""

from __future__ import annotations

import threading

import torch
from torch import nn


def bf16_native(device: torch.device) -> bool:
    """Whether `device` computes bf16 natively (not emulated)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class FastPath:
    """`fast(x)` = `module(x)` in fp32, by the fastest route ready now."""

    def __init__(
        self, module: nn.Module, example: torch.Tensor | None = None, compile: bool = True, bf16: bool | None = None
    ):
        self.module = module.eval()
        device = next(module.parameters()).device
        self.device_type = device.type
        self.bf16 = bf16_native(device) if bf16 is None else bf16
        self.compiled: nn.Module | None = None
        self.compile_error: str | None = None
        self.ready = threading.Event()
        if compile and example is not None:
            threading.Thread(target=self._warm, args=(example,), daemon=True).start()
        else:
            self.ready.set()

    def _warm(self, example: torch.Tensor) -> None:
        try:
            compiled = torch.compile(self.module, dynamic=True)
            self._run(compiled, example)
            self.compiled = compiled
        except Exception as exc:  # any failure leaves the eager path in place
            self.compile_error = f"{type(exc).__name__}: {exc}"[:300]
        finally:
            self.ready.set()

    @torch.no_grad()
    def _run(self, fn: nn.Module, x: torch.Tensor) -> torch.Tensor:
        with torch.autocast(self.device_type, dtype=torch.bfloat16, enabled=self.bf16):
            return fn(x).float()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._run(self.module if self.compiled is None else self.compiled, x)

    def status(self) -> dict:
        return {
            "bf16": self.bf16,
            "compiled": self.compiled is not None,
            "compiling": not self.ready.is_set(),
            **({"compile_error": self.compile_error} if self.compile_error else {}),
        }
