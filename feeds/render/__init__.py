"""The rendering stage: entries -> Atom, RSS and JSON Feed bytes, and the HTML pages around
them. Pure and deterministic: the same values give the same bytes.
"""
