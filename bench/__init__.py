"""Benchmarks run by `sambung bench` and their recorded results. Each prints one JSON object so
that runs compare as ratios within one machine and one run.
"""
