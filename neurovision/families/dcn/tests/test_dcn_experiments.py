"""DCN experiment building blocks: augmentation, masks, D(t), scale statistics, decoder, CLI."""
import json

import numpy as np
import pytest
import torch

from neurovision.cli.main import main
from neurovision.families.dcn import build_network
from neurovision.families.dcn.analysis import (completion_distance, learned_scales, mask_center,
                                               scale_distribution)
from neurovision.families.dcn.classification import augment, summarise
from neurovision.families.dcn.reconstruction import Decoder, normalise, reconstruction_loss


def test_augmentation_is_a_zero_filled_translation_or_its_mirror():
    torch.manual_seed(3)
    images = torch.rand(6, 3, 8, 8) + 1.0
    out = augment(images)
    for x, y in zip(images, out):
        found = False
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                shifted = torch.zeros_like(x)
                src = x[:, max(0, dy):8 + min(0, dy), max(0, dx):8 + min(0, dx)]
                shifted[:, max(0, -dy):8 - max(0, dy), max(0, -dx):8 - max(0, dx)] = src
                found |= torch.equal(y, shifted) or torch.equal(y, shifted.flip(-1))
        assert found


def test_centred_mask_zeroes_exactly_n_by_n_pixels():
    images = torch.ones(2, 3, 32, 32)
    masked = mask_center(images, 6)
    assert int((masked == 0).sum()) == 2 * 3 * 36
    assert masked[0, 0, 13:19, 13:19].abs().sum() == 0 and masked[0, 0, 12, 12] == 1
    with pytest.raises(ValueError):
        mask_center(images, 40)


def test_completion_distance_is_zero_without_mask_and_positive_with_one():
    torch.manual_seed(0)
    model = build_network("odenet", method="rk4", steps=1).eval()
    images = torch.rand(2, 3, 32, 32)
    d0 = completion_distance(model, images, 0, [0.0, 0.5, 1.0])
    d6 = completion_distance(model, images, 6, [0.0, 0.5, 1.0])
    assert d0.shape == (3, 2) and np.abs(d0).max() == 0
    assert (d6 > 0).all()


class _Diffusion:
    """Planted block: periodic heat diffusion of the image, h(t) = exp(t * Laplacian) x."""

    def block_trajectory(self, images, block, times):
        k = torch.fft.fftfreq(images.shape[-1]) * 2 * np.pi
        decay = -(k[:, None] ** 2 + k[None, :] ** 2)
        spectrum = torch.fft.fft2(images.double())
        return torch.stack([torch.fft.ifft2(spectrum * torch.exp(float(t) * decay)).real for t in times])


def test_diffusion_completes_the_hole_conserving_the_whole_map_difference():
    images = torch.ones(2, 1, 16, 16)
    times = [0.0, 1.0, 4.0, 16.0]
    whole = completion_distance(_Diffusion(), images, 4, times)
    hole = completion_distance(_Diffusion(), images, 4, times, region="mask")
    # heat flow keeps the (positive) missing mass: 16 px of 256, whatever t
    assert np.allclose(whole, 16 / 256, atol=1e-9)
    # inside the 4 x 4 footprint the hole fills in: D starts at 1 (all missing) and falls
    assert np.allclose(hole[0], 1.0) and (np.diff(hole, axis=0) < 0).all() and hole[-1].max() < 0.6
    with pytest.raises(ValueError, match="mask"):
        completion_distance(_Diffusion(), images, 4, times, region="hole")


def test_scale_statistics_recover_planted_lognormal_scales():
    torch.manual_seed(0)
    model = build_network("dcn-sigma-ji", method="euler", steps=1)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for block in model.blocks:
            for conv in (block.func.conv1, block.func.conv2):
                s = conv.coefficients.log2_sigma
                s.copy_((0.3 + 0.35 * torch.randn(s.shape, generator=gen)) / np.log(2))   # ln sigma ~ N(0.3, 0.35)
    stats = scale_distribution(model)
    assert len(stats) == 3
    for block in stats.values():
        assert block["skewness"] > 0
        assert abs(block["lognormal_shape"] - 0.35) < 0.03
        assert abs(np.log(block["lognormal_median"]) - 0.3) < 0.03
    shared = build_network("dcn-ode", method="euler", steps=1)
    scales = learned_scales(shared)
    assert scales["blocks.0.func.conv1"] == pytest.approx(float(shared.blocks[0].func.conv1.sigma().detach()))


