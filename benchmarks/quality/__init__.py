"""Image quality: PSNR/SSIM against originals, no-reference scores, the peers, a blind look."""
