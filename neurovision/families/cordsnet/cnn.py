"""The feed-forward CNN equivalent of a CordsNet and batch-norm folding (initialisation steps 1-2).

Step 1 trains :class:`CordsNetCNN`: every area is applied once as ``x_j = relu(BN2(W_c_j *
BN1(W_in_j * h_j)))`` with the CordsNet wiring (``h_j`` built from the ``x`` of the areas below,
as in :mod:`neurovision.families.cordsnet.network`), the stem is ``avgpool(BN(W_s * image))`` and the
skip convolutions carry batch norm too. Step 2 folds every batch norm into the convolution before
it (paper eq. 5: ``W <- gamma W / sqrt(var + eps)``, ``b <- gamma (b - mu) / sqrt(var + eps) +
beta``) and moves every constant onto per-unit bias maps, giving :class:`FoldedCNN`, whose
pre-activations are the targets of the linear steady-state fit.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from .network import CHANNELS, STRIDES, CordsNet, CordsNetConfig, wn_conv


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels)


def area_input(j: int, x: list[torch.Tensor], s_skip: torch.Tensor | None, s: torch.Tensor,
               skip) -> torch.Tensor:
    """Input ``h_j`` of area ``j`` from the outputs ``x`` of the areas below (CordsNet wiring)."""
    if j == 0:
        return s
    if j == 1:
        return x[0] + s_skip
    if j % 2 == 0:
        return x[j - 1] + x[j - 2]
    return x[j - 1] + skip[(j - 3) // 2](x[j - 2])


class CordsNetCNN(nn.Module):
    """Step 1: the feed-forward CNN with batch norm and the CordsNet layout (logits forward)."""

    def __init__(self, config: CordsNetConfig):
        super().__init__()
        self.config = config
        depth = config.depth
        self.stem, self.stem_bn = wn_conv(config.in_channels, CHANNELS[0], 7, 2), _bn(CHANNELS[0])
        self.stem_skip = wn_conv(CHANNELS[0], CHANNELS[1], 3, 1)
        self.inp = nn.ModuleList(wn_conv(CHANNELS[j], CHANNELS[j + 1], 3, STRIDES[j]) for j in range(depth))
        self.inp_bn = nn.ModuleList(_bn(CHANNELS[j + 1]) for j in range(depth))
        self.rec = nn.ModuleList(wn_conv(CHANNELS[j + 1], CHANNELS[j + 1], 3, 1) for j in range(depth))
        self.rec_bn = nn.ModuleList(_bn(CHANNELS[j + 1]) for j in range(depth))
        self.skip = nn.ModuleList(nn.Sequential(wn_conv(CHANNELS[j - 1], CHANNELS[j + 1], 1, 2), _bn(CHANNELS[j + 1]))
                                  for j in range(3, depth, 2))
        self.fc = weight_norm(nn.Linear(CHANNELS[depth], config.n_classes))
        self.register_buffer("mean", torch.tensor(config.mean).view(-1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(config.std).view(-1, 1, 1), persistent=False)

    def activities(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Post-ReLU outputs ``x_j`` of every area for images in [0, 1]."""
        x_in = (images - self.mean) / self.std
        s = F.avg_pool2d(self.stem_bn(self.stem(x_in)), 3, stride=2, padding=1)
        s_skip = self.stem_skip(s)
        x: list[torch.Tensor] = []
        for j in range(self.config.depth):
            h = area_input(j, x, s_skip, s, self.skip)
            x.append(F.relu(self.rec_bn[j](self.rec[j](self.inp_bn[j](self.inp[j](h))))))
        return x

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = self.activities(images)
        return self.fc((x[-1] + x[-2]).mean(dim=(2, 3)))


def bn_scale_shift(bn: nn.BatchNorm2d) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel ``(gamma / sqrt(var + eps), beta - gamma mu / sqrt(var + eps))`` of ``bn``."""
    scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    return scale, bn.bias - scale * bn.running_mean


def folded_weight(conv: nn.Module, bn: nn.BatchNorm2d | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Effective kernel of a conv with the following batch norm folded in, and the shift."""
    weight = conv.weight.detach()
    if bn is None:
        return weight.clone(), None
    scale, shift = bn_scale_shift(bn)
    return weight * scale.detach().view(-1, 1, 1, 1), shift.detach()


def _const_map(shift: torch.Tensor, size: int) -> torch.Tensor:
    return shift.view(1, -1, 1, 1).expand(1, shift.numel(), size, size)


