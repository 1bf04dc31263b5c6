"""The benchmarks: scripts that measure the app and write benchmarks/results/ (see README.md).

A package so that the scripts run as modules from the repository folder
(``python -m benchmarks.quality.quality``) and import each other as ``benchmarks.…``.
"""
