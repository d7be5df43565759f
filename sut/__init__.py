"""Systems under test: the Backend protocol, its engines and fakes, and the LoadGen SUT adapters."""
