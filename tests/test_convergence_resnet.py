"""Recurrent ResNets: spectral normalisation bounds, soft gradient coupling, weight sharing."""
import pytest
import torch

from neurovision.errors import NeurovisionError, ShapeError
from neurovision.frontends.recurrent_resnet import RecurrentResNet, ResidualFunction, Stage


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """Tiny tensors: one thread avoids oversubscription on shared machines."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


MU = 0.95


def _wild_block(mu, seed=0, channels=3, size=5):
    """A residual function with large weights and non-trivial batch-norm statistics."""
    torch.manual_seed(seed)
    f = ResidualFunction(channels, (size, size), mu).double()
    with torch.no_grad():
        for conv in (f.conv1, f.conv2):
            conv.weight.mul_(4.0)
        for bn in (f.bn1, f.bn2):
            bn.weight.uniform_(0.5, 2.0)
            bn.running_var.uniform_(0.2, 3.0)
            bn.running_mean.normal_()
    if mu is not None:
        f.power_iteration(300)
    return f.eval()


def _jacobian_norm(f, x):
    jac = torch.autograd.functional.jacobian(lambda v: f(v.view_as(x)).flatten(), x.flatten())
    return torch.linalg.matrix_norm(jac, 2).item()


def test_spectral_normalised_block_is_mu_lipschitz():
    f = _wild_block(MU)
    gen = torch.Generator().manual_seed(1)
    points = [torch.randn(1, 3, 5, 5, generator=gen, dtype=torch.float64) * s for s in (0.1, 1.0, 5.0)]
    norms = [_jacobian_norm(f, x) for x in points]
    assert max(norms) <= MU * (1 + 1e-6)
    assert f.lipschitz_bound().item() > MU  # the normalisation was active
    for x, y in zip(points, points[1:]):
        ratio = (f(x) - f(y)).norm() / (x - y).norm()
        assert ratio.item() <= MU * (1 + 1e-6)


def test_unnormalised_block_exceeds_the_bound():
    f = _wild_block(None)
    x = torch.randn(1, 3, 5, 5, dtype=torch.float64)
    assert _jacobian_norm(f, x) > 1.0


def test_power_iteration_finds_the_operator_norms():
    f = _wild_block(MU)
    v = torch.zeros(1, 3, 5, 5, dtype=torch.float64)
    first = torch.autograd.functional.jacobian(lambda u: f._first(u.view_as(v)).flatten(), v.flatten())
    second = torch.autograd.functional.jacobian(lambda u: f._second(u.view_as(v)).flatten(), v.flatten())
    exact = torch.linalg.matrix_norm(first, 2) * torch.linalg.matrix_norm(second, 2)
    assert f.lipschitz_bound().item() == pytest.approx(exact.item(), rel=1e-6)


def _stage_grads(coupling, seed=0):
    torch.manual_seed(seed)
    stage = Stage(2, blocks=3, spatial=(4, 4), coupling=coupling).double()
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    stage.train()
    (stage(x) ** 2).sum().backward()
    return {n: p.grad.clone() for n, p in stage.named_parameters()}


@pytest.mark.parametrize("lam", [0.5, 0.9, 1.0])
def test_soft_gradient_coupling_mixes_block_gradients(lam):
    plain, coupled = _stage_grads(0.0), _stage_grads(lam)
    for name in ("conv1.weight", "bn2.bias"):
        g = [plain[f"blocks.{t}.{name}"] for t in range(3)]
        mean = torch.stack(g).mean(0)
        for t in range(3):
            expected = (1 - lam) * g[t] + lam * mean
            assert torch.allclose(coupled[f"blocks.{t}.{name}"], expected, atol=1e-12)


def test_full_coupling_with_recurrent_init_keeps_blocks_identical_while_training():
    torch.manual_seed(0)
    model = RecurrentResNet((1, 8, 8), classes=3, width=4, blocks=3, stages=2, coupling=1.0, recurrent_init=True)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        loss = torch.nn.functional.cross_entropy(model(torch.rand(8, 1, 8, 8)), torch.randint(0, 3, (8,)))
        opt.zero_grad()
        loss.backward()
        opt.step()
    for stage in model.stages:
        first = dict(stage.blocks[0].named_parameters())
        for block in stage.blocks[1:]:
            for name, p in block.named_parameters():
                assert torch.equal(p, first[name])
    # uncoupled blocks drift apart from the same start
    torch.manual_seed(0)
    free = RecurrentResNet((1, 8, 8), classes=3, width=4, blocks=3, stages=2, coupling=0.0, recurrent_init=True)
    opt = torch.optim.SGD(free.parameters(), lr=0.1)
    loss = torch.nn.functional.cross_entropy(free(torch.rand(8, 1, 8, 8)), torch.randint(0, 3, (8,)))
    loss.backward()
    opt.step()
    assert not torch.equal(free.stages[0].blocks[0].conv1.weight, free.stages[0].blocks[1].conv1.weight)


def test_pcr_stage_iterates_a_contraction_to_a_fixed_point():
    """PCR: z_t = x + f(z_{t-1}) with Lip(f) <= mu < 1 converges (Banach)."""
    torch.manual_seed(0)
    stage = Stage(3, blocks=1, spatial=(5, 5), residual="x", mu=0.5).double()
    with torch.no_grad():
        for bn in (stage.blocks[0].bn1, stage.blocks[0].bn2):
            bn.running_var.uniform_(0.1, 0.5)
    stage.blocks[0].power_iteration(200)
    stage.eval()
    x = torch.randn(2, 3, 5, 5, dtype=torch.float64)
    states = [stage(x, [0] * k) for k in (20, 21, 40)]
    assert (states[1] - states[0]).norm() <= 0.5**19 * (stage(x, [0]) - x).norm() * 1.01
    assert torch.allclose(states[0], states[2], atol=1e-5)


def test_invalid_configurations_are_rejected():
    with pytest.raises(NeurovisionError, match="coupling"):
        Stage(2, 2, (4, 4), coupling=1.5)
    with pytest.raises(NeurovisionError, match="residual"):
        Stage(2, 2, (4, 4), residual="y")
    with pytest.raises(ShapeError):
        RecurrentResNet((3, 8, 8), width=2, blocks=1)(torch.rand(1, 1, 8, 8))
