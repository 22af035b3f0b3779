"""``lfr alert``: the command line reviews alerts through the same domain rules as the API (signed in, amended
with a reason, history kept, an arrest held as evidence)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.alerts.test_db_store import event
from tests.helpers.accounts import cli_sign_in, cli_token

from openlfr.alerts.db_store import DbAlertStore
from openlfr.alerts.review import EngagementOutcome, RejectReason
from openlfr.cli import main
from openlfr.commands.alert import OUTCOMES, REJECT_REASONS
from openlfr.config.models import Settings
from openlfr.store.context import open_store

ALERT = "a" * 32


def test_the_command_offers_the_codes_the_domain_records() -> None:
    assert set(OUTCOMES) == {o.value for o in EngagementOutcome}
    assert set(REJECT_REASONS) == {r.value for r in RejectReason}


@pytest.mark.slow
def test_decide_outcome_amend_and_history(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+pysqlite:///{tmp_path / 'lfr.db'}"
    monkeypatch.setenv("LFR_DATA_DIR", str(tmp_path))
    with open_store(Settings(data_dir=tmp_path, database_url=url)) as store:
        DbAlertStore(store.db, store.media, deployment_id="d" * 32).append(event(ALERT))
    db = ["--db", url]

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv) + db)
        out, err = capsys.readouterr()
        return code, out, err

    code, _, err = run("alert", "decide", ALERT, "confirm", "--version", "1")
    assert code == 1 and "not_signed_in" in err
    monkeypatch.setenv("LFR_TOKEN", cli_token(url, tmp_path, "operator", owner="ann"))
    code, _, err = run("alert", "decide", ALERT, "confirm", "--version", "1")
    assert code == 1 and "signed-in person" in err  # decisions are taken in person
    monkeypatch.delenv("LFR_TOKEN")
    cli_sign_in(url, tmp_path, "ann", "operator")
    code, out, _ = run("alert", "decide", ALERT, "confirm", "--version", "1", "--note", "same scar", "--json")
    assert code == 0 and json.loads(out)["status"] == "confirmed"
    code, out, _ = run("alert", "outcome", ALERT, "spoken_to", "--version", "2")
    assert code == 0 and "spoken_to" in out
    code, _, err = run("alert", "outcome", ALERT, "arrested", "--version", "3")
    assert code == 1 and "[alert_state]" in err and "amend" in err
    code, out, _ = run(
        "alert", "outcome", ALERT, "arrested", "--version", "3", "--amend", "warrant confirmed", "--json"
    )
    assert code == 0 and json.loads(out)["hold"] is True  # an arrest makes the alert evidence
    code, _, err = run("alert", "outcome", ALERT, "no_action", "--version", "3", "--amend", "late")
    assert code == 1 and "[stale_version]" in err
    code, out, _ = run("alert", "history", ALERT, "--json")
    assert code == 0
    history = json.loads(out)
    assert [(c["kind"], c["value"], c["previous"], c["changed_by"], c["note"]) for c in history["changes"]] == [
        ("adjudication", "confirmed", "pending", "ann", "same scar"),
        ("engagement", "spoken_to", None, "ann", ""),
        ("engagement", "arrested", "spoken_to", "ann", "warrant confirmed"),
    ]
    code, out, _ = run("alert", "history", ALERT)
    assert code == 0 and "amended: warrant confirmed" in out and "on hold" in out
    code, _, err = run("alert", "history", "nope")
    assert code == 1 and "not_found" in err
