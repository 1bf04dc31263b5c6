"""The model's stages, each a module with its own config section in the manifest:

- ``experts``: the first stage. The faithful and the clean expert enlarge the photo, blended by
  the restoration strength (Auto from the damage estimator), the 4-pixel lattice taken out, the
  photo's tones kept. Its output ``y`` is where the chain starts.
- ``class_chain``: SegDM, its SqueezeNet encoder and the image side of the bridge, refining the
  class state step by step from ``y``; the person prior and its scene gate join it.

``nets/model.py`` composes them into the one call the sampler knows.
"""
