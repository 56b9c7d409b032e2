"""``perplexity``: annotate documents with the perplexity of a KenLM n-gram model the user supplies.

CCNet (Wenzek et al. 2020, "CCNet: Extracting High Quality Monolingual Datasets from Web Crawl Data", Sec. 3.3)
scores each paragraph with a 5-gram KenLM model trained on Wikipedia and keeps the low-perplexity "head";
``perplexity`` writes the document perplexity into ``meta`` and ``select`` applies the cut ("tag, then select").

Perplexity = 10 ** (-sum(log10 P(line)) / number of scored tokens), summed over the document's non-empty lines,
each line scored as a sentence with begin/end markers (``</s>`` counted as a token, as KenLM's own perplexity
does). Unit: dimensionless (lower = more like the LM's training text). The ``kenlm`` Python module is imported
lazily; it is not on PyPI as a wheel for every platform, so it is an optional dependency (extra ``perplexity``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from mixkit.errors import MixkitError, require
from mixkit.pipeline.step import Annotator, ShardContext, StepParams
from mixkit.records import Document


class Perplexity(Annotator):
    """Write ``meta[field]`` = the KenLM perplexity of the document (see module docstring for the formula)."""

    name = "perplexity"

    class Params(StepParams):
        model: str = Field(description="path to a KenLM model (.arpa or .bin)")
        field: str = Field("perplexity", description="meta key written")
        lowercase: bool = Field(True, description="lower-case before scoring (match how the LM was trained)")
        max_chars: int = Field(100_000, gt=0, description="characters of each document scored")
        digits: int = 3

    def setup(self) -> None:
        kenlm = require("kenlm", "perplexity", "perplexity", "kenlm")
        if not Path(self.params.model).exists():
            raise MixkitError(
                f"perplexity: KenLM model {self.params.model} does not exist; give an .arpa or .bin path"
            )
        self._lm = kenlm.Model(self.params.model)

    def perplexity(self, text: str) -> float:
        text = text[: self.params.max_chars]
        if self.params.lowercase:
            text = text.lower()
        log10_sum, n_tokens = 0.0, 0
        for line in text.split("\n"):
            words = line.split()
            if not words:
                continue
            log10_sum += self._lm.score(" ".join(words), bos=True, eos=True)
            n_tokens += len(words) + 1
        if n_tokens == 0:
            return float("inf")
        return 10.0 ** (-log10_sum / n_tokens)

    def annotate(self, doc: Document, ctx: ShardContext) -> None:
        ppl = self.perplexity(doc.text)
        doc.meta[self.params.field] = round(ppl, self.params.digits) if ppl != float("inf") else None
