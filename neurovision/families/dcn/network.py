"""The DCN / ODE-Net / ResNet-blocks architecture as a sampled continuous-time model.

stem -> block 1 -> downsampling -> block 2 -> downsampling -> block 3 -> head (Tomen et al.
2021, Fig. 2). Depth-time maps to milliseconds: block ``b`` (0-based) spans
``[b * block_ms, (b + 1) * block_ms]`` ms after stimulus onset, its depth-time ``[0, T]``
stretched over that interval (``block_ms / T`` ms per unit depth-time). Before its interval an
area is silent (zeros: no input has reached it); after it, it holds its final state while the
image stays on. The area ``logits`` is the classifier read out from block 3 at each moment.
"""
from __future__ import annotations

import torch
from torch import nn

from ...dynamics.base import SampledModel
from .ode import check_images

BLOCK_AREAS = ("block1", "block2", "block3")


class ContinuousNetwork(SampledModel):
    """Three blocks (ODE or residual) with stem, two downsampling stages and a classifier head."""

    areas = BLOCK_AREAS + ("logits",)
    input_shape = (3, 32, 32)

    def __init__(self, stem: nn.Module, blocks: list[nn.Module], downsample: list[nn.Module],
                 head: nn.Module, block_ms: float = 50.0, name: str = "dcn"):
        super().__init__()
        if len(blocks) != 3 or len(downsample) != 2:
            raise ValueError("the architecture has three blocks and two downsampling stages")
        if block_ms <= 0:
            raise ValueError(f"block_ms must be > 0 ms, got {block_ms}")
        self.stem, self.head = stem, head
        self.blocks, self.downsample = nn.ModuleList(blocks), nn.ModuleList(downsample)
        self.block_ms, self.name = float(block_ms), name
        self._shapes: dict[str, tuple[int, ...]] | None = None

    # -- feed-forward use -------------------------------------------------------------------
    def block_input(self, h: torch.Tensor, b: int) -> torch.Tensor:
        """Input of block ``b`` given the output of the stage before it (images for b = 0)."""
        return self.stem(h) if b == 0 else self.downsample[b - 1](h)

    def features(self, images: torch.Tensor, contrast: float | None = None, rescaled_blocks: int = 1) -> torch.Tensor:
        """Output of block 3 ``(B, C, H, W)`` (the encoder of the reconstruction task).

        ``contrast`` = c turns on time rescaling: the first ``rescaled_blocks`` blocks integrate
        over ``c T`` and blocks after the first get their input multiplied by c.
        """
        check_images(images, self.input_shape)
        h = images
        for b, block in enumerate(self.blocks):
            h = self.block_input(h, b)
            if contrast is not None and b < rescaled_blocks:
                h = h * contrast if b > 0 else h
                h = block(h, T=contrast * block.T)
            else:
                h = block(h)
        return h

    def forward(self, images: torch.Tensor, contrast: float | None = None, rescaled_blocks: int = 1) -> torch.Tensor:
        """Class logits ``(B, classes)``."""
        return self.head(self.features(images, contrast, rescaled_blocks))

    def set_solver(self, method: str, steps: int | None = None, rtol: float = 1e-3, atol: float = 1e-3) -> None:
        """Solve the ODE blocks with ``method`` from now on (e.g. dopri5 after fixed-step training)."""
        from .ode import FIXED_STEP_METHODS, ODEBlock

        if method in FIXED_STEP_METHODS and not (isinstance(steps, int) and steps >= 1):
            raise ValueError(f"the fixed-step solver {method!r} needs steps >= 1 per block, got {steps!r}")
        for block in self.blocks:
            if isinstance(block, ODEBlock):
                block.method, block.rtol, block.atol = method, rtol, atol
                block.steps = steps if method in FIXED_STEP_METHODS else None

    def nfe(self) -> list[int]:
        """Function evaluations of each block in the last forward solve."""
        return [block.last_nfe for block in self.blocks]

    # -- continuous-time use ----------------------------------------------------------------
    def block_trajectory(self, images: torch.Tensor, block: int, depth_times) -> torch.Tensor:
        """States of block ``block`` (0-based) at depth-times in ``[0, T]``: ``(T, B, C, H, W)``."""
        check_images(images, self.input_shape)
        h = images
        for b in range(block):
            h = self.blocks[b](self.block_input(h, b))
        return self.blocks[block].trajectory(self.block_input(h, block), depth_times)

    def readouts(self, images: torch.Tensor, depth_times) -> torch.Tensor:
        """Classifier logits read out from block 3 at depth-times in ``[0, T]``: ``(T, B, classes)``."""
        states = self.block_trajectory(images, 2, depth_times)
        return torch.stack([self.head(s) for s in states])

    def depth_time(self, times_ms: torch.Tensor, block: int) -> torch.Tensor:
        """Block-local depth-time of each time (ms after onset), clipped to ``[0, T]``."""
        T = self.blocks[block].T
        local = (times_ms.double() - block * self.block_ms) / self.block_ms * T
        return local.clamp(0.0, T)

    def trajectory(self, images: torch.Tensor, times: torch.Tensor, areas) -> dict[str, torch.Tensor]:
        """Activity of ``areas`` at ``times`` (ms after onset): dict area -> ``(T, B, *shape)``."""
        for area in areas:
            self.check_area(area)
        check_images(images, self.input_shape)
        times = torch.as_tensor(times, dtype=torch.float64).flatten()
        wanted = set(areas)
        last = max((2 if a == "logits" else BLOCK_AREAS.index(a)) for a in areas)
        out, h = {}, images
        for b in range(last + 1):
            h = self.block_input(h, b)
            name = BLOCK_AREAS[b]
            onset = times > b * self.block_ms
            taus = self.depth_time(times, b)
            states = self.blocks[b].trajectory(h, torch.cat([taus, taus.new_tensor([self.blocks[b].T])]))
            h, states = states[-1], states[:-1] * onset.view(-1, *([1] * h.ndim)).to(states)
            if name in wanted:
                out[name] = states
            if b == 2 and "logits" in wanted:
                logits = torch.stack([self.head(s) for s in states])
                out["logits"] = logits * onset.view(-1, 1, 1).to(logits)
        return out

    def area_shape(self, area: str) -> tuple[int, ...]:
        self.check_area(area)
        if self._shapes is None:
            with torch.no_grad():
                probe = next(self.parameters()).new_zeros(1, *self.input_shape)
                shapes = {}
                for b, name in enumerate(BLOCK_AREAS):
                    probe = self.block_input(probe, b)
                    shapes[name] = tuple(probe.shape[1:])
                shapes["logits"] = (self.head[-1].out_features,)
            self._shapes = shapes
        return self._shapes[area]
