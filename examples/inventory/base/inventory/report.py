"""Summaries of stock levels for the weekly inventory report."""

import csv


def load_counts(path):
    counts = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            counts[row["sku"]] = int(row["count"])
    return counts


def average_count(counts):
    if not counts:
        return 0.0
    return sum(counts.values()) / len(counts)


def low_stock(counts, threshold=5):
    return sorted(sku for sku, n in counts.items() if n <= threshold)
