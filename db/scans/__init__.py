"""Signed scans filed by the QR code of their pages (no Qt): :mod:`reading` finds the
mark of every page of a scanned PDF or image, :mod:`filing` groups the pages by act,
attaches each act's pages to its funding line and marks the act signed."""
