"""From a photo array to the x4 image and class map: padding, tiling, blending, retries."""
