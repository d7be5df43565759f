"""The MLPerf submission tree: packaging finished runs, the system description, the checks."""
