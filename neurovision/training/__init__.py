"""Losses, trainers, checkpoints and feature caches."""
