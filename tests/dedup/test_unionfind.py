import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from mixkit.dedup.unionfind import UnionFind, component_sizes


def _reference(n, edges):
    comp = {i: {i} for i in range(n)}
    for a, b in edges:
        if comp[a] is not comp[b]:
            merged = comp[a] | comp[b]
            for x in merged:
                comp[x] = merged
    return np.array([min(comp[i]) for i in range(n)])


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60)
        )
    )
)
def test_roots_are_smallest_member(case):
    n, edges = case
    uf = UnionFind(n)
    for i in range(0, len(edges), 7):  # several batches
        chunk = edges[i : i + 7]
        uf.union(np.array([a for a, _ in chunk]), np.array([b for _, b in chunk]))
    assert uf.roots().tolist() == _reference(n, edges).tolist()


def test_component_sizes():
    uf = UnionFind(5)
    uf.union(np.array([0, 3]), np.array([1, 4]))
    assert component_sizes(uf.roots()).tolist() == [2, 2, 1, 2, 2]
