"""Query sample library: sample records, dataset loading and validation, the LoadGen QSL."""
