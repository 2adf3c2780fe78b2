"""Caching of derived convolution weights (SRF filters, time responses) between evaluations.

Filters built from ``alpha`` and ``sigma`` do not change while an ODE block is solved, so they
are built once and reused at every function evaluation. Without autograd, a cached weight is
reused until a parameter changes (tracked by the parameters' in-place version counters). With
autograd, a weight carries a graph, so it is reused only inside one :func:`filter_scope`
(one forward pass); the scope drops it on exit so no graph outlives the pass.
"""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator

import torch
from torch import nn

_SCOPE: contextvars.ContextVar[list | None] = contextvars.ContextVar("dcn_filter_scope", default=None)


@contextlib.contextmanager
def filter_scope() -> Iterator[None]:
    """Reuse weights with autograd graphs within this block; nested scopes join the outer one."""
    if _SCOPE.get() is not None:
        yield
        return
    holders: list[CachedWeights] = []
    token = _SCOPE.set(holders)
    try:
        yield
    finally:
        _SCOPE.reset(token)
        for holder in holders:
            holder.clear_cache()


class CachedWeights(nn.Module):
    """Mixin for modules whose derived weights are cached by :meth:`cached`."""

    def __init__(self):
        super().__init__()
        self._weights: dict[str, tuple[tuple, object]] = {}

    def clear_cache(self) -> None:
        self._weights.clear()

    def _key(self, extra: tuple) -> tuple | None:
        versions = tuple(p._version for p in self.parameters())
        if not torch.is_grad_enabled():
            return (versions, False, extra)
        scope = _SCOPE.get()
        if scope is None:
            return None
        if self not in scope:
            scope.append(self)
        return (versions, True, id(scope), extra)

    def cached(self, name: str, extra: tuple, build: Callable[[], object]):
        """``build()`` once per key (parameter versions, grad mode, scope, ``extra``)."""
        key = self._key(extra)
        hit = self._weights.get(name)
        if key is not None and hit is not None and hit[0] == key:
            return hit[1]
        value = build()
        if key is not None:
            self._weights[name] = (key, value)
        return value
