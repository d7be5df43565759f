"""What a run produced, read and shown: LoadGen's summary as a typed record, the live
progress line, scoring of accuracy runs and the console report."""
