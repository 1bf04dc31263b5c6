"""The classes of the shipped models (CamVid, docs/design.md section 3) and their palette.

Colours are the CamVid palette used by SegNet's CamVid release, except classes 9 and 1. Class 9
is CamVid's "pedestrian"; with the person prior it holds people of any size (portraits, groups),
so it is called "person" and drawn in Cityscapes' person crimson, which stands out in an
overlay where CamVid's dark olive looked like a shadow. Building is amber rather than CamVid's
maroon, which sat 32 CIELAB units from the crimson and read as the same red in an overlay;
amber is 68 from it and at least 50 from every other class colour. The ids stay, so class
maps and exports keep their meaning; "background" takes the next id.
"""

import colorsys

CAMVID_CLASSES = ["sky", "building", "pole", "road", "pavement", "tree", "sign/symbol",
                  "fence", "car", "person", "bicyclist"]
PERSON_ID = 9
CAMVID_PALETTE = [(128, 128, 128), (255, 160, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222),
                  (128, 128, 0), (192, 128, 128), (64, 64, 128), (64, 0, 128), (220, 20, 60),
                  (0, 128, 192)]
IGNORE_ID = 11  # unlabelled pixels in CamVid's annotations
# A model with the background class shows it after SegDM's classes (id 11): what is not a
# person in a photo that is no street scene. Black, CamVid's colour for "void".
BACKGROUND = "background"
BACKGROUND_RGB = (0, 0, 0)
# the classes only a street has (issue 39); sky, building and tree are found elsewhere too
STREET_IDS = (2, 3, 4, 6, 7, 8, 10)  # pole, road, pavement, sign/symbol, fence, car, bicyclist


def full_palette(classes, palette) -> list[tuple[int, int, int]]:
    """One colour per class: the palette's own, then, for the classes a short palette lacks,
    colours spread around the hue circle (golden-ratio steps), so every class can be drawn."""
    colours = [tuple(int(c) for c in rgb) for rgb in list(palette)[:len(classes)]]
    for k in range(len(colours), len(classes)):
        r, g, b = colorsys.hsv_to_rgb((0.13 + 0.618034 * k) % 1.0, 0.75, 0.95)
        colours.append((round(255 * r), round(255 * g), round(255 * b)))
    return colours
