"""Accuracy scoring from LoadGen's accuracy log and the reference data only (no SUT imports)."""
