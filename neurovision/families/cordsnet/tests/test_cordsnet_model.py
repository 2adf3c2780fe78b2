"""CordsNet dynamics against the equations written out independently (authors' naming)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from neurovision.dynamics import Schedule, integrate, record
from neurovision.errors import DivergenceError, ShapeError
from neurovision.families.cordsnet.network import CordsNet, CordsNetConfig

SIGMA = {"relu": F.relu, "tanh": torch.tanh, "prelu": lambda x: F.leaky_relu(x, 0.3)}


def effective_weights(model):
    """Effective (weight-normalised) tensors of ``model`` under the authors' names."""
    w = {"inp_conv": model.stem.weight, "inp_skip": model.stem_skip.weight,
         "out_fc": model.fc.weight, "out_fc.bias": model.fc.bias}
    for j in range(model.config.depth):
        w[f"area_conv.{j}"] = model.rec[j].weight
        w[f"area_area.{j}"] = model.inp[j].weight
        w[f"conv_bias.{j}"] = model.bias[j]
    for i, conv in enumerate(model.skip):
        w[f"skip_area.{i}"] = conv.weight
    return w


def reference_step(w, r, image, alpha, sigma, cfg):
    """The paper's Euler update with the authors' wiring, from effective weights ``w``."""
    strides = [1, 1, 2, 1, 2, 1, 2, 1]
    if image is None:
        s = None
    else:
        x = (image - torch.tensor(cfg.mean).view(-1, 1, 1)) / torch.tensor(cfg.std).view(-1, 1, 1)
        s = F.avg_pool2d(F.conv2d(x, w["inp_conv"], stride=2, padding=3), 3, 2, 1)
    new = []
    for j in range(len(r)):
        if j == 0:
            h = s
        elif j == 1:
            h = F.relu(r[0]) + (0 if s is None else F.conv2d(s, w["inp_skip"], padding=1))
        elif j % 2 == 0:
            h = F.relu(r[j - 1]) + F.relu(r[j - 2])
        else:
            h = F.relu(r[j - 1]) + F.conv2d(F.relu(r[j - 2]), w[f"skip_area.{(j - 3) // 2}"], stride=2)
        pre = F.conv2d(r[j], w[f"area_conv.{j}"], padding=1) + w[f"conv_bias.{j}"]
        if h is not None:
            pre = pre + F.conv2d(h, w[f"area_area.{j}"], stride=strides[j], padding=1)
        new.append((1 - alpha) * r[j] + alpha * sigma(pre))
    return new


def reference_readout(w, r):
    pooled = (F.relu(r[-1]) + F.relu(r[-2])).mean(dim=(2, 3))
    return pooled @ w["out_fc"].T + w["out_fc.bias"]


def randomise(model, seed=0, scale=0.5):
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p + scale * torch.randn(p.shape, generator=gen) * (p.std() if p.numel() > 1 else 1))
    return model


def random_state(model, batch, seed=1):
    gen = torch.Generator().manual_seed(seed)
    return {a: torch.randn(batch, *model.area_shape(a), generator=gen) for a in model.areas}


@pytest.mark.parametrize("depth,activation", [(4, "relu"), (8, "tanh"), (4, "prelu")])
def test_euler_step_equals_the_equation(depth, activation):
    model = randomise(CordsNet(depth=depth, image_size=32, n_classes=7, activation=activation,
                               prelu_slope=0.3))
    state = random_state(model, 3)
    images = torch.rand(3, 3, 32, 32)
    w = effective_weights(model)
    with torch.no_grad():
        for image, drive in ((images, model.encode(images)), (None, None)):
            got = model.step(state, drive)
            want = reference_step(w, [state[a] for a in model.areas], image, 0.2, SIGMA[activation], model.config)
            for area, ref in zip(model.areas, want):
                torch.testing.assert_close(got[area], ref, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(model.readout(state), reference_readout(w, [state[a] for a in model.areas]))


def test_bfloat16_autocast_runs_the_convolutions_in_bfloat16_and_keeps_the_state_in_float32():
    model = randomise(CordsNet(depth=4, image_size=32, n_classes=7))
    state, images = random_state(model, 3), torch.rand(3, 3, 32, 32)
    labels = torch.tensor([0, 3, 6])
    w = effective_weights(model)
    with torch.no_grad():
        want = reference_step(w, [state[a] for a in model.areas], images, 0.2, F.relu, model.config)

    def loss_and_grads(autocast: bool):
        model.zero_grad()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
            new = model.step(state, model.encode(images))
            loss = F.cross_entropy(model.readout(model.step(new, model.encode(images))), labels)
        loss.backward()
        return new, torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])

    low, low_grads = loss_and_grads(True)
    _, grads = loss_and_grads(False)
    for area, ref in zip(model.areas, want):
        assert low[area].dtype == torch.float32
        off = float((low[area].detach() - ref).norm() / ref.norm())
        assert 1e-5 < off < 2e-2  # bfloat16 rounding of the convolutions' inputs, not float32's
    assert torch.isfinite(low_grads).all()
    assert float((low_grads - grads).norm() / grads.norm()) < 0.1


