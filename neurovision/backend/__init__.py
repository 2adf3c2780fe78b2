"""Multi-area RNN back-ends and front-end to back-end models."""
