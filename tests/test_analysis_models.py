"""The toolkit on registered models: CordsNet's full state, CordsNet as a task RNN, comparisons."""
import numpy as np
import pytest
import torch

from neurovision import load_model
from neurovision.analysis import StepMap, arnoldi_eigs, dense_eigvals, jacobian_operator, recurrent_operator
from neurovision.families.cordsnet.cross_architecture import (
    ConvTaskRNN,
    ExperimentConfig,
    condition_trajectories,
    run,
)
from neurovision.backend.trials import Trials
from neurovision.errors import ShapeError


@pytest.fixture(autouse=True)
def _one_thread():  # small dense algebra: threads only contend on shared machines
    before = torch.get_num_threads(); torch.set_num_threads(1); yield; torch.set_num_threads(before)  # noqa: E702


def test_cordsnet_jacobian_at_rest_is_the_union_of_its_area_spectra():
    # tanh areas at r = 0 with zero bias: relu'(0) = 0 cuts the inter-area terms, so the full
    # Jacobian is block diagonal with blocks (W_rec_j - I) / tau
    torch.manual_seed(0)
    model = load_model("cordsnet-r2", image_size=16, activation="tanh", rec_gain=1.5).double()
    fmap = StepMap(model, context=model.zero_state(1))
    assert fmap.n == 2 * 64 * 4 * 4
    op = jacobian_operator(fmap, torch.zeros(fmap.n, dtype=torch.float64), continuous=True)
    found = arnoldi_eigs(op, k=6, which="LR").eigenvalues
    blocks = np.concatenate([dense_eigvals(recurrent_operator(model, a)) for a in model.areas])
    expected = (blocks - 1.0) / model.tau
    rightmost = expected[np.argsort(-expected.real)][:6]
    assert np.allclose(np.sort(found.real), np.sort(rightmost.real), atol=1e-10)
    assert np.allclose(np.sort(np.abs(found.imag)), np.sort(np.abs(rightmost.imag)), atol=1e-10)


def test_conv_task_rnn_shows_inputs_as_uniform_maps_and_steps_like_cordsnet():
    net = ConvTaskRNN(3, 4, channels=2, size=3, tau=100.0, dt=20.0, noise_std=0.0, seed=0).double()
    u = torch.tensor([[0.5, -1.0, 2.0]], dtype=torch.float64)
    maps = u.reshape(1, 3, 1, 1).expand(1, 3, 3, 3)
    assert torch.allclose(net.encode(u), net.inp(maps))
    state = {"conv": torch.randn(1, 2, 3, 3, dtype=torch.float64)}
    drive = net.encode(u)
    expected = state["conv"] + 0.2 * (torch.relu(net.rec(state["conv"]) + net.bias + drive) - state["conv"])
    assert torch.allclose(net.step(state, drive)["conv"], expected)
    out = net(torch.randn(5, 7, 3, dtype=torch.float64), record=True)
    assert out.logits.shape == (5, 7, 4) and out.rates["conv"].shape == (5, 7, 18)
    assert recurrent_operator(net, "conv").item_shape == (2, 3, 3)
    with pytest.raises(ShapeError, match="3 inputs"):
        net.encode(torch.zeros(1, 2))
    with pytest.raises(ShapeError, match="units"):
        ExperimentConfig(units=100, channels=8, size=4)


def test_condition_trajectories_average_trials_per_condition():
    net = ConvTaskRNN(2, 3, channels=2, size=2, noise_std=0.0).double()
    import pandas as pd

    inputs = torch.randn(6, 5, 2, dtype=torch.float64)
    info = pd.DataFrame({"coh": [0, 1, 0, 1, 0, 1], "length": [5, 5, 4, 5, 5, 5]})
    trials = Trials(inputs, torch.zeros(6, 5, dtype=torch.long), torch.ones(6, 5),
                    torch.zeros(6, 5, dtype=torch.bool), info, 20.0)
    traj = condition_trajectories(net, trials, ("coh",))
    assert traj.dims == ("condition", "time", "unit") and traj.shape == (2, 4, 8)
    rates = net(inputs, record=True).rates["conv"].detach().numpy()
    assert np.allclose(traj.sel(condition="coh=1").values, rates[[1, 3, 5], :4].mean(0))
    assert np.allclose(traj["time_ms"], [20, 40, 60, 80])


def test_cross_architecture_experiment_writes_its_results(tmp_path):
    config = ExperimentConfig(tasks=("perceptual-decision-making",), architectures=("cordsnet", "full"),
                              seeds=(0, 1), steps=3, eval_trials=60, n_components=4)
    result = run(config, tmp_path)
    for name in ("distances.nc", "accuracy.csv", "embedding.csv", "summary.csv", "cross_architecture.png"):
        assert (tmp_path / name).is_file()
    distances = result["distances"]
    assert set(distances.data_vars) == {"cca", "angular", "procrustes"}
    angular = distances["angular"].sel(task="perceptual-decision-making")
    assert angular.shape == (4, 4) and np.allclose(np.diag(angular), 0) and np.allclose(angular, angular.T)
    summary = result["summary"].set_index(["metric", "to"])["distance"]
    off = angular.values[np.ix_([0, 1], [2, 3])].mean()
    assert summary[("angular", "full")] == pytest.approx(off)
    assert summary[("angular", "cordsnet")] == pytest.approx(angular.values[0, 1])
    again = run(config, tmp_path)  # trained networks are reloaded, not retrained
    assert np.allclose(again["distances"]["angular"], distances["angular"])


