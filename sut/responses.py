"""The one place that hands results to LoadGen: int32 token ids with their count."""

from __future__ import annotations

from typing import Sequence

import mlperf_loadgen as lg
import numpy as np

from harness.rules import TOKEN_DTYPE


def complete(query_id: int, token_ids: Sequence[int]) -> None:
    """QuerySamplesComplete for one sample; the array lives until LoadGen has copied it."""
    arr = np.asarray(token_ids, dtype=TOKEN_DTYPE)
    response = lg.QuerySampleResponse(query_id, arr.ctypes.data, arr.nbytes, int(arr.size))
    lg.QuerySamplesComplete([response])


def first_token(query_id: int, token_ids: Sequence[int]) -> None:
    """FirstTokenComplete for one sample (streaming scenarios)."""
    arr = np.asarray(token_ids, dtype=TOKEN_DTYPE)
    response = lg.QuerySampleResponse(query_id, arr.ctypes.data, arr.nbytes, int(arr.size))
    lg.FirstTokenComplete([response])
