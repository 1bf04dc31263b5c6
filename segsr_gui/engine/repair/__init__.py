"""Damage repair at the photo's own size, before the experts enlarge it.

``detector.DamageDetector`` finds scratches, cracks, specks, creases and torn paper (and
``lines.straight_scratches`` the long straight scratches along the print's sides on its map);
``fill.FillNet`` fills what the mask marks with a few-step residual-shifting diffusion and
leaves every other pixel bit-identical. ``repair.RepairModel`` holds both, loads them from
one safetensors file (keys ``detector.*`` and ``fill.*``) and runs them (``repair``).
"""
