"""cogov's Hydra sweeper: launches a planned list of runs (an experiment's) with any launcher."""