def test_non_negative_rates_skip_the_inter_area_relu_with_the_same_values_and_parameter_gradients():
    from neurovision.families.cordsnet.network import Rates
    from neurovision.families.cordsnet.protocol import run_phase

    model = randomise(CordsNet(depth=4, image_size=32, n_classes=5))
    images = torch.rand(2, 3, 32, 32)
    start = model.zero_state(2)
    assert isinstance(start, Rates) and isinstance(model.initial_state(2), Rates)

    def presentation(state, segment=0):
        model.zero_grad()
        state, _ = run_phase(model, state, model.encode(images), 6, lambda k, st: None, "image", segment)
        model.readout(state).square().sum().backward()
        return state, [p.grad.clone() for p in model.parameters()]

    rates, grads = presentation(start)
    plain, plain_grads = presentation(dict(start))
    checkpointed, checkpointed_grads = presentation(start, segment=4)
    assert isinstance(rates, Rates) and isinstance(checkpointed, Rates) and type(plain) is dict
    # units that stay exactly 0 from the start: their relu derivative is where the two differ
    assert all(bool((rates[a] == 0).any()) for a in model.areas[:-1])
    for area in model.areas:
        assert torch.equal(rates[area], plain[area]) and torch.equal(checkpointed[area], plain[area])
    for got, want, again in zip(grads, plain_grads, checkpointed_grads):
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)
        torch.testing.assert_close(again, want, rtol=1e-6, atol=1e-7)
    # negative rates keep their relu: only Rates (non-negative by construction) skip it
    negative = random_state(model, 2)
    with torch.no_grad():
        want = reference_step(effective_weights(model), [negative[a] for a in model.areas], None, 0.2, F.relu,
                              model.config)
        assert not torch.allclose(model.step(Rates(negative), None)["area2"], want[1])
        torch.testing.assert_close(model.step(negative, None)["area2"], want[1], rtol=1e-4, atol=1e-5)
    tanh = CordsNet(depth=2, image_size=32, activation="tanh")
    assert type(tanh.step(tanh.zero_state(1), None)) is dict  # tanh rates may turn negative


def test_architecture_matches_the_authors_r8():
    model = CordsNet(depth=8)
    assert [model.area_shape(a) for a in model.areas] == [
        (64, 56, 56), (64, 56, 56), (128, 28, 28), (128, 28, 28),
        (256, 14, 14), (256, 14, 14), (512, 7, 7), (512, 7, 7)]
    assert model.alpha == pytest.approx(0.2)
    assert model.fc.weight.shape == (1000, 512)
    assert [tuple(c.weight.shape) for c in model.skip] == [(128, 64, 1, 1), (256, 128, 1, 1), (512, 256, 1, 1)]


def test_areas_read_the_previous_step_of_the_areas_below():
    model = randomise(CordsNet(depth=8, image_size=32))
    state = random_state(model, 2)
    bumped = dict(state, area1=state["area1"] + 1.0)
    with torch.no_grad():
        a, b = model.step(state, None), model.step(bumped, None)
    changed = [not torch.equal(a[x], b[x]) for x in model.areas]
    # area1 feeds area2 and (by the identity skip) area3 only
    assert changed == [True, True, True, False, False, False, False, False]


def test_image_reaches_each_area_one_step_per_level():
    model = randomise(CordsNet(depth=8, image_size=32))
    images = torch.rand(2, 3, 32, 32)
    schedule = Schedule.parse("image:10")
    with torch.no_grad():
        spont = model.initial_state(2)
        first = {}
        for k, _, state in integrate(model, images, schedule):
            for area in model.areas:
                if area not in first and not torch.allclose(state[area], spont[area], atol=0, rtol=1e-6):
                    first[area] = k
    assert [first[a] for a in model.areas] == [1, 1, 2, 2, 3, 3, 4, 4]


def test_spontaneous_state_is_a_cached_fixed_point_shared_by_the_batch():
    model = randomise(CordsNet(depth=4, image_size=32, rec_gain=0.6), scale=0.3)
    with torch.no_grad():
        for bias in model.bias:
            bias.normal_(0.0, 0.5)
        spont = model.initial_state(3)
        assert model.spontaneous_info["converged"]
        after = model.step(spont, None)
    for area in model.areas:
        assert spont[area].abs().max() > 0.01
        torch.testing.assert_close(after[area], spont[area], rtol=1e-5, atol=1e-5)
        assert torch.equal(spont[area][0], spont[area][2])
    assert model.spontaneous_state() is model.spontaneous_state()
    before = model.spontaneous_state()["area1"].clone()
    with torch.no_grad():
        model.bias[0].add_(1.0)
    assert not torch.allclose(model.spontaneous_state()["area1"], before)


