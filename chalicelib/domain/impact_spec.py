"""What a policy impact replay is asked for, and the limits of the asking: read by the API's edge and the
queue's dispatch at every cold start, so kept apart from the replay itself (chalicelib.services.policy_impact),
which loads YAML and the replay engine only when a job is asked for or run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

JOB_KIND = "policy_impact"  # on the export queue, beside export jobs
MAX_PACKS = 20
# A job is one DynamoDB item (400 KB at most): the packs' YAML, then the report (its lists capped, see
# ``impact_report.MAX_LISTED``) must fit in it.
MAX_PACKS_BYTES = 128_000  # in UTF-8: a pack in Chinese takes three bytes a character
MAX_BODY_BYTES = 6 * MAX_PACKS_BYTES  # the request: its packs, JSON-escaped (\uXXXX is six bytes)


class Mode(StrEnum):
    """Which history each set's decisions are judged against (decision 0039)."""

    RECORDED = "recorded"  # as it happened
    COUNTERFACTUAL = "counterfactual"  # as the proposed set would have made it


@dataclass(frozen=True)
class ImpactSpec:
    start: datetime
    end: datetime
    packs: Mapping[str, str]  # pack id -> its YAML
    mode: Mode = Mode.RECORDED
