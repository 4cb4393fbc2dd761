"""What `generate_example` returns: counts, files and the special, good and poor providers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ExampleSummary:
    out_dir: Path
    providers: int
    rows: int  # settlement rows written, planted rows included
    seed: int
    year: int
    format: str
    files: dict[str, int] = field(default_factory=dict)  # file name -> bytes
    table_rows: dict[str, int] = field(default_factory=dict)
    severe_casemix_provider: str = ""  # 三级, heavy DRG mix this year, cheap within each DRG
    fraud_provider: str = ""  # confirmed fraud case in audit_flags
    good_providers: list[str] = field(default_factory=list)
    poor_providers: list[str] = field(default_factory=list)
    credit_clean_providers: list[str] = field(default_factory=list)  # no confirmed violation this year
    planted: int = 0

    @property
    def total_bytes(self) -> int:
        return sum(self.files.values())

    def as_dict(self) -> dict:
        return {
            "providers": self.providers,
            "rows": self.rows,
            "seed": self.seed,
            "year": self.year,
            "format": self.format,
            "table_rows": self.table_rows,
            "special_providers": {
                "severe_casemix_efficient": self.severe_casemix_provider,
                "fraud": self.fraud_provider,
            },
            "good_providers": self.good_providers,
            "poor_providers": self.poor_providers,
            "credit_clean_providers": self.credit_clean_providers,
            "planted": self.planted,
        }