def dense_matrix(conv, shape):
    n = int(np.prod(shape))
    basis = torch.eye(n).view(n, *shape)
    return conv(basis).reshape(n, -1).T


def test_linear_spontaneous_state_solves_the_linear_system():
    model = CordsNet(depth=2, image_size=8, activation="prelu", prelu_slope=1.0, rec_gain=0.5,
                     spontaneous_tol=1e-8)
    with torch.no_grad():
        for bias in model.bias:
            bias.normal_(0.0, 1.0)
        spont = model.spontaneous_state()
        shape = model.area_shape("area1")
        eye = torch.eye(int(np.prod(shape)))
        w1 = dense_matrix(model.recurrent_conv("area1"), shape)
        r1 = torch.linalg.solve(eye - w1, model.bias[0].flatten())
        w2 = dense_matrix(model.recurrent_conv("area2"), shape)
        drive2 = model.bias[1].flatten() + model.inp[1](F.relu(r1.view(1, *shape))).flatten()
        r2 = torch.linalg.solve(eye - w2, drive2)
    torch.testing.assert_close(spont["area1"].flatten(), r1, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(spont["area2"].flatten(), r2, rtol=1e-4, atol=1e-4)


def test_jacobian_operator_matches_autograd():
    model = randomise(CordsNet(depth=4, image_size=32, activation="tanh"))
    state = random_state(model, 1)
    drive = model.encode(torch.rand(1, 3, 32, 32))
    v = torch.randn(1, *model.area_shape("area3"))

    def area3_step(r):
        return model.step(dict(state, area3=r), drive)["area3"]

    _, jvp = torch.autograd.functional.jvp(area3_step, state["area3"], v)
    step_op = model.jacobian_operator("area3", state, drive, kind="step")
    torch.testing.assert_close(step_op(v), jvp, rtol=1e-4, atol=1e-5)
    flow = model.jacobian_operator("area3", state, drive)
    torch.testing.assert_close(flow(v), (jvp - v) / model.dt, rtol=1e-4, atol=1e-5)


def test_nan_in_the_state_stops_with_the_step_and_area():
    model = CordsNet(depth=2, image_size=32)
    with torch.no_grad():
        model.rec[1].parametrizations.weight.original1[0, 0, 1, 1] = float("nan")
    model._spontaneous = (model._weights_key(), model.zero_state(1))  # skip the search
    with pytest.raises(DivergenceError, match=r"area2.*step 1"):
        for _ in integrate(model, torch.rand(1, 3, 32, 32), Schedule.parse("image:10")):
            pass


def test_exploding_dynamics_are_reported_not_silent():
    torch.manual_seed(0)
    model = CordsNet(depth=2, image_size=32, rec_gain=60.0)
    with torch.no_grad():
        model.bias[0].fill_(1.0)
    with pytest.raises(DivergenceError, match=r"area 'area[12]' holds NaN/Inf after step \d+"):
        model.spontaneous_state()


def test_wrong_image_shape_names_the_expected_shape():
    model = CordsNet(depth=2, image_size=32)
    with pytest.raises(ShapeError, match=r"\(batch, 3, 32, 32\).*prepare_images"):
        model.encode(torch.rand(2, 1, 28, 28))


def test_record_encodes_each_presentation_once():
    model = CordsNet(depth=2, image_size=32)
    calls = []
    original = model.encode
    model.encode = lambda x: calls.append(x.shape[0]) or original(x)
    activity = record(model, torch.rand(5, 3, 32, 32), "blank:20,image:40,blank:20",
                      areas=["area1", "area2"], time_bins="0:60:20", batch_size=5, progress=False)
    assert calls == [5]
    assert activity.shape == (5, 2 * 64 * 8 * 8, 3)
    assert set(activity.region.values) == {"area1", "area2"}


def test_config_round_trips_through_a_dict():
    cfg = CordsNetConfig.for_dataset("fashion-mnist", 2, 28, 10, activation="tanh")
    assert CordsNetConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError, match="depth"):
        CordsNetConfig(depth=3)


