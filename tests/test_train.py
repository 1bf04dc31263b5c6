"""Training end to end on a tiny CamVid-shaped folder: log, curves, state, resume, shipping."""

import csv
import json

import numpy as np
import pytest
import torch

from conftest import TINY_TRAIN_TOML as TOML


def test_train_logs_selects_resumes_and_ships(tmp_path, camvid_like):
    from segsr_gui.training.train import run_training
    from segsr_gui.engine.nets.weights import load_model

    config = tmp_path / "tiny.toml"
    config.write_text(TOML)
    out, ship = tmp_path / "run", tmp_path / "models" / "tiny.safetensors"
    ship.parent.mkdir()
    lines = []
    meta = run_training(config, camvid_like, out, minutes=0, resume=False, ship=str(ship),
                        log=lines.append, max_iters=4)
    assert meta["iteration"] == 4 and meta["best"]["iteration"] in (2, 4)
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["iteration"]) for r in rows] == [2, 4]
    assert all(np.isfinite(float(r["val_psnr"])) for r in rows)
    assert (out / "curves.png").stat().st_size > 0 and (out / "state.safetensors").is_file()

    manifest = json.loads(ship.with_suffix(".json").read_text())
    assert manifest["training"]["run_iterations"] == 4
    assert manifest["training"]["selected_at_iteration"] == meta["best"]["iteration"]
    assert "3 images" in manifest["training"]["data"]  # counted, not assumed
    assert manifest["config"]["classes"]["pool"] == 2
    loaded = load_model(ship)  # checksum verified, nothing unpickled
    assert loaded.model.config.classes.pool == 2

    # A second sitting continues from the state file instead of starting over.
    lines.clear()
    meta = run_training(config, camvid_like, out, minutes=0, resume=True, ship=str(ship),
                        log=lines.append, max_iters=6)
    assert lines[0] == "resumed at iteration 4" and meta["iteration"] == 6
    assert [int(r["iteration"]) for r in csv.DictReader(open(out / "log.csv"))] == [2, 4, 6]


def test_learning_rate_warms_up_then_decays_by_cosine_to_its_floor():
    from segsr_gui.training.config import TrainConfig, learning_rate

    cfg = TrainConfig(lr=1e-3, lr_final=0.1, warmup=10, max_iters=110)
    assert learning_rate(cfg, 0) == pytest.approx(1e-4)
    assert learning_rate(cfg, 9) == pytest.approx(1e-3)
    assert learning_rate(cfg, 60) == pytest.approx(0.55e-3)  # half way: the mean of both ends
    assert learning_rate(cfg, 110) == pytest.approx(1e-4)
    rates = [learning_rate(cfg, i) for i in range(10, 111)]
    assert all(b <= a for a, b in zip(rates, rates[1:]))
    assert learning_rate(TrainConfig(lr=1e-3), 5000) == 1e-3  # the first models' constant rate


def _shipped_tiny_model(tmp_path, camvid_like, name: str):
    """(config path, shipped weights path) of a 2-iteration run of the tiny config."""
    from segsr_gui.training.train import run_training

    config = tmp_path / "tiny.toml"
    config.write_text(TOML)
    shipped = tmp_path / "models" / f"{name}.safetensors"
    shipped.parent.mkdir()
    run_training(config, camvid_like, tmp_path / "run1", minutes=0, resume=False, ship=str(shipped),
                 log=lambda line: None, max_iters=2)
    return config, shipped


