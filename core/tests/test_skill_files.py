"""Skills on the file storage: broken files and unwritable folders reach the model as clear
answers, and the other skills keep working."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from codemode.errors import SkillStorageError
from codemode.plugins import load_storage


async def test_a_corrupt_meta_json_is_named_and_the_others_still_run(
    make_session: Any, tmp_path: Path
) -> None:
    storage = load_storage("fs", directory=str(tmp_path / "skills"))
    session = await make_session(storage=storage)
    assert (await session.register("good", "return 'fine';"))["success"]
    assert (await session.register("broken", "return 'never';"))["success"]
    meta = tmp_path / "skills" / "broken" / "meta.json"
    meta.write_text('{"name": "broken", "description": 12')
    shown = await session.call("get_skill", {"name": "broken"})
    assert str(meta) in shown["error"]
    result = await session.program(
        "const out = [await skill_good({})];\n"
        "try { await skill_broken({}); } catch (e) { out.push(e.name, e.message); }\n"
        "return out;"
    )
    assert result["success"] is True
    good, name, message = result["result"]
    assert good == "fine"
    assert name == "SkillError"
    assert "skill broken cannot be loaded" in message
    assert str(meta) in message


async def test_an_unwritable_folder_saves_nothing_and_says_why(
    make_session: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "skills"
    folder.mkdir()
    session = await make_session(storage=load_storage("fs", directory=str(folder)))
    # The folder goes away and a file takes its place: nothing can be written there now.
    folder.rmdir()
    folder.write_text("not a folder")
    answer = await session.register("double", "return input.n * 2;")
    assert answer["success"] is False
    assert "the skill could not be saved" in answer["error"]
    assert str(folder) in answer["error"]
    assert "double" not in session.tools
    assert folder.read_text() == "not a folder"


async def test_a_storage_that_cannot_be_read_fails_the_setup_naming_it(
    make_session: Any, tmp_path: Path
) -> None:
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    with pytest.raises(SkillStorageError, match=r"skill directory .*afile/skills: cannot read"):
        await make_session(storage=load_storage("fs", directory=str(blocker / "skills")))


async def test_stats_that_cannot_be_written_leave_the_result_and_warn(
    make_session: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "skills"
    storage = load_storage("fs", directory=str(folder))
    session = await make_session(storage=storage)
    assert (await session.register("answer", "return 42;"))["success"]

    async def broken_update(name: str, success: bool) -> None:
        raise OSError("disk full")

    storage.update_stats = broken_update
    with pytest.warns(UserWarning, match="skill answer: its run could not be recorded: disk full"):
        assert await session.call("answer", {}) == 42
