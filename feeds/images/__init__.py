"""Images for the image proxy: which URLs go through it and how they are signed (signing),
and fetching one image from its origin (fetch). No web framework here.
"""
