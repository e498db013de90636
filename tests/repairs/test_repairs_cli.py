"""``flask repairs check`` proves the monthly repair figures, and fails when one drifted."""

from __future__ import annotations

from sqlalchemy import update

from compound_app.extensions import db
from compound_app.repairs import workflow
from compound_app.repairs.models import RepairMonth
from tests.factories import first_unit


def test_check_passes_on_true_figures_and_fails_on_a_drifted_one(app, world):
    committee = world.users["committee"]
    from compound_app import access

    p = access.load_principal(committee)
    workflow.report_task(
        world.branch,
        workflow.Report(
            category="street_light", description="3号路灯不亮", unit_id=first_unit(world.branch).id
        ),
        committee,
        p=p,
    )
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["repairs", "check"])
    assert result.exit_code == 0, result.output
    assert "equals" in result.output

    db.session.execute(update(RepairMonth).values(reported=RepairMonth.reported + 1))
    db.session.commit()
    result = runner.invoke(args=["repairs", "check"])
    assert result.exit_code != 0
    assert "reported: 2 ≠ 1" in result.output
