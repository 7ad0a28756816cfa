"""`check`, the main job: validate, compile and every flow, judged as one."""

from __future__ import annotations

from dataclasses import dataclass

from notifycfg.config.validate import ValidationResult
from notifycfg.notify.flows import FlowsResult


@dataclass(frozen=True)
class CheckResult:
    validation: ValidationResult
    strict: bool
    compiled: int | None  # organizations compiled; None: skipped, the environment is not valid
    flows: FlowsResult | None  # None: skipped

    @property
    def ok(self) -> bool:
        return self.validation.ok(self.strict) and self.compiled is not None and self.flows is not None and self.flows.ok

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1
