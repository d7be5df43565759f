"""The sample record shared by the QSL, the SUTs and the backends."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Sample:
    """One CNN-DailyMail sample: its QSL index, prompt token ids (int32) and reference summary."""

    index: int
    token_ids: np.ndarray
    reference: str

    @property
    def prompt_length(self) -> int:
        return int(self.token_ids.shape[0])
