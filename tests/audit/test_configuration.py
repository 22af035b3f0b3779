from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from openlfr.audit import iter_entries, verify_chain
from openlfr.audit.configuration import effective_settings, record_configuration
from openlfr.config.governance import GovernanceConfig
from openlfr.config.models import Settings
from openlfr.store.db import open_database


def test_configuration_is_recorded_once_and_changes_name_their_sections(tmp_path: Path) -> None:
    key = "s" * 40
    settings = Settings(data_dir=tmp_path, governance=GovernanceConfig(audit_export_key=SecretStr(key)))
    db = open_database(settings)
    try:
        with db.session() as session:
            assert record_configuration(session, settings)
            assert not record_configuration(session, settings)  # unchanged: nothing new
        changed = settings.model_copy(update={"governance": GovernanceConfig(alert_retention_days=7)})
        with db.session() as session:
            assert record_configuration(session, changed)
            entries = list(iter_entries(session))
            assert verify_chain(session).ok
    finally:
        db.close()
    assert [e.action for e in entries] == ["config.loaded", "config.changed"]
    assert entries[0].details["audit_export_signed"] is True
    assert entries[1].details["changed_sections"] == ["governance"]
    assert entries[1].details["governance"]["alert_retention_days"] == 7
    assert key not in str([e.details for e in entries])
    assert effective_settings(settings)["governance"]["audit_export_key"] == "set"
    with_password = settings.model_copy(update={"database_url": "postgresql://lfr:hunter2@db/lfr"})
    assert "hunter2" not in str(effective_settings(with_password))
