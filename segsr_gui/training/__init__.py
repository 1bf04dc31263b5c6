"""Training and evaluation: data, degradations, metrics, the training loop and its curves."""