def test_continued_training_starts_from_a_shipped_model_and_ships_only_a_better_one(tmp_path, camvid_like):
    from segsr_gui.training.train import run_training
    from segsr_gui.engine.nets.weights import load_model, read_manifest

    config, first = _shipped_tiny_model(tmp_path, camvid_like, "first")
    start = load_model(first).model.state_dict()

    lines = []
    second = tmp_path / "models" / "second.safetensors"
    meta = run_training(config, camvid_like, tmp_path / "run2", minutes=0, resume=False, ship=str(second),
                        log=lines.append, max_iters=2, init=str(first))
    assert lines[0] == "starting from first (2 iterations)"
    assert lines[1].startswith("starting point: val psnr")
    assert meta["init"]["name"] == "first" and np.isfinite(meta["init"]["val_psnr"])
    if meta["best"] is None:  # no validation beat the starting point: nothing shipped
        assert not second.exists()
    else:
        training = read_manifest(second)["training"]
        assert training["iterations"] == 4  # the earlier 2 plus this run's 2
        assert training["continued_from"].startswith("first (sha256 ")
    # the state the run started from was the shipped one, not a fresh init
    from segsr_gui.engine.nets.model import SegSRModel
    from segsr_gui.training.config import load_config
    from segsr_gui.training.records import initial_weights

    cfg = load_config(config)
    model, ema = SegSRModel(cfg.model), SegSRModel(cfg.model)
    initial_weights(model, ema, str(first))
    assert all(torch.equal(model.state_dict()[k], v) for k, v in start.items())

    other = tmp_path / "other.toml"
    other.write_text(TOML.replace("\nwidth = 8", "\nwidth = 16"))
    from segsr_gui.errors import WeightsError

    with pytest.raises(WeightsError, match="another architecture.*classes"):
        run_training(other, camvid_like, tmp_path / "run3", minutes=0, resume=False, ship=None,
                     log=lambda line: None, max_iters=1, init=str(first))


def test_a_config_with_a_base_overrides_only_what_it_names(tmp_path):
    from segsr_gui.training.config import load_config

    (tmp_path / "first.toml").write_text(TOML)
    (tmp_path / "more.toml").write_text('base = "first.toml"\n[train]\nseed = 5\nlr_final = 0.1\n')
    first, more = load_config(tmp_path / "first.toml"), load_config(tmp_path / "more.toml")
    assert (more.seed, more.lr_final) == (5, 0.1) and (first.seed, first.lr_final) == (0, 1.0)
    assert more.model == first.model and more.batch == first.batch and more.lr == first.lr


def test_median_frequency_weights_favour_the_rare_class_and_skip_absent_ones():
    from segsr_gui.training.data import median_frequency_weights

    # class 0 fills most of both images, class 1 a sliver of one, class 2 never appears,
    # 11 (unlabelled) is not a class
    a = np.zeros((10, 10), np.uint8)
    a[0, :2] = 1
    a[9] = 11
    b = np.zeros((10, 10), np.uint8)
    w = median_frequency_weights([a, b], num_classes=3)
    f0, f1 = 188 / 200, 2 / 100
    median = (f0 + f1) / 2
    np.testing.assert_allclose(w, [median / f0, median / f1, 0.0], rtol=1e-6)
    assert w[1] > 10 * w[0]


def test_class_balanced_training_weighs_the_cross_entropy(tmp_path, camvid_like):
    from segsr_gui.training.data import load_camvid
    from segsr_gui.training.config import load_config
    from segsr_gui.training.train import run_training, seg_class_weights

    (tmp_path / "plain.toml").write_text(TOML)
    (tmp_path / "balanced.toml").write_text('base = "plain.toml"\n[train]\nclass_balance = "median"\n')
    train = load_camvid(camvid_like, "train")
    assert seg_class_weights(load_config(tmp_path / "plain.toml"), train) is None
    weights = seg_class_weights(load_config(tmp_path / "balanced.toml"), train)
    assert weights.shape == (11,) and torch.all(weights > 0) and weights.std() > 0
    meta = run_training(tmp_path / "balanced.toml", camvid_like, tmp_path / "run", minutes=0, resume=False,
                        ship=str(tmp_path / "m"), log=lambda *_: None, max_iters=2)
    assert meta["iteration"] == 2
    record = json.loads((tmp_path / "m.json").read_text())["training"]
    assert record["seg_class_weights"] == "median frequency balancing"
    (tmp_path / "bad.toml").write_text('base = "plain.toml"\n[train]\nclass_balance = "inverse"\n')
    with pytest.raises(ValueError, match="class_balance"):
        seg_class_weights(load_config(tmp_path / "bad.toml"), train)


