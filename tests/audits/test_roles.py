"""Wrong role, right place: each role is refused what belongs to another."""

from __future__ import annotations

import pytest

from tests.factories import first_household, first_unit


@pytest.mark.parametrize(
    ("role", "method", "path", "status"),
    [
        # A representative keeps their stairwell's roster, nothing more.
        ("rep", "GET", "/registry/units/{unit}/representative", 403),
        ("rep", "GET", "/registry/compounds/{compound}/import", 403),
        ("rep", "POST", "/registry/households/{household}/invite", 403),
        ("rep", "GET", "/registry/compounds/{compound}/model", 403),
        ("rep", "GET", "/people/", 404),
        # A committee member runs the area, but not accounts or the model.
        ("committee", "GET", "/people/", 404),
        ("committee", "GET", "/committees/areas/{area}/members/new", 403),
        ("committee", "GET", "/registry/compounds/{compound}/party", 403),
        ("committee", "GET", "/registry/communities/{community}", 404),
        # A resident reads; they change nothing and see no community.
        ("resident", "GET", "/registry/communities/{community}", 404),
        ("resident", "GET", "/registry/communities", 404),
        ("resident", "GET", "/registry/households/{household}/edit", 403),
        ("resident", "GET", "/registry/households/{household}/row", 403),
        ("resident", "POST", "/registry/units/{unit}/households/new", 403),
        ("tenant", "GET", "/registry/compounds/{compound}", 404),  # lives elsewhere
        # Staff of one community do not reach into another.
        ("other_staff", "GET", "/registry/compounds/{compound}", 404),
        ("other_staff", "GET", "/registry/communities/{community}", 404),
    ],
)
def test_refused(world, login_as, role, method, path, status):
    unit = first_unit(world.branch)
    url = path.format(
        unit=unit.id,
        compound=world.branch.id,
        household=first_household(world.branch).id,
        area=world.branch.area_id,
        community=world.community.id,
    )
    response = login_as(world.users[role]).open(url, method=method, data={})
    assert response.status_code == status, (role, method, url)
