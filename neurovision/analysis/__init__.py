"""Fixed points, spectra, convergence indices, trajectories, representational comparison."""
