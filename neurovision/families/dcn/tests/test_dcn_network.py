"""ODE blocks, residual blocks and the DCN architecture as a sampled continuous-time model."""
import numpy as np
import pytest
import torch

from neurovision.dynamics import Schedule, record
from neurovision.errors import DivergenceError, ShapeError
from neurovision.families.dcn import (VARIANTS, ODEBlock, ODEFunc, ResidualBlock, SRFConv2d, build_network,
                                       count_parameters)
from neurovision.families.dcn.layers import TimeConv2d

#: Table 1 of Tomen et al. 2021
TABLE_1 = {"odenet": 560_000, "resnet-blocks": 555_000, "resnet-srf-blocks": 426_000, "resnet-srf-full": 323_000,
           "dcn-ode": 429_000, "dcn-full": 326_000, "dcn-sigma-ji": 472_000}


@pytest.mark.parametrize("variant", sorted(TABLE_1))
def test_parameter_counts_match_table_1(variant):
    n = count_parameters(build_network(variant))
    assert abs(n - TABLE_1[variant]) / TABLE_1[variant] < 0.03
    assert VARIANTS[variant].reference_params == TABLE_1[variant]


def _block(method="dopri5", steps=None, adjoint=False, channels=4, srf=True):
    conv = (lambda c: SRFConv2d(c, c, time_channel=True)) if srf else (lambda c: TimeConv2d(c, c))
    return ODEBlock(ODEFunc(channels, conv, "celu"), 2.0, method=method, steps=steps, adjoint=adjoint, name="probe")


def test_nfe_counter_is_exact():
    torch.manual_seed(0)
    h0 = torch.randn(2, 4, 6, 6)
    for method, steps, expected in [("euler", 3, 3), ("midpoint", 2, 4), ("rk4", 2, 8)]:
        block = _block(method, steps)
        calls = []
        block.func.register_forward_pre_hook(lambda *a: calls.append(1))
        block(h0)
        assert block.last_nfe == len(calls) == expected
    block = _block()
    calls = []
    block.func.register_forward_pre_hook(lambda *a: calls.append(1))
    block(h0)
    assert block.last_nfe == len(calls) and (len(calls) - 2) % 6 == 0   # dopri5: 2 to start, 6 per step


def test_adjoint_gradients_equal_direct_backpropagation():
    torch.manual_seed(0)
    direct = _block("rk4", 16, srf=False).double()
    adjoint = _block("rk4", 16, srf=False, adjoint=True).double()
    adjoint.load_state_dict(direct.state_dict())
    h0 = torch.randn(1, 4, 4, 4, dtype=torch.float64)
    grads = []
    for block in (direct, adjoint):
        block(h0).square().sum().backward()
        grads.append([p.grad for p in block.parameters()])
    for a, b in zip(*grads):      # the adjoint re-integrates h backwards: close, not identical
        torch.testing.assert_close(a, b, rtol=5e-3, atol=1e-5)


def test_step_size_underflow_raises_with_block_time_and_nfe():
    block = _block(srf=False)
    with torch.no_grad():
        block.func.conv1.conv.weight.fill_(float("nan"))
    with pytest.raises(DivergenceError, match=r"probe.*t = .*function evaluations"):
        block(torch.randn(1, 4, 5, 5))


def test_trajectory_matches_solution_at_requested_depth_times():
    torch.manual_seed(0)
    block = _block(srf=False).double()
    block.rtol = block.atol = 1e-6
    h0 = torch.randn(1, 4, 5, 5, dtype=torch.float64)
    states = block.trajectory(h0, [2.0, 0.5, 0.0])
    torch.testing.assert_close(states[0], block(h0), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(states[1], block(h0, T=0.5), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(states[2], h0)


def test_residual_block_is_one_euler_step():
    torch.manual_seed(0)
    block = ResidualBlock(4, lambda c: torch.nn.Conv2d(c, c, 3, padding=1, bias=False), "relu")
    h0 = torch.randn(2, 4, 5, 5)
    states = block.trajectory(h0, [0.0, 0.25, 1.0])
    torch.testing.assert_close(states[0], h0)
    torch.testing.assert_close(states[2], block(h0))
    torch.testing.assert_close(states[1], h0 + 0.25 * (block(h0) - h0))


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return build_network("odenet", method="rk4", steps=2, block_ms=40.0).eval()


def test_milliseconds_map_to_depth_time_block_by_block(net):
    images = torch.rand(2, 3, 32, 32)
    times = torch.tensor([10.0, 40.0, 60.0, 200.0])
    with torch.no_grad():
        traj = net.trajectory(images, times, ["block1", "block2", "logits"])
        h1_in = net.block_input(images, 0)
        expected = net.blocks[0].trajectory(h1_in, [0.25, 1.0])      # 10 ms -> t = 0.25, 40 ms -> t = 1
        torch.testing.assert_close(traj["block1"][:2], expected)
        torch.testing.assert_close(traj["block1"][3], expected[1])   # held after the block ends
        assert traj["block2"][:2].abs().max() == 0                    # silent before its onset at 40 ms
        torch.testing.assert_close(traj["block2"][2], net.block_trajectory(images, 1, [0.5])[0])
        torch.testing.assert_close(traj["logits"][3], net(images))
    assert traj["block1"].shape == (4, 2, *net.area_shape("block1"))


def test_record_bins_activity_in_milliseconds(net):
    activity = record(net, torch.rand(3, 3, 32, 32), Schedule.parse("blank:20,image:120"), ["block3", "logits"],
                      "-20:120:20", progress=False)
    assert activity.dims == ("presentation", "neuroid", "time_bin")
    assert activity.sizes["neuroid"] == int(np.prod(net.area_shape("block3"))) + 10
    early = activity.sel(neuroid=activity.region == "block3").isel(time_bin=slice(0, 5))
    assert float(abs(early).max()) == 0.0                               # block 3 starts at 80 ms
    assert float(abs(activity.isel(time_bin=-1)).max()) > 0


def test_readouts_and_contrast_rescaling(net):
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        readouts = net.readouts(images, [0.0, 1.0])
        torch.testing.assert_close(readouts[-1], net(images))
        torch.testing.assert_close(net(images, contrast=1.0, rescaled_blocks=3), net(images))


def test_wrong_image_size_is_a_shape_error(net):
    with pytest.raises(ShapeError, match="prepare_images"):
        net(torch.rand(1, 3, 28, 28))
