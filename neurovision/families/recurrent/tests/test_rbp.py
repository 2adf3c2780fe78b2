"""Recurrent back-propagation and the Lipschitz-Constant Penalty against exact references."""
import pytest
import torch

from neurovision.errors import NeurovisionError
from neurovision.families.recurrent.rbp import lipschitz_penalty, neumann_series, trajectory, unroll



class TanhCell(torch.nn.Module):
    """h' = tanh(W h + U x + b): a contraction when ||W||_2 < 1."""

    def __init__(self, n=6, m=4, gain=0.5, seed=0):
        super().__init__()
        gen = torch.Generator().manual_seed(seed)
        w = torch.randn(n, n, generator=gen, dtype=torch.float64)
        self.w = torch.nn.Parameter(gain * w / torch.linalg.matrix_norm(w, 2))
        self.u = torch.nn.Parameter(torch.randn(n, m, generator=gen, dtype=torch.float64))
        self.b = torch.nn.Parameter(0.1 * torch.randn(n, generator=gen, dtype=torch.float64))

    def forward(self, x, h):
        return torch.tanh(h @ self.w.T + x @ self.u.T + self.b)


def _grads(cell, x, target, steps, method, terms=60):
    x = x.clone().requires_grad_(True)
    out = unroll(lambda h: cell(x, h), torch.zeros(x.shape[0], cell.w.shape[0], dtype=x.dtype), steps,
                 method, terms)
    loss = ((out.state - target) ** 2).sum()
    params = [cell.w, cell.u, cell.b, x]
    return torch.autograd.grad(loss, params)


@pytest.fixture
def problem():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    target = torch.randn(3, 6, generator=gen, dtype=torch.float64)
    return TanhCell(), x, target


def test_rbp_equals_bptt_at_a_converged_contraction(problem):
    cell, x, target = problem
    bptt = _grads(cell, x, target, steps=150, method="bptt")
    rbp = _grads(cell, x, target, steps=150, method="rbp", terms=60)
    for a, b in zip(bptt, rbp):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6), (a - b).abs().max()


def test_rbp_differs_from_bptt_before_convergence_and_when_truncated(problem):
    cell, x, target = problem
    short_bptt = _grads(cell, x, target, steps=2, method="bptt")
    short_rbp = _grads(cell, x, target, steps=2, method="rbp")
    assert (short_bptt[0] - short_rbp[0]).abs().max() > 1e-3
    converged = _grads(cell, x, target, steps=150, method="bptt")
    one_step = _grads(cell, x, target, steps=150, method="rbp", terms=0)
    assert (converged[0] - one_step[0]).abs().max() > 1e-3


def test_neumann_series_inverts_i_minus_jacobian_transpose():
    gen = torch.Generator().manual_seed(2)
    a = torch.randn(5, 5, generator=gen, dtype=torch.float64)
    a = 0.6 * a / torch.linalg.matrix_norm(a, 2)
    prev = torch.randn(1, 5, dtype=torch.float64, requires_grad=True)
    last = prev @ a.T
    grad = torch.randn(1, 5, generator=gen, dtype=torch.float64)
    series = neumann_series(last, prev, grad, terms=80)
    exact = torch.linalg.solve(torch.eye(5, dtype=torch.float64) - a.T, grad.T).T
    assert torch.allclose(series, exact, atol=1e-10)


def test_rbp_memory_holds_only_the_last_step(problem):
    cell, x, _ = problem
    out = unroll(lambda h: cell(x, h), torch.zeros(3, 6, dtype=torch.float64), 40, "rbp")
    assert out.previous.is_leaf and out.previous.requires_grad
    ref = trajectory(lambda h: cell(x, h), torch.zeros(3, 6, dtype=torch.float64), 40)
    assert torch.allclose(out.state, ref[-1])


def _linear(a):
    prev = torch.randn(2, a.shape[0], dtype=torch.float64, requires_grad=True)
    return unroll(lambda h: h @ a.T + 1.0, prev, 1, "bptt")


def test_lcp_is_zero_for_a_contraction_and_positive_otherwise():
    n = 4
    contraction = _linear(0.5 * torch.eye(n, dtype=torch.float64))
    assert lipschitz_penalty(contraction, lam=0.9).item() == 0.0
    expanding = _linear(1.5 * torch.eye(n, dtype=torch.float64))
    assert lipschitz_penalty(expanding, lam=0.9).item() == pytest.approx(0.6**2)
    # column sums of J are 1^T A: (0.3+0.9, 0.2+0.1) -> only the first column is penalised
    a = torch.tensor([[0.3, 0.2], [0.9, 0.1]], dtype=torch.float64)
    mixed = _linear(a)
    assert lipschitz_penalty(mixed, lam=0.9, reduction="sum").item() == pytest.approx(2 * 0.3**2)


def test_lcp_gradient_pushes_towards_contraction():
    a = torch.nn.Parameter(1.2 * torch.eye(3, dtype=torch.float64))
    prev = torch.zeros(1, 3, dtype=torch.float64, requires_grad=True)
    pen = lipschitz_penalty(unroll(lambda h: h @ a.T, prev, 1, "bptt"), lam=0.9)
    (grad,) = torch.autograd.grad(pen, a)
    assert (torch.diagonal(grad) > 0).all()


def test_crbp_gradient_is_task_gradient_plus_penalty_gradient(problem):
    cell, x, target = problem
    h0 = torch.zeros(3, 6, dtype=torch.float64)

    def run():
        out = unroll(lambda h: cell(x, h), h0, 60, "rbp", terms=40)
        return ((out.state - target) ** 2).sum(), lipschitz_penalty(out, lam=0.1)

    task, pen = run()
    both = torch.autograd.grad(task + pen, [cell.w])[0]
    task, pen = run()
    only_task = torch.autograd.grad(task, [cell.w])[0]
    task, pen = run()
    only_pen = torch.autograd.grad(pen, [cell.w])[0]
    assert pen.item() > 0
    assert torch.allclose(both, only_task + only_pen, atol=1e-10)


def test_bad_arguments_raise_clear_errors(problem):
    cell, x, _ = problem
    with pytest.raises(NeurovisionError, match="method"):
        unroll(lambda h: cell(x, h), torch.zeros(3, 6, dtype=torch.float64), 3, "adjoint")
    with pytest.raises(NeurovisionError, match="steps"):
        unroll(lambda h: cell(x, h), torch.zeros(3, 6, dtype=torch.float64), 0)
