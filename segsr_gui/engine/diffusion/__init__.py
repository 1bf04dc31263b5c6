"""ResShift's residual-shifting schedule and the generator sampler that yields every step."""
