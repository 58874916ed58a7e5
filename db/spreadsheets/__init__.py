"""Spreadsheets: export of lists and reports, import of the agents' tracking sheets.

pandas is imported lazily: it costs a third of a second, never on the start-up path.
"""