def test_a_continued_run_that_does_not_help_is_recorded_not_shipped(tmp_path, camvid_like):
    """With a zero learning rate no validation can beat the starting point: the shipped
    weights stay byte for byte, and the manifest names the run that was tried."""
    from segsr_gui.training.train import run_training
    from segsr_gui.engine.nets.weights import read_manifest

    _, shipped = _shipped_tiny_model(tmp_path, camvid_like, "m")
    before = shipped.read_bytes()
    frozen = tmp_path / "frozen.toml"
    frozen.write_text('base = "tiny.toml"\n[train]\nlr = 0.0\nphotometric = 0.5\nseg_lr_scale = 2.0\n')
    meta = run_training(frozen, camvid_like, tmp_path / "run2", minutes=0, resume=False, ship=str(shipped),
                        log=lambda line: None, max_iters=2, init=str(shipped))
    assert meta["best"] is None
    assert shipped.read_bytes() == before
    runs = read_manifest(shipped)["training"]["runs_not_shipped"]
    assert len(runs) == 1 and runs[0]["config"] == "frozen.toml" and runs[0]["run_iterations"] == 2
    assert runs[0]["photometric"] == 0.5 and runs[0]["seg_lr_scale"] == 2.0
    assert runs[0]["val_miou_to_beat"] == read_manifest(shipped)["validation"]["val_miou"]


def test_photometric_jitter_is_seeded_in_range_and_varies_exposure_and_colour():
    from segsr_gui.training.data import photometric_jitter

    rng = np.random.default_rng(0)
    hq = rng.random((24, 32, 3)).astype(np.float32) * 0.8 + 0.1
    first = photometric_jitter(hq, np.random.default_rng(7))
    again = photometric_jitter(hq, np.random.default_rng(7))
    assert first.shape == hq.shape and first.dtype == np.float32
    assert np.array_equal(first, again)
    outs = [photometric_jitter(hq, np.random.default_rng(s)) for s in range(20)]
    assert all(o.min() >= 0.0 and o.max() <= 1.0 for o in outs)
    means = [float(o.mean()) for o in outs]
    assert max(means) - min(means) > 0.1  # exposure changes
    spread = [float((o.max(-1) - o.min(-1)).mean()) for o in outs]  # saturation changes
    assert max(spread) > 1.2 * min(spread)


def test_crop_sampler_jitters_the_share_it_is_given_and_keeps_the_labels(camvid_like):
    from segsr_gui.training.data import CropSampler, load_camvid
    from segsr_gui.training.degrade import DegradationMix

    data = load_camvid(camvid_like, "train")
    mix = DegradationMix(bicubic=1.0, old_photo=0.0)
    plain = CropSampler(data, 32, mix=mix, seed=3).batch(6)
    jittered = CropSampler(data, 32, mix=mix, seed=3, photometric=1.0).batch(6)
    assert np.array_equal(plain[2], jittered[2])  # same crops, labels untouched
    assert not np.allclose(plain[1], jittered[1])  # the HQ target moves with the jitter
    crops = {(h.tobytes()) for h in plain[1]}
    assert all(h.tobytes() not in crops for h in jittered[1])


def test_segmentation_side_learns_at_its_own_rate_and_resumes_with_it(tmp_path, camvid_like):
    from segsr_gui.engine.nets.model import SegSRModel
    from segsr_gui.training.config import load_config
    from segsr_gui.training.train import parameter_groups, run_training

    (tmp_path / "plain.toml").write_text(TOML)
    cfg = load_config(tmp_path / "plain.toml")
    model = SegSRModel(cfg.model)
    (seg,) = parameter_groups(model, 3.0)
    seg_ids = {id(p) for p in seg["params"]}
    assert seg_ids == {id(p) for p in model.classes.parameters()} and seg["lr_scale"] == 3.0
    assert not seg_ids & {id(p) for p in model.experts.parameters()}  # the experts stay frozen

    (tmp_path / "fast.toml").write_text('base = "plain.toml"\n[train]\nseg_lr_scale = 3.0\n')
    run = tmp_path / "run"
    run_training(tmp_path / "fast.toml", camvid_like, run, minutes=0, resume=False, ship=str(tmp_path / "m"),
                 log=lambda *_: None, max_iters=2)
    groups = json.loads((run / "state.json").read_text())["param_groups"]
    assert [g["lr"] for g in groups] == pytest.approx([3e-3])
    assert json.loads((tmp_path / "m.json").read_text())["training"]["seg_lr_scale"] == "x3 for SegDM"
    meta = run_training(tmp_path / "fast.toml", camvid_like, run, minutes=0, resume=True, ship=None,
                        log=lambda *_: None, max_iters=3)
    assert meta["iteration"] == 3