def authors_layout(depth, n_in, n_classes, side, gen, legacy=False, prefix=""):
    """A random state dict written the way the authors' training code names its parameters."""
    ch, skip_ch = [64, 64, 64, 128, 128, 256, 256, 512, 512], [64, 128, 256, 512]
    shapes = {"inp_conv": (64, n_in, 7, 7), "inp_skip": (64, 64, 3, 3), "out_fc": (n_classes, ch[depth])}
    for j in range(depth):
        shapes[f"area_conv.{j}"] = (ch[j + 1], ch[j + 1], 3, 3)
        shapes[f"area_area.{j}"] = (ch[j + 1], ch[j], 3, 3)
    for i in range(depth // 2 - 1):
        shapes[f"skip_area.{i}"] = (skip_ch[i + 1], skip_ch[i], 1, 1)
    g_key, v_key = ("weight_g", "weight_v") if legacy else (
        "parametrizations.weight.original0", "parametrizations.weight.original1")
    raw = {}
    for name, shape in shapes.items():
        raw[f"{prefix}{name}.{g_key}"] = torch.rand((shape[0],) + (1,) * (len(shape) - 1), generator=gen) + 0.5
        raw[f"{prefix}{name}.{v_key}"] = torch.randn(shape, generator=gen)
    sizes = [side, side, side // 2, side // 2, side // 4, side // 4, side // 8, side // 8]
    for j in range(depth):
        raw[f"{prefix}conv_bias.{j}"] = 0.1 * torch.randn(ch[j + 1], sizes[j], sizes[j], generator=gen)
    raw[f"{prefix}out_fc.bias"] = torch.randn(n_classes, generator=gen)
    return raw


def weights_from_layout(raw, prefix, legacy):
    g_key, v_key = ("weight_g", "weight_v") if legacy else (
        "parametrizations.weight.original0", "parametrizations.weight.original1")
    w = {}
    for key, value in raw.items():
        name = key[len(prefix):]
        if name.endswith(v_key):
            module = name[: -len(v_key) - 1]
            g = raw[f"{prefix}{module}.{g_key}"]
            w[module] = g * value / value.flatten(1).norm(dim=1).view(g.shape)
        elif not name.endswith(g_key):
            w[name] = value
    return w


@pytest.mark.parametrize("legacy,prefix", [(False, ""), (True, "module.")])
def test_authors_checkpoint_layout_loads_and_runs_their_equations(tmp_path, legacy, prefix):
    from neurovision.families.cordsnet.released import load_released

    raw = authors_layout(4, 3, 10, 8, torch.Generator().manual_seed(3), legacy, prefix)
    torch.save(raw, tmp_path / "released.pth")
    model = load_released(tmp_path / "released.pth", depth=4, dataset="cifar10")
    assert model.input_shape == (3, 32, 32) and model.config.n_classes == 10
    w = weights_from_layout(raw, prefix, legacy)
    state = random_state(model, 2)
    images = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        got = model.step(state, model.encode(images))
        want = reference_step(w, [state[a] for a in model.areas], images, 0.2, F.relu, model.config)
        for area, ref in zip(model.areas, want):
            torch.testing.assert_close(got[area], ref, rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(model.readout(state), reference_readout(w, [state[a] for a in model.areas]))


def test_mismatched_released_files_are_refused(tmp_path):
    from neurovision.errors import CorruptFileError
    from neurovision.families.cordsnet.released import load_released

    raw = authors_layout(2, 3, 10, 8, torch.Generator().manual_seed(0))
    torch.save(raw, tmp_path / "r2.pth")
    with pytest.raises(ShapeError, match="R2 weights, not CordsNet-R8"):
        load_released(tmp_path / "r2.pth", depth=8, dataset="cifar10")
    torch.save(dict(raw, **{"area_bias.0": torch.zeros(64, 8, 8)}), tmp_path / "stage.pth")
    with pytest.raises(CorruptFileError, match="area_bias.0"):
        load_released(tmp_path / "stage.pth", dataset="cifar10")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CorruptFileError):
        load_released(tmp_path / "junk.pth")


def test_checkpoint_of_another_variant_is_refused(tmp_path):
    from neurovision.families.cordsnet.network import load_cordsnet
    from neurovision.training.checkpoint import load_checkpoint, save_checkpoint

    r4 = CordsNet(depth=4, image_size=32, n_classes=10)
    save_checkpoint(tmp_path / "r4.pt", r4, "cordsnet-r4-test", meta={"cordsnet_config": r4.config.to_dict()})
    with pytest.raises(ShapeError, match="rec.2"):
        load_checkpoint(tmp_path / "r4.pt", CordsNet(depth=2, image_size=32, n_classes=10))
    with pytest.raises(ShapeError, match="cordsnet-r4-test"):
        load_cordsnet(tmp_path / "r4.pt", model_id="cordsnet-r2-test")
    assert load_cordsnet(tmp_path / "r4.pt").areas == r4.areas
