"""A damaged catalog.json is a CatalogDamagedError for readers and editors alike, never read as empty nor
overwritten; set aside, the catalog starts again empty (for doctor --repair to rebuild)."""
import pytest

from local_runtime.local_catalog import LocalCatalog
from pipeline.core.errors import CatalogDamagedError
from pipeline.warehouse.tables import table

DAMAGE = {
    '{"engagement.snapshots": {"2026-03-02": "./raw/': "it is not JSON, truncated?",
    "": "it is empty",
    "[]": "it holds \\[\\] where an object of tables is expected",
    '{"engagement.snapshots": 3}': "table 'engagement.snapshots' holds 3 where an object of partitions",
    '{"engagement.snapshots": {"2026-03-02": null}}': "partition '2026-03-02' of table 'engagement.snapshots' "
                                                      "holds null",
}


@pytest.fixture
def catalog(tmp_path):
    return LocalCatalog(tmp_path / "catalog.json", tmp_path / "warehouse")


@pytest.mark.parametrize("text, problem", DAMAGE.items(), ids=range(len(DAMAGE)))
def test_a_damaged_file_is_named_and_never_overwritten(catalog, text, problem):
    catalog.path.write_text(text)
    with pytest.raises(CatalogDamagedError, match=f"the catalog {catalog.path} is damaged: {problem}.*doctor --repair"):
        catalog.partitions(table("snapshots"))
    with pytest.raises(CatalogDamagedError):
        catalog.put_partition(table("snapshots"), "2026-03-09", "/elsewhere/")
    assert catalog.path.read_text() == text


def test_an_unreadable_file_is_damage_too(catalog, monkeypatch):
    catalog.path.mkdir()
    with pytest.raises(CatalogDamagedError, match="it cannot be read \\(Is a directory\\)"):
        catalog.partitions(table("snapshots"))
    catalog.path.rmdir()
    catalog.path.write_text("{}")

    def denied(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("pathlib.Path.read_bytes", denied)  # root may read anything; say it may not
    with pytest.raises(CatalogDamagedError, match="it cannot be read \\(Permission denied\\)"):
        catalog.partitions(table("snapshots"))


def test_set_aside_moves_only_a_damaged_file(catalog, tmp_path):
    catalog.put_partition(table("snapshots"), "2026-03-02", "/elsewhere/")
    assert catalog.set_aside(tmp_path / "aside") is False and not (tmp_path / "aside").exists()
    catalog.path.write_text("[]")
    assert catalog.set_aside(tmp_path / "aside") is True
    assert (tmp_path / "aside").read_text() == "[]" and catalog.partitions(table("snapshots")) == {}
