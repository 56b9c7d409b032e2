"""MinHash-LSH near-duplicate detection, numpy-vectorised, with state on disk.

Signatures: one-permutation hashing (Li, Owen & Zhang 2012, "One Permutation Hashing", NeurIPS) with optimal
densification (Shrivastava 2017, "Optimal Densification for Fast and Accurate Minwise Hashing", ICML): every
shingle hash is hashed once, its top bits pick one of ``num_perm`` bins and its low 32 bits are the value; a bin
keeps its minimum. Two documents agree on a bin with probability equal to their Jaccard similarity, as with
``num_perm`` independent permutations (Broder 1997), at O(shingles) instead of O(shingles x permutations) cost.
Empty bins borrow the value of a bin chosen by a fixed hash sequence (same for every document).

LSH: the signature is cut into ``bands`` x ``rows``; two documents become candidates when any band matches, with
probability P(J) = 1 - (1 - J^rows)^bands (Leskovec, Rajaraman & Ullman, "Mining of Massive Datasets", ch. 3.4).
Candidates are found by sorting (band key, priority position) arrays and reading runs, never a dict of lists.
Optional exact Jaccard verification compares the shingle sets of each candidate with its bucket's anchor.
Union-find (``unionfind``) groups verified candidates; each cluster keeps its most preferred document.

Memory (unit: bytes per document of the channel): 8 per band of band keys on disk (``dedup_state``), and in RAM
about 60 while bucketing one band (key, sort order, union-find parent, priority arrays, id hash). With
verification, shingles of every document are spilled to disk (8 bytes per shingle).
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import shutil
import time
from collections import Counter, OrderedDict
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from pydantic import Field, model_validator

from mixkit.dedup.base import (
    GlobalPass,
    PassContext,
    PassParams,
    apply_decisions,
    building_index,
    file_rows,
    index_folder,
    priority_order,
    update_meta,
)
from mixkit.dedup.shingles import U64, ShingleSpec, _class_table, _tables, iter_ngrams, splitmix64
from mixkit.dedup.unionfind import UnionFind
from mixkit.pipeline.step import StepStats
from mixkit.utils import loads, write_json

log = logging.getLogger("mixkit.dedup.minhash")

EMPTY = np.uint32(0xFFFFFFFF)
_ROW_MULT = splitmix64(np.arange(1, 257, dtype=np.uint64))  # per-row multipliers of a band key
_ROW_MULT |= U64(1)
_tables()  # build the code point tables at import: a preloading forkserver hands them to every worker
_class_table()


# ---------------------------------------------------------------------------------------------------------------
# signatures


def signatures(
    texts: list[str], spec: ShingleSpec, num_perm: int, seed: int = 0, keep_shingles: bool = False
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """MinHash signatures (uint32, shape [len(texts), num_perm]) by densified one-permutation hashing.

    A document without any shingle gets an all-EMPTY signature (callers exclude it from LSH). With
    ``keep_shingles`` also returns each document's shingle hashes (unsorted, may repeat).
    """
    n = len(texts)
    sig = np.full(n * num_perm, EMPTY, dtype=np.uint32)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    for ch in iter_ngrams(texts, spec):
        oph_update(sig, ch.hashes, ch.doc, num_perm, seed)
        if keep_shingles:
            parts.append((ch.doc, ch.hashes))
    sig = sig.reshape(n, num_perm)
    _densify(sig, seed)
    shingle_lists = None
    if keep_shingles:
        docs = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        hs = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.uint64)
        off = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(docs, minlength=n), out=off[1:])
        shingle_lists = [hs[off[i] : off[i + 1]] for i in range(n)]  # chunks come in document order
    return sig, shingle_lists


def oph_update(sig: np.ndarray, hashes: np.ndarray, doc: np.ndarray, num_perm: int, seed: int = 0) -> None:
    """Fold shingle hashes of documents ``doc`` into flat signatures ``sig`` (len n_docs * num_perm, uint32):
    the top 32 bits of a re-seeded hash pick the bin (Lemire's multiply-shift range reduction), the low 32 bits
    are the value, each bin keeps its minimum."""
    seed_mix = splitmix64(np.array([seed], dtype=np.uint64))[0]
    h = splitmix64(hashes ^ seed_mix)
    with np.errstate(over="ignore"):
        b = ((h >> U64(32)) * U64(num_perm)) >> U64(32)
    np.minimum.at(sig, doc * num_perm + b.astype(np.int64), (h & U64(0xFFFFFFFF)).astype(np.uint32))


def signatures_from_shingles(
    hashes: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int = 0
) -> np.ndarray:
    """Signatures of pre-shingled documents (shingle hashes of document d at ``hashes[offsets[d]:offsets[d+1]]``)."""
    n = len(offsets) - 1
    sig = np.full(n * num_perm, EMPTY, dtype=np.uint32)
    doc = np.repeat(np.arange(n), np.diff(offsets))
    oph_update(sig, hashes, doc, num_perm, seed)
    sig = sig.reshape(n, num_perm)
    _densify(sig, seed)
    return sig


def _densify(sig: np.ndarray, seed: int) -> None:
    """Fill empty bins in place: bin j of a document tries bins c(j, 1), c(j, 2) ... (a hash sequence shared by
    all documents) and copies the first non-empty one (Shrivastava 2017, Algorithm 1)."""
    _, k = sig.shape
    orig = sig.copy()
    has_any = (orig != EMPTY).any(axis=1)
    d, j = np.nonzero((orig == EMPTY) & has_any[:, None])
    attempt = 0
    while len(d):
        attempt += 1
        with np.errstate(over="ignore"):
            key = (
                j.astype(np.uint64) * U64(0x100000001B3) + U64(attempt) * U64(0x9E3779B97F4A7C15) + U64(seed)
            )
            c = (splitmix64(key) % U64(k)).astype(np.int64)
        val = orig[d, c]
        ok = val != EMPTY
        sig[d[ok], j[ok]] = val[ok]
        d, j = d[~ok], j[~ok]


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """One uint64 key per (document, band): a hash of the band's ``rows`` signature values. 0 means 'no key'
    (document without shingles)."""
    n = sig.shape[0]
    s = sig[:, : bands * rows].reshape(n, bands, rows).astype(np.uint64)
    with np.errstate(over="ignore"):
        acc = (s * _ROW_MULT[:rows]).sum(axis=2, dtype=np.uint64)
        acc += np.arange(bands, dtype=np.uint64) * U64(0xC2B2AE3D27D4EB4F)
    keys = splitmix64(acc) | U64(1)
    keys[(sig == EMPTY).all(axis=1)] = 0
    return keys


# ---------------------------------------------------------------------------------------------------------------
# choosing bands x rows


def detect_probability(j: float | np.ndarray, bands: int, rows: int) -> float | np.ndarray:
    """P(candidate) = 1 - (1 - J^rows)^bands for Jaccard J (MMDS ch. 3.4.2)."""
    return 1.0 - (1.0 - np.asarray(j, dtype=float) ** rows) ** bands


def choose_bands(
    threshold: float,
    num_perm: int,
    *,
    verify: bool,
    min_detect: float = 0.995,
    fp_weight: float = 0.5,
    fn_weight: float = 0.5,
) -> tuple[int, int]:
    """Pick bands x rows (bands * rows <= num_perm).

    Without verification: minimise fp_weight * (area under P below the threshold) + fn_weight * (area above P
    over it), the criterion of datasketch's ``MinHashLSH`` (Zhu et al.). With verification false positives only
    cost a Jaccard check, so: the smallest false-positive area among the choices with
    P(threshold) >= ``min_detect``.
    """
    s = np.linspace(0.0, 1.0, 1001)
    below, above = s < threshold, s >= threshold
    best: tuple[float, int, int] | None = None
    fallback: tuple[float, int, int] | None = None
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = detect_probability(s, b, r)
            fp = float(np.trapezoid(np.where(below, p, 0.0), s))
            fn = float(np.trapezoid(np.where(above, 1.0 - p, 0.0), s))
            if verify:
                cand = (fp, b, r)
                if detect_probability(threshold, b, r) >= min_detect and (best is None or cand < best):
                    best = cand
                miss = (-float(detect_probability(threshold, b, r)), b, r)
                if fallback is None or miss < fallback:
                    fallback = miss
            else:
                cand = (fp_weight * fp + fn_weight * fn, b, r)
                if best is None or cand < best:
                    best = cand
    chosen = best or fallback
    assert chosen is not None
    return chosen[1], chosen[2]


def s_curve(
    bands: int, rows: int, points: tuple[float, ...] = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
) -> dict:
    """P(detect) at a few Jaccard similarities, for logs and stats."""
    return {f"{j:.2f}": round(float(detect_probability(j, bands, rows)), 4) for j in points}


# ---------------------------------------------------------------------------------------------------------------
# shingle store (for exact verification)


class ShingleStore:
    """Shingles of many documents spilled to disk by signature tasks: files ``<start>.sh.npy`` (hashes) and
    ``<start>.off.npy`` (offsets), where ``start`` is the first document index of the task."""

    def __init__(self, folder: Path, cache: int = 1024) -> None:  # cache: shingle sets of 1024 documents
        self.folder = folder
        self.starts = np.array(
            sorted(int(p.name.split(".")[0]) for p in folder.glob("*.off.npy")), dtype=np.int64
        )
        self._maps: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._sets: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache = cache

    @staticmethod
    def write(folder: Path, start: int, shingles: list[np.ndarray]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        off = np.zeros(len(shingles) + 1, dtype=np.int64)
        np.cumsum([len(s) for s in shingles], out=off[1:])
        hs = np.concatenate(shingles) if shingles else np.zeros(0, np.uint64)
        np.save(folder / f"{start:012d}.sh.npy", hs)
        np.save(folder / f"{start:012d}.off.npy", off)

    def get(self, doc: int) -> np.ndarray:
        """Sorted unique shingle hashes of document ``doc`` (LRU-cached)."""
        if doc in self._sets:
            self._sets.move_to_end(doc)
            return self._sets[doc]
        t = int(self.starts[np.searchsorted(self.starts, doc, side="right") - 1])
        if t not in self._maps:
            self._maps[t] = (
                np.load(self.folder / f"{t:012d}.sh.npy", mmap_mode="r"),
                np.load(self.folder / f"{t:012d}.off.npy"),
            )
        hs, off = self._maps[t]
        s = np.unique(np.asarray(hs[off[doc - t] : off[doc - t + 1]]))
        self._sets[doc] = s
        if len(self._sets) > self._cache:
            self._sets.popitem(last=False)
        return s


def exact_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


# ---------------------------------------------------------------------------------------------------------------
# the pass


class MinHashParams(PassParams):
    """Parameters of the ``minhash`` dedup step."""

    threshold: float = Field(default=0.8, gt=0.0, le=1.0, description="Jaccard similarity of shingle sets")
    num_perm: int = Field(default=128, ge=8, le=1024, description="signature length (one-permutation bins)")
    bands: int | None = Field(default=None, ge=1, description="force the number of LSH bands")
    rows: int | None = Field(default=None, ge=1, description="force the rows per band")
    verify: bool = Field(default=True, description="check candidates by exact Jaccard of their shingle sets")
    min_detect: float = Field(
        default=0.995,
        gt=0.0,
        lt=1.0,
        description="with verify: P(candidate) at the threshold the bands must reach",
    )
    fp_weight: float = Field(default=0.5, ge=0.0, description="without verify: weight of false positives")
    fn_weight: float = Field(default=0.5, ge=0.0, description="without verify: weight of false negatives")
    shingle: Literal["auto", "words", "chars"] = "auto"
    ngram_words: int = Field(default=5, ge=1, le=16, description="words per shingle (space-separated text)")
    ngram_chars: int = Field(default=5, ge=1, le=16, description="characters per shingle (CJK text)")
    cjk_ratio: float = Field(default=0.3, ge=0.0, le=1.0, description="CJK share of letters for chars mode")
    priority: list[str] = Field(
        default_factory=list, description="sources to keep first, most preferred first"
    )
    seed: int = Field(default=1, description="hash seed (an index is only valid for the same seed)")

    @model_validator(mode="after")
    def _bands_rows(self) -> MinHashParams:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("set both bands and rows, or neither (then they follow from threshold)")
        if self.bands is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self

    def spec(self) -> ShingleSpec:
        return ShingleSpec(self.shingle, self.ngram_words, self.ngram_chars, self.cjk_ratio)

    def index_config(self) -> dict:
        """The parameters an index is tied to (written to its config.json; a run reading the index must match)."""
        bands, rows = self.lsh()
        return {
            "bands": bands,
            "rows": rows,
            "num_perm": self.num_perm,
            "seed": self.seed,
            "spec": list(self.spec().__dict__.values()),
            "verify": self.verify,
        }

    def lsh(self) -> tuple[int, int]:
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        return choose_bands(
            self.threshold,
            self.num_perm,
            verify=self.verify,
            min_detect=self.min_detect,
            fp_weight=self.fp_weight,
            fn_weight=self.fn_weight,
        )


def _signature_task(args: tuple) -> tuple[int, np.ndarray, np.ndarray]:
    """Worker: read one row group, return (first doc index, band keys [n, bands], xxh64 of ids)."""
    path, rg, start, params, bands, rows, store = args
    t = pq.ParquetFile(path).read_row_group(rg, columns=["id", "text"])
    texts = [x or "" for x in t.column("text").to_pylist()]
    ids = t.column("id").to_pylist()
    sig, sh = signatures(texts, params.spec(), params.num_perm, params.seed, keep_shingles=store is not None)
    if store is not None:
        ShingleStore.write(Path(store), start, sh)
    idh = np.fromiter(
        (xxhash.xxh64_intdigest((i or "").encode()) for i in ids), dtype=np.uint64, count=len(ids)
    )
    return start, band_keys(sig, bands, rows), idh


def _tasks(files: list[Path]) -> list[tuple[Path, int, int]]:
    out, start = [], 0
    for f in files:
        md = pq.ParquetFile(f).metadata
        for rg in range(md.num_row_groups):
            out.append((f, rg, start))
            start += md.row_group(rg).num_rows
    return out


_POOL: tuple[int, object] | None = None
MIN_BYTES_PER_WORKER = (
    16_000_000  # below this much text per worker, process start-up costs more than it saves
)


def close_pool() -> None:
    """Stop the worker pool kept between channels (``run_dedup`` calls this at the end)."""
    global _POOL
    if _POOL is not None:
        _POOL[1].terminate()  # type: ignore[attr-defined]
        _POOL[1].join()  # type: ignore[attr-defined]
        _POOL = None


def _pool(workers: int):
    """A forkserver pool whose server preloads this module (numpy, pyarrow and the code point tables), so
    starting a worker costs a fork, not an interpreter start; kept for the next channel."""
    global _POOL
    if _POOL is not None and _POOL[0] == workers:
        return _POOL[1]
    close_pool()
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["mixkit.dedup.minhash"])
    _POOL = (workers, ctx.Pool(workers))
    return _POOL[1]


def pool_map(fn, tasks: list, workers: int):
    """Ordered map over tasks with a process pool (workers > 1) or inline; results come back in task order,
    so the output never depends on the worker count."""
    if workers <= 1 or len(tasks) <= 1:
        yield from map(fn, tasks)
        return
    yield from _pool(workers).imap(fn, tasks, chunksize=1)


class MinHashIndexPart:
    """One persisted minhash index part: per band sorted unique keys and the anchor (most preferred document)
    of each key, plus the shingle store of its documents when verification was on."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.config = loads((folder / "config.json").read_bytes())
        self.keys = [
            np.load(folder / f"band{b:03d}.keys.npy", mmap_mode="r") for b in range(self.config["bands"])
        ]
        self.anchors = [
            np.load(folder / f"band{b:03d}.anchor.npy", mmap_mode="r") for b in range(self.config["bands"])
        ]
        self.store = ShingleStore(folder / "shingles") if (folder / "shingles").exists() else None

    def lookup(self, band: int, keys: np.ndarray) -> np.ndarray:
        """Anchor document (index-local) of each key, or -1 where the index has no such key."""
        ks = self.keys[band]
        if len(ks) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(ks, keys), len(ks) - 1)
        hit = np.asarray(ks[pos]) == keys
        return np.where(hit, np.asarray(self.anchors[band][pos]), -1).astype(np.int64)


