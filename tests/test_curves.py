"""The training-curve PNG drawn from a run's log.csv."""


def test_training_curves_png_draws_every_logged_value(tmp_path):
    import numpy as np
    from PIL import Image

    from segsr_gui.training.curves import write_curves

    log = tmp_path / "log.csv"
    log.write_text("iteration,seconds,img_loss,seg_loss,val_psnr,val_miou,val_psnr_steps\n"
                   "500,10,0.13,1.0,24.1,0.14,x\n1000,20,0.12,0.8,24.3,0.17,x\n1500,30,0.11,0.7,24.2,nan,x\n")
    png = write_curves(log, tmp_path / "curves.png")
    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape == (400, 640, 3)
    blue = (img[..., 2] > 150) & (img[..., 0] < 100)
    # one drawn line per panel: each quadrant holds curve pixels
    for top in (0, 200):
        for left in (0, 320):
            assert blue[top:top + 200, left:left + 320].sum() > 20
    assert not list(tmp_path.glob("*.tmp"))
