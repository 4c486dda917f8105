"""Trust is enforced: each level's time, tool-call and side-effect policy, and approval."""

from __future__ import annotations

import time
from typing import Any

import pytest

from codemode.errors import ConfigError, SkillApprovalError, SkillFailedError
from codemode.skills import DEFAULT_POLICIES, Skill, SkillPolicy, SkillsConfig
from codemode.trust import TrustLevel, create_relaxed_trust_strategy
from codemode_storage_memory import create_memory_skill_storage

BUSY = "const end = Date.now() + input.ms; while (Date.now() < end) {} return 'done';"
CALLS = "let n = 0; for (let i = 0; i < input.calls; i++) n = await external_add({ a: n, b: 1 }); return n;"
MAIL = "return await external_send_message({ to: input.to });"


def skill(name: str, code: str, level: TrustLevel, **fields: Any) -> Skill:
    return Skill(
        name=name,
        description=name,
        code=code,
        input_schema={"type": "object"},
        output_schema={},
        trust_level=level,
        **fields,
    )


async def loaded(session: Any, *skills: Skill) -> None:
    for item in skills:
        await session.storage.save(item)
        await session.call("get_skill", {"name": item.name})


def test_the_default_table() -> None:
    untrusted = DEFAULT_POLICIES[TrustLevel.UNTRUSTED]
    trusted = DEFAULT_POLICIES[TrustLevel.TRUSTED]
    assert (untrusted.timeout, untrusted.max_tool_calls, untrusted.side_effects) == (
        5000,
        20,
        False,
    )
    assert DEFAULT_POLICIES[TrustLevel.PROVISIONAL] == SkillPolicy(15_000, 100, True)
    assert (trusted.timeout, trusted.max_tool_calls, trusted.side_effects) == (None, None, True)


async def test_an_untrusted_skill_is_held_to_the_untrusted_time_limit(make_session: Any) -> None:
    session = await make_session(
        policies={"untrusted": SkillPolicy(timeout=300, max_tool_calls=20, side_effects=False)}
    )
    await loaded(
        session,
        skill("slow_new", BUSY, TrustLevel.UNTRUSTED),
        skill("slow_old", BUSY, TrustLevel.TRUSTED),
    )
    started = time.perf_counter()
    with pytest.raises(SkillFailedError, match="TimeoutError"):
        await session.call("slow_new", {"ms": 3000})
    assert time.perf_counter() - started < 2.5
    assert await session.call("slow_old", {"ms": 600}) == "done"


async def test_an_untrusted_skill_is_held_to_the_untrusted_call_bound(make_session: Any) -> None:
    session = await make_session()
    await loaded(
        session,
        skill("many_new", CALLS, TrustLevel.UNTRUSTED),
        skill("many_old", CALLS, TrustLevel.TRUSTED),
    )
    assert await session.call("many_new", {"calls": 20}) == 20
    with pytest.raises(SkillFailedError, match="ToolCallLimitError"):
        await session.call("many_new", {"calls": 21})
    assert await session.call("many_old", {"calls": 60}) == 60


async def test_side_effects_are_withheld_from_untrusted_skills(
    make_session: Any, sent: list[str]
) -> None:
    session = await make_session()
    await loaded(
        session,
        skill("mail_new", MAIL, TrustLevel.UNTRUSTED),
        skill("mail_provisional", MAIL, TrustLevel.PROVISIONAL),
    )
    with pytest.raises(
        SkillFailedError,
        match="may not call external_send_message: that tool has side effects, and it is untrusted",
    ):
        await session.call("mail_new", {"to": "ann"})
    assert sent == []
    assert await session.call("mail_provisional", {"to": "bob"}) == "sent to bob"
    assert sent == ["bob"]
    # The program itself (not a skill) may still call it.
    result = await session.program("return await external_send_message({ to: 'cy' });")
    assert result["result"] == "sent to cy"


async def test_untrusted_callers_cannot_reach_side_effects_through_trusted_skills(
    make_session: Any, sent: list[str]
) -> None:
    session = await make_session()
    await loaded(
        session,
        skill("mailer", MAIL, TrustLevel.TRUSTED),
        skill(
            "wrapper",
            "return await skill_mailer(input);",
            TrustLevel.UNTRUSTED,
            depends_on=["mailer"],
        ),
    )
    with pytest.raises(SkillFailedError, match="its caller, skill wrapper, is untrusted"):
        await session.call("wrapper", {"to": "dee"})
    assert sent == []
    assert await session.call("mailer", {"to": "eve"}) == "sent to eve"


async def test_a_policy_can_allow_side_effects(make_session: Any) -> None:
    session = await make_session(policies={TrustLevel.UNTRUSTED: SkillPolicy(side_effects=True)})
    await loaded(session, skill("mail_new", MAIL, TrustLevel.UNTRUSTED))
    assert await session.call("mail_new", {"to": "fay"}) == "sent to fay"


async def test_approve_is_asked_before_an_untrusted_skills_first_run(make_session: Any) -> None:
    asked: list[tuple[str, dict[str, Any]]] = []

    async def approve(item: Skill, args: dict[str, Any]) -> bool:
        asked.append((item.name, args))
        return args.get("ok") is True

    session = await make_session(approve=approve)
    await loaded(
        session,
        skill("fresh", "return 1;", TrustLevel.UNTRUSTED),
        skill("proven", "return 2;", TrustLevel.TRUSTED),
    )
    with pytest.raises(
        SkillApprovalError, match="fresh is untrusted and its first run was not approved"
    ):
        await session.call("fresh", {"ok": False})
    stored = await session.storage.get("fresh")
    assert stored is not None
    assert stored.stats.executions == 0
    assert await session.call("fresh", {"ok": True}) == 1
    assert await session.call("fresh", {"ok": False}) == 1  # not its first run any more
    assert await session.call("proven", {}) == 2
    assert asked == [("fresh", {"ok": False}), ("fresh", {"ok": True})]


async def test_an_approve_callback_that_fails_refuses(make_session: Any) -> None:
    def approve(item: Skill, args: dict[str, Any]) -> bool:
        raise RuntimeError("approval service down")

    session = await make_session(approve=approve)
    await loaded(session, skill("fresh", "return 1;", TrustLevel.UNTRUSTED))
    with pytest.raises(SkillApprovalError, match="approval service down"):
        await session.call("fresh", {})


async def test_runs_promote_a_skill_and_lift_its_limits(make_session: Any) -> None:
    storage = create_memory_skill_storage(trust_strategy=create_relaxed_trust_strategy())
    session = await make_session(storage=storage)
    await session.register("mailer", MAIL)
    await session.register("hello", "return 'hi';")
    for _ in range(3):
        assert await session.call("hello", {}) == "hi"
    hello = await storage.get("hello")
    assert hello is not None
    assert hello.trust_level is TrustLevel.PROVISIONAL
    with pytest.raises(SkillFailedError, match="SkillPermissionError"):
        await session.call("mailer", {"to": "gil"})


def test_bad_policies_are_config_errors() -> None:
    with pytest.raises(ConfigError, match=r"SkillPolicy\.timeout must be an integer > 0"):
        SkillPolicy(timeout=0)
    with pytest.raises(ConfigError, match="unknown trust level 'trustworthy'"):
        SkillsConfig(policies={"trustworthy": SkillPolicy()})
    with pytest.raises(ConfigError, match="max_depth must be an integer >= 1"):
        SkillsConfig(max_depth=0)
    with pytest.raises(ConfigError, match="approve must be callable"):
        SkillsConfig(approve="yes")  # type: ignore[arg-type]
