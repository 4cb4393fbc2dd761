"""A private package per provider (`pingyi share`): what a committee hands one hospital.

    pingyi share --results results/2025 --reports reports/2025 --out packages/2025 [--provider CODE] [--zip]

writes one folder (or one zip) per provider holding its card (PDF and HTML, as `pingyi report`
rendered them), its own rows of the results, aggregates of its peer group (never another provider's
values), a copy of the project's definitions, and what `pingyi explain` and `pingyi.api.load_results`
need to work on the package alone.
"""

from pingyi.share.package import SHARE_KIND, Shared, share, verify_package

__all__ = ["SHARE_KIND", "Shared", "share", "verify_package"]
