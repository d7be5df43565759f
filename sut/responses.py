"""The one place that hands results to LoadGen: int32 token ids with their count."""

from __future__ import annotations

from typing import Sequence

import mlperf_loadgen as lg
import numpy as np

from harness.rules import TOKEN_DTYPE


def _send(send, query_id: int, token_ids: Sequence[int]) -> None:
    arr = np.asarray(token_ids, dtype=TOKEN_DTYPE)  # alive until LoadGen has copied it
    send([lg.QuerySampleResponse(query_id, arr.ctypes.data, arr.nbytes, int(arr.size))])


def complete(query_id: int, token_ids: Sequence[int]) -> None:
    """QuerySamplesComplete for one sample: int32 ids and their count."""
    _send(lg.QuerySamplesComplete, query_id, token_ids)


def first_token(query_id: int, token_ids: Sequence[int]) -> None:
    """FirstTokenComplete for one sample (streaming scenarios)."""
    _send(lg.FirstTokenComplete, query_id, token_ids)
