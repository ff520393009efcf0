"""The cleaning stage: a scraped body -> safe, cruft-free HTML and a plain-text summary.
Pure functions over lxml trees; no I/O.
"""
