"""Fault injection per function, modelled on AWS FIS's Lambda actions, for chaos and soak runs on loopback.

- `error` (FIS `aws:lambda:invocation-error`): the invocation fails with `FaultInjection.InvocationError`.
  `prevent_execution: true` → the function never sees the event; `false` → it runs and its result is replaced,
  so the work is done but the caller sees a failure (the retry path every idempotent consumer must survive);
- `delay` (FIS `aws:lambda:invocation-add-delay`): `delay_ms` before the function gets the event;
- `crash` (what an OOM kill does): the environment is SIGKILLed at a random point up to `within_ms` after the
  function got the event (at the latest when it answers, so a drawn crash always fails the invocation): partial
  work, `Runtime.ExitError`, a fresh environment next time.

Each fault hits `percentage` % of invocations, drawn from a seeded RNG (the same seed and invocation order give the
same faults). `max_attempt` limits a fault to early delivery attempts (SQS: the batch's highest
ApproximateReceiveCount), so a soak can inject failures without pushing healthy messages into the DLQ.
Set through the control API: `PUT /_localcloud/faults/{function}` with `{"seed": 1, "faults": [...]}`,
`DELETE` to clear, `GET /_localcloud/faults` for what is installed and how many were injected (`./inv fault`).
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

ACTIONS = ("error", "delay", "crash")
ERROR_TYPE = "FaultInjection.InvocationError"
MAX_DELAY_MS = 900_000  # a Lambda function's longest Timeout


class FaultError(ValueError):
    """A fault specification the local cloud cannot apply (the control API answers 400 with this text)."""


@dataclass(frozen=True)
class FaultSpec:
    action: str
    percentage: float
    prevent_execution: bool = False
    delay_ms: int = 0
    within_ms: int = 0
    max_attempt: int | None = None

    @classmethod
    def parse(cls, data: Any) -> FaultSpec:
        if not isinstance(data, dict):
            raise FaultError(f"a fault is a JSON object, not {type(data).__name__}")
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise FaultError(f"unknown fault field(s) {sorted(unknown)}; known: {sorted(cls.__dataclass_fields__)}")
        action = data.get("action")
        if action not in ACTIONS:
            raise FaultError(f"action must be one of {list(ACTIONS)}, not {action!r}")
        percentage = data.get("percentage")
        if isinstance(percentage, bool) or not isinstance(percentage, int | float) or not 0 <= percentage <= 100:
            raise FaultError(f"percentage must be a number from 0 to 100, not {percentage!r}")
        prevent = data.get("prevent_execution", False)
        if not isinstance(prevent, bool):
            raise FaultError(f"prevent_execution must be true or false, not {prevent!r}")
        delay_ms, within_ms = _millis(data, "delay_ms"), _millis(data, "within_ms")
        if action == "delay" and delay_ms == 0:
            raise FaultError("a delay fault needs delay_ms > 0")
        attempt = data.get("max_attempt")
        if attempt is not None and (isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1):
            raise FaultError(f"max_attempt must be an integer >= 1 (or absent), not {attempt!r}")
        return cls(action, float(percentage), prevent, delay_ms, within_ms, attempt)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _millis(data: dict[str, Any], name: str) -> int:
    value = data.get(name, 0)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_DELAY_MS:
        raise FaultError(f"{name} must be an integer from 0 to {MAX_DELAY_MS}, not {value!r}")
    return value


class FunctionFaults:
    """The faults installed on one function, their RNG and what they injected."""

    def __init__(self, specs: list[FaultSpec], *, seed: int = 0) -> None:
        self.specs = specs
        self.seed = seed
        self._rng = random.Random(seed)
        self.injected = {action: 0 for action in ACTIONS}
        self.considered = 0

    @classmethod
    def parse(cls, body: Any) -> FunctionFaults:
        if not isinstance(body, dict) or not isinstance(body.get("faults"), list) or not body["faults"]:
            raise FaultError('expected {"seed": <int>, "faults": [<fault>, ...]} with at least one fault')
        seed = body.get("seed", 0)
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise FaultError(f"seed must be an integer, not {seed!r}")
        specs = [FaultSpec.parse(item) for item in body["faults"]]
        if sum(spec.percentage for spec in specs) > 100:
            raise FaultError("the faults' percentages add up to more than 100")
        return cls(specs, seed=seed)

    def draw(self, attempt: int = 1) -> FaultSpec | None:
        """The fault for the next invocation, if any (one roll per invocation; the faults split the 0..100 range)."""
        self.considered += 1
        roll = self._rng.random() * 100
        floor = 0.0
        for spec in self.specs:
            floor += spec.percentage
            if roll < floor:
                if spec.max_attempt is not None and attempt > spec.max_attempt:
                    return None
                self.injected[spec.action] += 1
                return spec
        return None

    def crash_after_s(self, spec: FaultSpec) -> float:
        return self._rng.uniform(0, spec.within_ms) / 1000

    def status(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "faults": [spec.as_dict() for spec in self.specs],
            "invocations_considered": self.considered,
            "injected": dict(self.injected),
        }
