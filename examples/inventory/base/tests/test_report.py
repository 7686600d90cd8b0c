from inventory.report import average_count, load_counts, low_stock


def test_average_of_no_counts_is_zero():
    assert average_count({}) == 0.0


def test_average():
    assert average_count({"a": 2, "b": 4}) == 3.0


def test_low_stock_includes_the_threshold():
    assert low_stock({"a": 5, "b": 6, "c": 1}) == ["a", "c"]


def test_load_counts_reads_utf8(tmp_path):
    path = tmp_path / "counts.csv"
    path.write_text("sku,count\ncafé-1,3\nB-2,7\n", encoding="utf-8")
    assert load_counts(path) == {"café-1": 3, "B-2": 7}
