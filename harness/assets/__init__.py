"""Models and data the harness builds itself: the embedded demo and the dummy-weight 8B."""
