"""Metrics of the benchmark (placeholder, filled in below)."""

from .matching import MatchResult, average_results, match_dataset, match_instances, matched_pairs, pool_results

__all__ = ["MatchResult", "average_results", "match_dataset", "match_instances", "matched_pairs", "pool_results"]
