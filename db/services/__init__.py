"""Use cases that write: one transaction each, checked by the rules, audited.

The GUI, the command line and the tests all go through these functions.
"""
