"""Opening a folder whose ``.git/config`` names commands runs none of them: the server
indexes it through git's listing (``uet.artifacts.git``) with every executing setting
neutralised, for an untrusted workspace as for any other."""

from __future__ import annotations

from tests.bootstrap import support

from .conftest import Session, codes


async def test_indexing_an_untrusted_hostile_repository_runs_nothing(session: Session) -> None:
    root = session.root
    marker = root.parent / "PWNED"
    support.git_repository(root)
    support.write(root, {"workstreams/broken.json": "{", "workstreams/excluded.json": "{"})
    support.git(root, "config", "core.fsmonitor", f"touch {marker}; false")
    # Only git reads .git/info/exclude: the excluded file staying out proves git's listing
    # was used, so git really ran with the hostile config in place.
    (root / ".git" / "info" / "exclude").write_text("workstreams/excluded.json\n", "utf-8")

    await session.start({"workspaceTrusted": False})
    await session.pushed(
        session.uri("workstreams/broken.json"), lambda items: "UET101" in codes(items)
    )

    assert not marker.exists()
    assert session.uri("workstreams/excluded.json") not in {item.uri for item in session.published}
