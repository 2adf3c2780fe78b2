"""Dynamical-systems analysis of continuous-time models and of recorded activity.

Every stepped model (CordsNet, back-ends, reference systems) is seen as a map ``F`` of its
flattened state under a fixed drive (:class:`StepMap`); from it come fixed points and their
stability, Jacobian spectra and Lyapunov exponents. Recurrent weights too large to expand are
:class:`Operator` s whose eigenvalues :func:`arnoldi_eigs` finds from applications only.
Activity (simulated or ``presentation x neuroid x time_bin`` recordings) gives trajectories,
dimensionality, time scales and cross-network comparisons. Results are pandas/xarray objects
that :func:`save_result` writes to NetCDF; :mod:`neurovision.analysis.plotting` draws them.
"""
from .attractors import AttractorReport, characterise_attractor
from .compare import cca, distance_matrix, embed, shape_distance
from .convergence import iterative_convergence
from .fixed_points import (
    FixedPointResult,
    NonConvergenceWarning,
    find_fixed_points,
    sample_visited_states,
)
from .linearise import area_jacobian, leading_eigenvalues
from .lyapunov import LyapunovResult, largest_lyapunov
from .maps import FunctionMap, StepMap, jacobian_operator, recurrent_operator
from .measures import autocorrelation, dominant_frequency, participation_ratio
from .operators import Operator
from .pca import StreamingPCA
from .plotting import plot_spectrum, plot_trajectories
from .regimes import characterise, regime_sweep
from .results import load_result, save_result
from .spectra import Spectrum, arnoldi_eigs, dense_eigvals, power_iteration
from .trajectories import (
    Trajectories,
    activity_trajectories,
    condition_average,
    linear_modes,
    model_trajectories,
    response_overshoot,
    switch_schedule,
)

__all__ = [
    "AttractorReport", "FixedPointResult", "FunctionMap", "LyapunovResult", "NonConvergenceWarning",
    "Operator", "Spectrum", "StepMap", "StreamingPCA", "Trajectories", "activity_trajectories",
    "area_jacobian", "iterative_convergence", "leading_eigenvalues", "plot_spectrum", "plot_trajectories",
    "arnoldi_eigs", "autocorrelation", "cca", "characterise", "characterise_attractor",
    "condition_average", "dense_eigvals", "distance_matrix", "dominant_frequency", "embed",
    "find_fixed_points", "jacobian_operator", "largest_lyapunov", "linear_modes", "load_result",
    "model_trajectories", "participation_ratio", "power_iteration", "recurrent_operator",
    "regime_sweep", "response_overshoot", "sample_visited_states", "save_result",
    "shape_distance", "switch_schedule",
]