class FoldedCNN(nn.Module):
    """Step 2: the CNN with batch norm folded (plain kernels, per-unit bias maps; no grad).

    ``pre_j = W_c_j * (W_in_j * h_j + a_j) + c_j`` and ``x_j = relu(pre_j)``, where the stem
    output ``s`` is bias-free and ``a_j`` (C, H, W) carries every constant (stem, skip and first
    batch-norm shifts pushed through the convolutions, border effects included).
    """

    def __init__(self, cnn: CordsNetCNN):
        super().__init__()
        self.config = cfg = cnn.config
        template = CordsNet(cfg)
        sizes = [template.area_shape(a)[1] for a in template.areas]
        self.stride = list(STRIDES[: cfg.depth])
        with torch.no_grad():
            stem_w, stem_shift = folded_weight(cnn.stem, cnn.stem_bn)
            stem_size = (cfg.image_size + 1) // 2
            pooled = F.avg_pool2d(_const_map(stem_shift, stem_size), 3, stride=2, padding=1)
            self.register_buffer("stem_w", stem_w)
            self.register_buffer("stem_skip_w", cnn.stem_skip.weight.detach().clone())
            skip_w, skip_shift = zip(*(folded_weight(seq[0], seq[1]) for seq in cnn.skip)) if len(cnn.skip) else ((), ())
            self.skip_w = list(skip_w)
            self.inp_w, self.rec_w, self.in_bias, self.out_bias = [], [], [], []
            for j in range(cfg.depth):
                w_in, shift_in = folded_weight(cnn.inp[j], cnn.inp_bn[j])
                w_c, shift_c = folded_weight(cnn.rec[j], cnn.rec_bn[j])
                const = shift_in.view(-1, 1, 1).expand(-1, sizes[j], sizes[j])
                if j == 0:
                    const = const + F.conv2d(pooled, w_in, padding=1)[0]
                elif j == 1:
                    const = const + F.conv2d(F.conv2d(pooled, self.stem_skip_w, padding=1), w_in, padding=1)[0]
                elif j % 2 == 1:
                    src = _const_map(skip_shift[(j - 3) // 2], sizes[j - 1])
                    const = const + F.conv2d(src, w_in, stride=self.stride[j], padding=1)[0]
                self.inp_w.append(w_in)
                self.rec_w.append(w_c)
                self.in_bias.append(const.contiguous())
                self.out_bias.append(shift_c.view(-1, 1, 1).expand(-1, sizes[j], sizes[j]).contiguous())
            self.fc_w, self.fc_b = cnn.fc.weight.detach().clone(), cnn.fc.bias.detach().clone()
        self.register_buffer("mean", cnn.mean.clone(), persistent=False)
        self.register_buffer("std", cnn.std.clone(), persistent=False)

    def stem_output(self, images: torch.Tensor) -> torch.Tensor:
        """Bias-free stem output ``s`` (the constant part lives in the area bias maps)."""
        x = (images - self.mean) / self.std
        return F.avg_pool2d(F.conv2d(x, self.stem_w, stride=2, padding=3), 3, stride=2, padding=1)

    @torch.no_grad()
    def areas(self, images: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """``(u, pre)``: input-conv terms ``W_in_j * h_j`` and pre-activations of every area."""
        s = self.stem_output(images)
        s_skip = F.conv2d(s, self.stem_skip_w, padding=1)
        skip = [lambda t, w=w: F.conv2d(t, w, stride=2) for w in self.skip_w]
        x, u, pre = [], [], []
        for j in range(self.config.depth):
            h = area_input(j, x, s_skip, s, skip)
            u.append(F.conv2d(h, self.inp_w[j], stride=self.stride[j], padding=1))
            pre.append(F.conv2d(u[j] + self.in_bias[j], self.rec_w[j], padding=1) + self.out_bias[j])
            x.append(F.relu(pre[j]))
        return u, pre

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        _, pre = self.areas(images)
        pooled = (F.relu(pre[-1]) + F.relu(pre[-2])).mean(dim=(2, 3))
        return pooled @ self.fc_w.T + self.fc_b


def _set_weight(module: nn.Module, weight: torch.Tensor) -> None:
    """Give a weight-normalised module the effective ``weight`` (g = ||w|| per output unit)."""
    param = module.parametrizations.weight
    param.original1.copy_(weight)
    param.original0.copy_(weight.flatten(1).norm(dim=1).view(param.original0.shape))


@torch.no_grad()
def linear_cordsnet(folded: FoldedCNN, seed: int = 0) -> CordsNet:
    """A linear CordsNet (PReLU slope 1) carrying the folded CNN's input, skip and read-out weights.

    Recurrent kernels keep their fresh initialisation and biases are zero: both are fitted by
    :func:`neurovision.families.cordsnet.pipeline.fit_steady_state`.
    """
    torch.manual_seed(seed)
    model = CordsNet(folded.config, activation="prelu", prelu_slope=1.0)
    _set_weight(model.stem, folded.stem_w)
    _set_weight(model.stem_skip, folded.stem_skip_w)
    for j in range(folded.config.depth):
        _set_weight(model.inp[j], folded.inp_w[j])
    for conv, w in zip(model.skip, folded.skip_w):
        _set_weight(conv, w)
    _set_weight(model.fc, folded.fc_w)
    model.fc.bias.copy_(folded.fc_b)
    return model
