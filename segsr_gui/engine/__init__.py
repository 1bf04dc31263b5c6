"""The engine: diffusion (schedule, sampler, noise, precision), nets (the model, its parts and weights) and inference (pipeline, tiling, the out-of-memory retrying runner). No Qt, no app."""
