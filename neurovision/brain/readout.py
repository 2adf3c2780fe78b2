"""Behavioural read-out of model features: brainscore's probabilities classifier, defined here.

Features are standardised (mean 0, variance 1 per feature, from the fitting set) and a
multinomial logistic regression with L2 penalty ``C`` (brainscore's default 1e-3) maps them to
class probabilities. Labels keep their first-seen order as the ``choice`` axis.
"""
from __future__ import annotations

import numpy as np

from ..errors import DataError


class LogisticReadout:
    """Fit on features (N, F) and labels (N,); ``predict_proba`` gives (M, n_labels)."""

    def __init__(self, c: float = 1e-3):
        self.c = float(c)
        self.labels: list = []

    def fit(self, features, labels) -> "LogisticReadout":
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        features, labels = np.asarray(features, dtype=np.float64), np.asarray(labels)
        if len(features) != len(labels):
            raise DataError(f"{len(features)} feature rows for {len(labels)} labels")
        self.labels = list(dict.fromkeys(labels.tolist()))
        if len(self.labels) < 2:
            raise DataError(f"a read-out needs at least 2 distinct labels, got {self.labels}")
        index = {label: i for i, label in enumerate(self.labels)}
        self._scaler = StandardScaler().fit(features)
        self._classifier = LogisticRegression(solver="newton-cg", C=self.c, max_iter=1000)
        self._classifier.fit(self._scaler.transform(features), [index[label] for label in labels.tolist()])
        return self

    def predict_proba(self, features) -> np.ndarray:
        if not self.labels:
            raise DataError("the read-out is not fitted; call fit(features, labels) first")
        return self._classifier.predict_proba(self._scaler.transform(np.asarray(features, dtype=np.float64)))
