"""Union-find over array indices, vectorised: one int64 parent per node (8 bytes/node), no Python objects.

Edges are merged a batch at a time by min-label hooking with pointer jumping (Shiloach & Vishkin 1982,
"An O(log n) parallel connectivity algorithm"): every node ends up pointing at the smallest index of its
component. Callers order nodes by priority (index 0 = most preferred), so a component's root is the document to
keep.
"""

from __future__ import annotations

import numpy as np


class UnionFind:
    """Components of ``n`` nodes; ``root[i]`` is the smallest node index connected to ``i``."""

    def __init__(self, n: int) -> None:
        self.parent = np.arange(n, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.parent)

    def _compress(self) -> None:
        p = self.parent
        while True:
            pp = p[p]
            if np.array_equal(pp, p):
                return
            p[:] = pp

    def find(self, nodes: np.ndarray) -> np.ndarray:
        """Roots of ``nodes`` (vectorised path following)."""
        r = self.parent[nodes]
        while True:
            rr = self.parent[r]
            if np.array_equal(rr, r):
                return r
            r = rr

    def union(self, u: np.ndarray, v: np.ndarray) -> None:
        """Connect ``u[i]`` with ``v[i]`` for every i."""
        u = np.asarray(u, dtype=np.int64)
        v = np.asarray(v, dtype=np.int64)
        if len(u) == 0:
            return
        p = self.parent
        while True:
            ru, rv = self.find(u), self.find(v)
            diff = ru != rv
            if not diff.any():
                break
            ru, rv = ru[diff], rv[diff]
            lo, hi = np.minimum(ru, rv), np.maximum(ru, rv)
            # hook each larger root under the smallest root it meets; repeat until edges agree
            np.minimum.at(p, hi, lo)
            u, v = u[diff], v[diff]
        self._compress()

    def roots(self) -> np.ndarray:
        """Root of every node (fully compressed)."""
        self._compress()
        return self.parent.copy()


def component_sizes(roots: np.ndarray) -> np.ndarray:
    """Size of each node's component, per node."""
    counts = np.bincount(roots, minlength=len(roots))
    return counts[roots]
