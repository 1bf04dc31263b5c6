"""Issue 39: "background" where no street class fits. The class chain moves the street
classes' probability to background as far as the scene gate says the photo is no street
scene; people keep theirs; a street scene keeps SegDM's classes; a model without the class
still loads with its own classes; mIoU counts a background prediction as an error."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from segsr_gui.classes import BACKGROUND, PERSON_ID, STREET_IDS
from segsr_gui.engine.nets import weights
from segsr_gui.engine.stages.class_chain import ClassChain, ClassChainConfig, PersonConfig

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HAS_PRIOR = (ROOT / "pretrained" / "selfie_segmentation.safetensors").is_file()


def _chain():
    config = ClassChainConfig(width=8, mult=(1, 2), blocks=1, image_channels=8, encoder_channels=8,
                              person=PersonConfig(gate=(1.0, 2.0)), background=True)
    return ClassChain(config)


def test_the_gate_moves_the_street_classes_to_background_and_keeps_people():
    chain = _chain()
    logits = torch.randn(2, 11, 6, 7, generator=torch.Generator().manual_seed(0)) * 2
    street = chain.with_background(logits, 0.0, people=True)
    assert street.shape == (2, 12, 6, 7)
    assert torch.equal(street[:, :11].argmax(1), logits.argmax(1))
    assert torch.allclose(street.exp()[:, :11], logits.softmax(1), atol=1e-5)
    elsewhere = chain.with_background(logits, 1.0, people=True)
    ids = elsewhere.argmax(1)
    assert set(ids.unique().tolist()) <= {PERSON_ID, 11}
    assert torch.allclose(elsewhere.exp()[:, PERSON_ID], logits.softmax(1)[:, PERSON_ID], atol=1e-5)
    assert torch.allclose(elsewhere.exp().sum(1), torch.ones(2, 6, 7), atol=1e-4)
    # a landscape (no people): only the classes a street alone has move; sky, building, tree stay
    landscape = chain.with_background(logits, 1.0, people=False).argmax(1)
    assert not set(landscape.unique().tolist()) & set(STREET_IDS)
    probs = logits.softmax(1)
    sure = probs.max(1).values > 0.5  # a class holding most of the probability keeps its pixel
    for k in (0, 1, 5, PERSON_ID):
        assert torch.equal((landscape == k) & sure, (logits.argmax(1) == k) & sure)


def test_background_needs_the_scene_gate():
    with pytest.raises(ValueError, match="scene gate"):
        ClassChain(ClassChainConfig(width=8, mult=(1, 2), blocks=1, image_channels=8, background=True))


def test_miou_counts_a_background_prediction_as_an_error():
    from segsr_gui.training.metrics import confusion, miou

    label = np.array([[0, 0, 1, 1]])
    right = confusion(np.array([[0, 0, 1, 1]]), label, 2, 255)
    half = confusion(np.array([[0, 2, 1, 1]]), label, 2, 255)  # id 2 = background: no class of the labels
    assert miou(right) == 1.0 and miou(half) == pytest.approx((0.5 + 1.0) / 2)


def test_a_model_without_the_background_class_keeps_its_own(tiny_model_file):
    loaded = weights.load_model(tiny_model_file)
    assert loaded.model.config.num_classes == 11 and BACKGROUND not in loaded.classes
    assert loaded.model.background_for(1.0, None) is None


@pytest.mark.skipif(not HAS_PRIOR, reason="the person prior is not installed (segsr import-pretrained --only selfie)")
def test_a_portrait_gets_person_and_background_only():
    from segsr_gui.engine.inference.pipeline import upscale

    loaded = weights.load_model()
    assert loaded.classes[11] == BACKGROUND and loaded.model.config.num_classes == 12
    rgb = np.asarray(Image.open(ROOT / "resources" / "sample.png").convert("RGB"), np.float32) / 255
    out = upscale(rgb, loaded.model, steps=1, strength=0.0, tile=0, repair="off")
    shares = np.bincount(out.class_map.ravel(), minlength=12) / out.class_map.size
    assert shares[PERSON_ID] > 0.3 and shares[11] > 0.2
    assert shares[PERSON_ID] + shares[11] == pytest.approx(1.0)


@pytest.mark.skipif(not HAS_PRIOR, reason="the person prior is not installed (segsr import-pretrained --only selfie)")
def test_transparent_pixels_are_background_and_a_grey_portrait_still_has_its_person():
    from segsr_gui.engine.inference.pipeline import upscale

    loaded = weights.load_model()
    rgb = np.asarray(Image.open(ROOT / "resources" / "sample.png").convert("L"), np.float32) / 255
    rgb = np.repeat(rgb[..., None], 3, axis=2)
    alpha = np.ones(rgb.shape[:2], np.float32)
    alpha[:, : rgb.shape[1] // 3] = 0.0  # the left third cut out, its colours left behind
    out = upscale(rgb, loaded.model, steps=1, strength=0.0, tile=0, repair="off", alpha=alpha)
    edge = 4 * (rgb.shape[1] // 3)
    assert (out.class_map[:, :edge] == 11).all()
    kept = out.class_map[:, edge:]
    assert (kept == PERSON_ID).mean() > 0.3 and set(np.unique(kept)) <= {PERSON_ID, 11}


@pytest.mark.data
@pytest.mark.skipif(not (DATA / "camvid").is_dir() or not HAS_PRIOR,
                    reason="needs ../shared/data/camvid and the person prior")
def test_a_street_frame_keeps_its_street_classes():
    from segsr_gui.engine.inference.pipeline import upscale
    from segsr_gui.training.data import load_camvid
    from segsr_gui.training.degrade import bicubic

    loaded = weights.load_model()
    frame = load_camvid(DATA, "val").images[0].astype(np.float32) / 255
    out = upscale(bicubic(frame, 4), loaded.model, steps=1, strength=0.0, tile=0, repair="off")
    assert (out.class_map == 11).mean() == 0.0
    assert len(np.unique(out.class_map)) >= 4
