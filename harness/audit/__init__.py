"""MLPerf compliance (audit) tests: each one's settings, where its run goes, its verification."""