def test_summary_reports_mean_and_sample_std():
    runs = [{"config": {"variant": "a"}, "train_images": 1280, "test": {"accuracy": v}} for v in (50.0, 52.0, 54.0)]
    assert summarise(runs) == {"a/k128": {"mean": 52.0, "std": 2.0, "n": 3, "runs": [50.0, 52.0, 54.0]}}


def test_decoder_reconstructs_a_28px_centre_and_learns():
    torch.manual_seed(0)
    decoder = Decoder("resnet-blocks")
    features = torch.randn(1, 128, 7, 7)
    ramp = torch.linspace(0, 1, 32)
    images = torch.stack([ramp.expand(32, 32), ramp[:, None].expand(32, 32), 1 - ramp.expand(32, 32)])[None]
    out = normalise(decoder(features))
    assert out.shape == (1, 3, 28, 28) and out.min() == 0 and out.max() == 1
    optimizer = torch.optim.Adam(decoder.parameters(), lr=3e-3)
    losses = []
    for _ in range(10):
        loss = reconstruction_loss(decoder, (features, images))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.5 * losses[0]


def test_small_data_command_trains_tests_and_summarises(shared_data, tmp_path):
    out = tmp_path / "small"
    code = main(["train", "dcn", "small-data", "--variants", "resnet-blocks", "--train-per-class", "2", "--repeats", "2", "--epochs", "1",
                 "--batch-size", "10", "--test-per-class", "3", "--out", str(out)])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["resnet-blocks/k2"]["n"] == 2
    run = json.loads((out / "resnet-blocks-k2-seed1.json").read_text())
    assert run["train_images"] == 20 and run["test_images"] == 30 and run["steps"] == 2
    assert (out / "resnet-blocks-k2-seed1.pt").is_file() and not (out / "resnet-blocks-k2-seed1.ckpt").exists()


def test_init_starts_from_the_trained_weights_and_checks_the_variant(tmp_path):
    from neurovision.errors import ShapeError
    from neurovision.training.checkpoint import save_checkpoint
    from neurovision.families.dcn.classification import RunConfig

    torch.manual_seed(3)
    trained = build_network("resnet-blocks")
    path = tmp_path / "trained.pt"
    save_checkpoint(path, trained, "resnet-blocks")
    fresh = RunConfig(variant="resnet-blocks").build()
    started = RunConfig(variant="resnet-blocks", init=str(path)).build()
    for (name, want), got in zip(trained.state_dict().items(), started.state_dict().values()):
        assert torch.equal(got, want), name
    assert any(not torch.equal(a, b) for a, b in zip(fresh.parameters(), trained.parameters()))
    with pytest.raises(ShapeError, match="resnet-blocks"):
        RunConfig(variant="odenet", init=str(path)).build()


def test_small_data_rejects_unknown_variants(capsys):
    assert main(["train", "dcn", "small-data", "--variants", "dcn-oed"]) == 1
    assert "dcn-ode" in capsys.readouterr().err


def test_table_command_puts_runs_beside_the_paper(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for variant, accuracies in {"dcn-ode": (30.0, 34.0), "odenet": (20.0, 20.0)}.items():
        for seed, accuracy in enumerate(accuracies):
            summary = {"config": {"variant": variant}, "train_images": 1280, "cpu_s": 10.0 * (seed + 1),
                       "test": {"accuracy": accuracy}}
            (runs / f"{variant}-k128-seed{seed}.json").write_text(json.dumps(summary))
    (runs / "odenet-k128-seed2.log.jsonl").write_text("{}\n")
    out = tmp_path / "table.json"
    assert main(["analyze", "small-data-table", "--runs", str(runs), "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    dcn = rows["dcn-ode"]["128"]
    assert (dcn["mean"], dcn["n"], dcn["cpu_s"]) == (32.0, 2, 15.0)
    assert dcn["std"] == pytest.approx(2 ** 0.5 * 2) and dcn["paper"] == {"mean": 58.2, "std": 0.7}
    assert rows["odenet"]["128"]["paper"]["mean"] == 50.7
    text = out.with_suffix(".md").read_text()
    assert "| dcn-ode | 32.0 ± 2.8 (n=2) (58.2 ± 0.7) |" in text and "| odenet | 20.0 ± 0.0 (n=2) (50.7 ± 0.7) |" in text


def test_table_command_without_runs_says_what_to_run(tmp_path, capsys):
    assert main(["analyze", "small-data-table", "--runs", str(tmp_path), "--out", str(tmp_path / "t.json")]) == 1
    assert "dcn small-data" in capsys.readouterr().err