def test_analyze_spectrum_command(tmp_path, capsys):
    from neurovision.analysis import load_result
    from neurovision.cli import main

    out = tmp_path / "spec"
    assert main(["analyze", "spectrum", "cordsnet-r2", "--model-option", "image_size=16", "--n-eigenvalues", "5",
                 "--out", str(out)]) == 0
    saved = load_result(out / "spectrum.nc")
    assert saved.attrs["units"] == 1024 and saved.sizes["eigenvalue"] == 5 and bool(saved["converged"].all())
    assert (out / "spectrum.png").is_file() and "5/5 eigenvalues converged" in capsys.readouterr().out
    assert main(["analyze", "spectrum", "cordsnet-r2", "--model-option", "image_size=16", "--n-eigenvalues", "2000",
                 "--out", str(out)]) == 1
    assert "give fewer than the area's 1024 units" in capsys.readouterr().err


def test_memory_pro_trials_and_delay_fixed_points():
    from neurovision.families.cordsnet.memory import MEMORY_TASKS, delay_fixed_points, delay_states
    from neurovision.backend.trials import draw_trials

    env = MEMORY_TASKS["memory-pro"][1](3, 20)
    trials = draw_trials(env, 12)
    row = trials.info.iloc[0]
    stim = trials.inputs[0, int(row["stimulus_start"])]
    assert int(stim[1:].argmax()) == row["ground_truth"] and stim[0] == 1  # bump peak, fixation on
    decision = slice(int(row["decision_start"]), int(row["decision_end"]))
    assert (trials.inputs[0, decision, 0] == 0).all() and (trials.targets[0, decision] == 1 + row["ground_truth"]).all()
    assert np.all(np.abs(np.angle(np.exp(1j * (2 * np.pi * trials.info["ground_truth"] / 16 - trials.info["theta"]))))
                  <= np.pi / 16 + 1e-9)
    net = ConvTaskRNN(17, 17, channels=2, size=3, seed=0)
    visited, delay_input = delay_states(net, trials)
    assert visited.shape[0] == 12 and visited.shape[2] == 18
    assert torch.allclose(delay_input, torch.tensor([1.0] + [0.0] * 16))
    result = delay_fixed_points(net, trials, n_states=10, max_iter=200)
    assert len(result.candidates) == 10 and result.final_states.shape == (10, 18)
    assert net.noise_std == 0.05  # the search used a noiseless copy


def test_trajectory_experiment_on_a_first_order_model(tmp_path):
    from neurovision.analysis.trajectories import write_experiment
    from neurovision.dynamics.reference import LeakyLinear

    model = LeakyLinear((1, 5, 5), tau=10.0, dt=1.0)
    images = torch.rand(3, 1, 5, 5, generator=torch.Generator().manual_seed(0))
    table = write_experiment(model, images, ["a", "b", "c"], tmp_path, blank_ms=20, image_ms=80, after_ms=40,
                             n_components=2)
    assert np.allclose(table["overshoot"], 0.0, atol=1e-9)  # first order: no overshoot
    # its Euler map decays by (1 - dt/tau) per step: a time constant of -dt / log(1 - dt/tau) ms
    assert np.allclose(table["slowest_decay_ms"], -1.0 / np.log(0.9), rtol=1e-6)
    assert np.allclose(table["cycles_per_decay"], 0.0)
    for name in ("trajectories_present.nc", "trajectories_switch.nc", "responses.csv", "trajectories.png"):
        assert (tmp_path / name).is_file()


def test_attractor_table_reports_stability_and_the_slowest_points_leading_eigenvalue():
    from neurovision.analysis import find_fixed_points
    from neurovision.families.cordsnet.memory import slowest_point
    from neurovision.analysis.systems import BistableRNN

    model = BistableRNN(n=16, gain=2.0, seed=2)  # tau = 10 ms
    gen = torch.Generator().manual_seed(0)
    saddle = slowest_point(find_fixed_points(model, 1e-3 * torch.randn(4, 16, generator=gen, dtype=torch.float64)))
    assert saddle["stability"] == "1 saddle"
    assert saddle["slowest_leading_real_per_s"] == pytest.approx(1000 * (2.0 - 1) / 10, rel=1e-6)
    assert saddle["slowest_leading_imag_per_s"] == pytest.approx(0, abs=1e-6)
    wells = slowest_point(find_fixed_points(model, torch.randn(20, 16, generator=gen, dtype=torch.float64), warmup=100))
    a = 1.0
    for _ in range(200):  # overlap of the stable states: a = tanh(2 a)
        a = np.tanh(2 * a)
    assert wells["stability"] == "2 stable"  # along the pattern: (-1 + g (1 - a^2)) / tau, slower than -1/tau
    assert wells["slowest_leading_real_per_s"] == pytest.approx(1000 * (-1 + 2 * (1 - a * a)) / 10, rel=1e-6)


def test_memory_tasks_draw_the_delay_asked_for():
    from neurovision.families.cordsnet.memory import MEMORY_TASKS, run
    from neurovision.backend.trials import draw_trials
    from neurovision.errors import ScheduleError

    for task, (_, builder) in MEMORY_TASKS.items():
        fixed = draw_trials(builder(1, 20), 20).info
        assert ((fixed["delay_end"] - fixed["delay_start"]) * 20 == 600).all(), task
        drawn = draw_trials(builder(1, 20, (600, 2000)), 60).info
        delay = (drawn["delay_end"] - drawn["delay_start"]) * 20
        assert delay.min() >= 600 and delay.max() <= 2000 and delay.max() - delay.min() > 700, task
    with pytest.raises(ScheduleError, match="lo <= hi"):
        run("unused", delay=(800, 400))
