"""Signed scans filed by the QR code of their pages (no Qt): :mod:`reading` finds the
mark of every page of a scanned PDF or image, :mod:`filing` groups the pages by act,
attaches each act's pages to its funding line and marks the act signed."""

# What a scan can be (light: the window checks a dropped file before loading the readers).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp"})
SCAN_SUFFIXES = frozenset({".pdf", *IMAGE_SUFFIXES})
