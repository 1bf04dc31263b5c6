"""People: the person class against reference masks, and CamVid with and without the person prior."""
