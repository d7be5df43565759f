"""One LoadGen test end to end: user.conf and settings, the engine session, the run folder
and its status, stopping on signals, and the process supervisor."""
