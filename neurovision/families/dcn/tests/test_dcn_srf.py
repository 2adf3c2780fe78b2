"""Structured receptive fields: basis against scipy, exact evaluation paths, caching, clipping."""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter1d

from neurovision.errors import DivergenceError
from neurovision.families.dcn import ORDERS, SRFConv2d, basis_2d, derivatives_1d, filter_scope, half_width


@pytest.mark.parametrize("sigma", [0.6, 1.0, 2.3])
def test_1d_derivatives_match_scipy_gaussian_derivative_filters(sigma):
    r = half_width(sigma)
    impulse = np.zeros(4 * r + 1)
    impulse[2 * r] = 1.0
    ours = derivatives_1d(torch.tensor(sigma, dtype=torch.float64), r).numpy()
    for order in range(3):
        response = gaussian_filter1d(impulse, sigma, order=order, radius=r)[r:3 * r + 1]
        np.testing.assert_allclose(ours[order], sigma ** order * response, atol=1e-12)


def test_half_width_covers_two_sigma():
    assert [half_width(s) for s in (0.5, 1.0, 1.3, 3.45)] == [2, 3, 4, 8]


def test_2d_basis_is_separable_with_x_along_columns():
    sigma = torch.tensor(1.4, dtype=torch.float64)
    basis, d = basis_2d(sigma, 3), derivatives_1d(sigma, 3)
    for f, (l, k) in enumerate(ORDERS):
        torch.testing.assert_close(basis[f], torch.outer(d[k], d[l]))
    dx = basis[ORDERS.index((1, 0))]
    torch.testing.assert_close(dx, -dx.flip(1))          # odd along x (columns)
    torch.testing.assert_close(dx, dx.flip(0))           # even along y (rows)


def _concat_reference(layer, x, t):
    w = layer.weight(t)
    if layer.time_channel:
        x = torch.cat([torch.full_like(x[:, :1], t), x], 1)
    return F.conv2d(x, w, stride=layer.stride, padding=w.shape[-1] // 2)


@pytest.mark.parametrize("log2_sigma,stride,per_filter", [(0.0, 1, False), (1.3, 1, False), (1.3, 2, False),
                                                          (0.0, 1, True)])
def test_srf_paths_equal_convolution_with_concatenated_time_channel(log2_sigma, stride, per_filter):
    torch.manual_seed(0)
    layer = SRFConv2d(5, 4, stride=stride, time_channel=True, per_filter_scale=per_filter).double()
    if not per_filter:
        with torch.no_grad():
            layer.coefficients.log2_sigma.fill_(log2_sigma)
    x = torch.randn(2, 5, 13, 13, dtype=torch.float64)
    with torch.no_grad():
        fast = layer(x, 0.7)
        layer.min_separable_radius = 100          # force the direct path
        layer.clear_cache()
        direct = layer(x, 0.7)
        reference = _concat_reference(layer, x, 0.7)
    torch.testing.assert_close(fast, reference)
    torch.testing.assert_close(direct, reference)


def test_separable_path_gradients_are_exact():
    torch.manual_seed(1)
    layer = SRFConv2d(1, 2, time_channel=True).double()
    with torch.no_grad():
        layer.coefficients.log2_sigma.fill_(1.0)   # radius 5: separable path
    x = torch.randn(1, 1, 6, 6, dtype=torch.float64, requires_grad=True)
    params = (layer.coefficients.alpha, layer.coefficients.log2_sigma)
    assert torch.autograd.gradcheck(lambda inp: layer(inp, 0.4), (x,))
    y = layer(x, 0.4).square().sum()
    grads = torch.autograd.grad(y, params)
    layer.min_separable_radius = 100
    y2 = layer(x, 0.4).square().sum()
    torch.testing.assert_close(grads, torch.autograd.grad(y2, params))


def test_filters_are_built_once_per_scope_and_rebuilt_after_an_update(monkeypatch):
    calls = []
    torch.manual_seed(0)
    layer = SRFConv2d(3, 3)
    original = layer._build
    monkeypatch.setattr(layer, "_build", lambda *a: calls.append(1) or original(*a))
    x = torch.randn(1, 3, 8, 8)
    with filter_scope():
        for _ in range(5):
            loss = layer(x).sum()
    assert len(calls) == 1
    loss.backward()
    grad_cached = layer.coefficients.alpha.grad.clone()
    layer.zero_grad()
    layer(x).sum().backward()                        # no scope: built again, same gradient
    assert len(calls) == 2
    torch.testing.assert_close(layer.coefficients.alpha.grad, grad_cached)
    with torch.no_grad():
        layer(x), layer(x)
        assert len(calls) == 3                       # cached without grad
        layer.coefficients.alpha.add_(0.1)           # in-place update invalidates it
        layer(x)
    assert len(calls) == 4


def test_scale_outside_stable_range_is_clipped_with_one_warning():
    layer = SRFConv2d(2, 2, name="probe")
    with torch.no_grad():
        layer.coefficients.log2_sigma.fill_(9.0)
    with pytest.warns(RuntimeWarning, match="probe"):
        assert float(layer.sigma().detach()) == 8.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = layer.weight()
    assert torch.isfinite(w).all() and w.shape[-1] == 2 * half_width(8.0) + 1
    with torch.no_grad():
        layer.coefficients.log2_sigma.fill_(float("nan"))
    with pytest.raises(DivergenceError, match="probe"):
        layer(torch.zeros(1, 2, 5, 5))


def test_meta_parametrised_scale_follows_clipped_scaled_time():
    torch.manual_seed(0)
    layer = SRFConv2d(2, 2, time_channel=True, parametrisation="sigma-quadratic")
    c = layer.coefficients
    a, b, bias = (float(p.detach()) for p in (c.scale_quadratic, c.scale_slope, c.scale_bias))
    tau = 0.5 * 1.2
    torch.testing.assert_close(float(c(1.2)[0].detach()), a * tau ** 2 + b * tau + bias)
    with pytest.warns(RuntimeWarning, match="clipped"):
        far = c(7.0)[0]
    torch.testing.assert_close(far, c(2.5)[0])


def test_alpha_linear_in_time():
    torch.manual_seed(0)
    c = SRFConv2d(2, 3, parametrisation="sigma-alpha-linear").coefficients
    torch.testing.assert_close(c(2.0)[1], c.alpha * 1.0 + c.alpha_bias)
    torch.testing.assert_close(c(0.0)[1], c.alpha_bias)
