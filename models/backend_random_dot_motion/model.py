"""Factory of the trained random-dot back-end (nothing is built at import)."""
from pathlib import Path

RUN = Path(__file__).resolve().parent / "weights"


def build():
    """The trained front-end + back-end model of the run in ``RUN``."""
    from neurovision.backend.experiment import load_run
    from neurovision.reliability.weights import verify_weights

    verify_weights(RUN / "model.pt")
    return load_run(RUN)[2]
