"""What validation found: one violation per column and rule, and the report of a whole table."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SHOWN_VIOLATIONS = 10  # violations listed in the one-line error (the report has them all)


@dataclass(frozen=True)
class Violation:
    column: str
    rule: str
    count: int
    detail: str
    # The first CSV lines (header = line 1) holding a violating value; none for table rules.
    lines: list[int] = field(default_factory=list)

    def describe(self) -> str:
        where = ""
        if self.lines:
            more = ", ..." if self.count > len(self.lines) else ""
            plural = "s" if self.count > 1 else ""
            where = f" on line{plural} {', '.join(map(str, self.lines))}{more}"
        return f"{self.column} {self.rule} ({self.count}: {self.detail}){where}"


@dataclass
class ValidationReport:
    rows: int
    columns: int
    violations: list[Violation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Rows dropped because the target is missing (schema missing_target: drop).
    missing_target: int = 0

    @property
    def passed(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        if self.passed:
            dropped = f", {self.missing_target} without a target dropped" * bool(
                self.missing_target
            )
            return f"data valid: {self.rows} rows, {self.columns} columns{dropped}"
        parts = [v.describe() for v in self.violations[:SHOWN_VIOLATIONS]]
        if (hidden := len(self.violations) - SHOWN_VIOLATIONS) > 0:
            parts.append(f"and {hidden} more (every one in reports/validation.json)")
        return f"data invalid: {len(self.violations)} violation(s): " + "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """The report as reports/validation.json holds it."""
        body: dict[str, Any] = {"passed": self.passed, "rows": self.rows}
        body["columns"] = self.columns
        body["missing_target_dropped"] = self.missing_target
        body["violations"] = [asdict(v) for v in self.violations]
        body["warnings"] = self.warnings
        return body