def _index_parts(index_dir: Path | None, channel: str) -> list[Path]:
    if index_dir is None:
        return []
    base = index_folder(index_dir, "minhash", channel)
    return sorted(p for p in base.glob("part-*") if (p / "config.json").exists()) if base is not None else []


class MinHash(GlobalPass):
    """Drop near-duplicates (Jaccard >= threshold of shingle sets), keep one per cluster by priority, and write
    ``meta.dup_cluster`` (id hash of the kept document) and ``meta.dup_cluster_size`` on clustered documents."""

    name = "minhash"
    Params = MinHashParams

    def run_pass(self, files_in: list[Path], files_out: list[Path], ctx: PassContext) -> StepStats:
        p: MinHashParams = self.params  # type: ignore[assignment]
        stats = StepStats()
        t0 = time.perf_counter()
        bands, rows = p.lsh()
        curve = s_curve(bands, rows)
        log.info(
            "minhash %s: %d bands x %d rows of %d bins, threshold %.2f, P(detect) at Jaccard %s",
            ctx.channel,
            bands,
            rows,
            p.num_perm,
            p.threshold,
            ", ".join(f"{j}: {v}" for j, v in curve.items()),
        )
        state = ctx.state
        if state.exists():
            shutil.rmtree(state)
        state.mkdir(parents=True)
        n = int(file_rows(files_in).sum())
        index_in: Path | None = ctx.extra.get("index_in")
        index_out: Path | None = ctx.extra.get("index_out")
        parts = [MinHashIndexPart(d) for d in _index_parts(index_in, ctx.channel)]
        for part in parts:
            c = part.config
            mine = p.index_config()
            theirs = {k: c.get(k) for k in mine}
            if theirs != mine:
                from mixkit.dedup.base import DedupError

                raise DedupError(
                    f"minhash index {part.folder} was built with {theirs}, this run uses {mine}; "
                    "use the same minhash parameters as the run that wrote the index, or rebuild it"
                )
        # 1. signatures -> band keys on disk (band-major), id hashes in RAM
        store = state / "shingles" if p.verify else None
        keys = np.lib.format.open_memmap(
            state / "keys.npy", mode="w+", dtype=np.uint64, shape=(bands, max(n, 1))
        )
        idh = np.zeros(n, dtype=np.uint64)
        tasks = [(f, rg, s, p, bands, rows, str(store) if store else None) for f, rg, s in _tasks(files_in)]
        text_bytes = sum(f.stat().st_size for f in files_in) * 3  # Parquet+zstd holds text at ~1/3 (estimate)
        workers = max(1, min(ctx.workers, text_bytes // MIN_BYTES_PER_WORKER))
        stats.counters["_workers"] = workers  # "_": execution detail, kept out of the ledger
        for start, k, ih in pool_map(_signature_task, tasks, workers):
            keys[:, start : start + len(k)] = k.T
            idh[start : start + len(ih)] = ih
        keys.flush()
        t_sig = time.perf_counter() - t0
        # 2. LSH buckets per band -> candidate edges -> (verify) -> union-find over priority positions
        doc_of_pos, pos_of_doc = priority_order(files_in, p.priority)
        virtual = 1 if parts else 0  # node 0 stands for "already in the index" (always most preferred)
        uf = UnionFind(n + virtual)
        shingles = ShingleStore(store) if store else None
        n_cand = n_checked = n_rejected = 0
        for b in range(bands):
            kp = np.asarray(keys[b, :n])[doc_of_pos]  # keys in priority order
            order = np.argsort(kp, kind="stable")
            ks = kp[order]
            valid = ks != 0
            new_run = np.ones(n, dtype=bool)
            new_run[1:] = ks[1:] != ks[:-1]
            run_id = np.cumsum(new_run) - 1
            run_first = np.flatnonzero(new_run)
            anchor_pos = order[run_first][run_id]  # most preferred position of each element's run
            u_list: list[np.ndarray] = []
            v_list: list[np.ndarray] = []
            idx_anchor_list: list[np.ndarray] = []
            in_index = np.zeros(n, dtype=bool)
            if parts:
                for part in parts:
                    run_keys = ks[run_first]
                    anc = part.lookup(b, run_keys)[run_id]
                    hit = (anc >= 0) & valid & ~in_index
                    if hit.any():
                        u_list.append(np.zeros(int(hit.sum()), dtype=np.int64))
                        v_list.append(order[hit] + virtual)
                        idx_anchor_list.append(
                            np.stack([np.full(int(hit.sum()), parts.index(part)), anc[hit]], 1)
                        )
                    in_index |= anc >= 0
            member = valid & ~new_run & ~in_index
            u_list.append(anchor_pos[member] + virtual)
            v_list.append(order[member] + virtual)
            idx_anchor_list.append(np.full((int(member.sum()), 2), -1, dtype=np.int64))
            u = np.concatenate(u_list)
            v = np.concatenate(v_list)
            ia = np.concatenate(idx_anchor_list)
            if len(u) == 0:
                continue
            n_cand += len(u)
            need = uf.find(u) != uf.find(v)
            u, v, ia = u[need], v[need], ia[need]
            if p.verify and len(u):
                ok = np.zeros(len(u), dtype=bool)
                for e in range(len(u)):
                    vd = int(doc_of_pos[v[e] - virtual])
                    if ia[e, 0] >= 0:
                        part = parts[int(ia[e, 0])]
                        if part.store is None:
                            ok[e] = True
                            continue
                        a_set = part.store.get(int(ia[e, 1]))
                    else:
                        a_set = shingles.get(int(doc_of_pos[u[e] - virtual]))
                    ok[e] = exact_jaccard(a_set, shingles.get(vd)) >= p.threshold
                n_checked += len(u)
                n_rejected += int((~ok).sum())
                u, v = u[ok], v[ok]
            uf.union(u, v)
        roots = uf.roots()
        sizes = np.bincount(roots, minlength=n + virtual)
        # per document (input order): root position, cluster size, keep flag
        node_of_doc = pos_of_doc + virtual
        root_of_doc = roots[node_of_doc]
        size_of_doc = sizes[root_of_doc]
        keep_doc = root_of_doc == node_of_doc
        root_idh = np.where(root_of_doc >= virtual, idh[doc_of_pos[np.maximum(root_of_doc - virtual, 0)]], 0)
        cluster_sizes = Counter(
            int(s) for s in sizes[np.flatnonzero(roots == np.arange(n + virtual))[virtual:]]
        )
        if virtual and sizes[0] > 1:
            stats.counters["clusters_matching_index"] = 1
        stats.counters.update(
            {
                "candidate_pairs": n_cand,
                "verified_pairs": n_checked,
                "rejected_pairs": n_rejected,
                "clusters": int(sum(c for s, c in cluster_sizes.items() if s > 1)),
            }
        )
        ctx.extra["cluster_sizes"] = {str(s): c for s, c in sorted(cluster_sizes.items())}
        ctx.extra["lsh"] = {"bands": bands, "rows": rows, "num_perm": p.num_perm, "p_detect": curve}

        def decide(t: pa.Table, start: int):
            sl = slice(start, start + t.num_rows)
            keep = keep_doc[sl]
            clustered = np.flatnonzero(size_of_doc[sl] > 1)
            reasons = [
                None if k else ("near_duplicate_of_index" if r == 0 and virtual else "near_duplicate")
                for k, r in zip(keep, root_of_doc[sl], strict=True)
            ]
            if len(clustered):
                rid, rsz, rr = root_idh[sl], size_of_doc[sl], root_of_doc[sl]

                def upd(i: int) -> dict:
                    cid = "index" if (virtual and rr[i] == 0) else f"{int(rid[i]):016x}"
                    return {
                        "dup_cluster": cid,
                        "dup_cluster_size": int(rsz[i]) - (1 if virtual and rr[i] == 0 else 0),
                    }

                metas = update_meta(t.column("meta").to_pylist(), clustered, upd)
                t = t.set_column(t.schema.get_field_index("meta"), "meta", pa.array(metas, pa.string()))
            return keep, reasons, t

        apply_decisions(files_in, files_out, self.name, ctx, decide, stats)
        if index_out is not None:
            self._write_index(index_out, ctx, keys, n, doc_of_pos, bands, rows, store, parts)
        stats.counters["signature_seconds_x1000"] = int(t_sig * 1000)
        stats.seconds = time.perf_counter() - t0
        del keys, shingles
        shutil.rmtree(
            state, ignore_errors=True
        )  # band keys and shingles are not needed once the pass is done
        return stats

    def _write_index(
        self,
        index_out: Path,
        ctx: PassContext,
        keys: np.ndarray,
        n: int,
        doc_of_pos: np.ndarray,
        bands: int,
        rows: int,
        store: Path | None,
        parts: list[MinHashIndexPart],
    ) -> None:
        p: MinHashParams = self.params  # type: ignore[assignment]
        with building_index(index_out, self.name, ctx.channel) as base:
            for i, part in enumerate(parts):  # earlier releases stay first (they win)
                shutil.copytree(part.folder, base / f"part-{i:04d}")
            dest = base / f"part-{len(parts):04d}"
            dest.mkdir()
            for b in range(bands):
                kp = np.asarray(keys[b, :n])[doc_of_pos]
                order = np.argsort(kp, kind="stable")
                ks = kp[order]
                first = np.ones(n, dtype=bool)
                first[1:] = ks[1:] != ks[:-1]
                first &= ks != 0
                np.save(dest / f"band{b:03d}.keys.npy", ks[first])
                np.save(dest / f"band{b:03d}.anchor.npy", doc_of_pos[order[first]].astype(np.int64))
            if store is not None:
                shutil.copytree(store, dest / "shingles")
            write_json(
                dest / "config.json",
                {**p.index_config(), "docs": n},
            )
