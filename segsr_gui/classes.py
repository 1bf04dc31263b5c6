"""The classes of the shipped models (CamVid, docs/design.md section 3) and their palette.

Colours are the CamVid palette used by SegNet's CamVid release, except class 9. That is
CamVid's "pedestrian"; with the person prior it holds people of any size (portraits, groups),
so it is called "person" and drawn in Cityscapes' person crimson, which stands out in an
overlay where CamVid's dark olive looked like a shadow. The id stays 9, so class maps and
exports keep their meaning.
"""

CAMVID_CLASSES = ["sky", "building", "pole", "road", "pavement", "tree", "sign/symbol",
                  "fence", "car", "person", "bicyclist"]
PERSON_ID = 9
CAMVID_PALETTE = [(128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128), (60, 40, 222),
                  (128, 128, 0), (192, 128, 128), (64, 64, 128), (64, 0, 128), (220, 20, 60),
                  (0, 128, 192)]
IGNORE_ID = 11  # unlabelled pixels in CamVid's annotations
