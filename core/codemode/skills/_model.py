"""``Skill``: a saved TypeScript program with its schemas, hints, trust level and stats.

In Python every field is snake_case; ``to_meta()`` / ``Skill.from_meta()`` give and read the
camelCase JSON of TanStack AI's on-disk format (``meta.json`` holds everything but ``code``).
A skill's *content* is its code and its two schemas: ``content_hash`` fingerprints them, so a
storage can tell an edit of the program from a change of its description or stats.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator
from pydantic.alias_generators import to_camel

from codemode.errors import SkillNameError
from codemode.trust import SkillStats, TrustLevel

MAX_NAME_CHARS: Final = 64
RESERVED_PREFIXES: Final = ("external_", "skill_")
RESERVED_NAMES: Final = frozenset(
    {"execute_typescript", "discover_tools", "search_skills", "get_skill", "register_skill"}
)
"""Names of the tools a skill could be confused with when it is given to the model directly."""

_NAME = re.compile(r"[a-z][a-z0-9_]*")


def check_skill_name(name: object) -> str:
    """``name`` if it is a valid skill name, else ``SkillNameError`` saying which rule fails.

    A name is a snake_case identifier (``fetch_github_stats``): it becomes a folder, a tool
    name and the sandbox function ``skill_<name>``, so nothing that could leave the folder
    (``/``, ``\\``, ``..``) or shadow another function is allowed.
    """
    if not isinstance(name, str):
        raise SkillNameError(f"a skill name must be a string, got {type(name).__name__}")
    if not name:
        raise SkillNameError("a skill name must not be empty")
    if len(name) > MAX_NAME_CHARS:
        raise SkillNameError(
            f"skill name {name[:20]!r}... is {len(name)} characters; the limit is {MAX_NAME_CHARS}"
        )
    if not _NAME.fullmatch(name):
        raise SkillNameError(
            f"skill name {name!r} must be snake_case: a lowercase letter, then lowercase"
            " letters, digits and underscores (no '/', '\\\\', '.', '-' or spaces)"
        )
    for prefix in RESERVED_PREFIXES:
        if name.startswith(prefix):
            raise SkillNameError(
                f"skill name {name!r} must not start with {prefix!r}"
                + (" (it is added in the sandbox: skill_<name>)" if prefix == "skill_" else "")
            )
    if name in RESERVED_NAMES:
        raise SkillNameError(f"skill name {name!r} is the name of a built-in tool")
    return name


def _canonical(value: Any) -> Any:
    """``value`` as JSON sees it: ``10.0`` and ``10`` are one number (JavaScript and every
    JSON round trip agree), so a schema read back from JSON hashes as it was saved."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


def content_hash(code: str, input_schema: dict[str, Any], output_schema: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the code and both schemas (key order and ``10.0`` vs ``10`` do not
    matter)."""
    canonical = json.dumps(
        _canonical({"code": code, "inputSchema": input_schema, "outputSchema": output_schema}),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def utc_now() -> datetime:
    """Now, in UTC, to the millisecond (what JavaScript's ``toISOString`` keeps)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


_CONFIG = ConfigDict(
    alias_generator=to_camel,
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=False,
    extra="ignore",
    frozen=False,
    validate_assignment=True,
)


class SkillIndexEntry(BaseModel):
    """What ``_index.json`` holds of a skill: enough to search and to pick, without the code."""

    model_config = _CONFIG

    id: str
    name: str
    description: str
    usage_hints: list[str] = Field(default_factory=list)
    trust_level: TrustLevel = TrustLevel.UNTRUSTED

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return check_skill_name(value)

    def to_json(self) -> dict[str, Any]:
        """The camelCase dict of one ``_index.json`` entry."""
        return self.model_dump(mode="json", by_alias=True)


class Skill(BaseModel):
    """A saved program. ``code`` receives its argument as ``input`` and ``return``s a value.

    Only ``name``, ``description``, ``code`` and the two schemas are needed to make one;
    a storage's ``save`` fills in the timestamps, the content hash and, for a new skill,
    its strategy's initial trust level (unless ``trust_level`` was given).
    """

    model_config = _CONFIG

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    name: str
    description: str
    code: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any]
    usage_hints: list[str] = Field(default_factory=list)
    depends_on: list[str] = Field(default_factory=list)
    trust_level: TrustLevel = TrustLevel.UNTRUSTED
    stats: SkillStats = Field(default_factory=SkillStats)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    content_hash: str | None = None
    """``sha256:...`` of code and schemas as last saved; a mismatch means they were edited."""

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        return check_skill_name(value)

    @field_serializer("created_at", "updated_at", when_used="json")
    def _iso(self, value: datetime | None) -> str | None:
        # JavaScript's Date.toISOString(): 2026-12-01T21:46:00.123Z
        if value is None:
            return None
        utc = value.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"

    def computed_hash(self) -> str:
        """The content hash of the code and schemas as they are now."""
        return content_hash(self.code, self.input_schema, self.output_schema)

    def index_entry(self) -> SkillIndexEntry:
        return SkillIndexEntry(
            id=self.id,
            name=self.name,
            description=self.description,
            usage_hints=list(self.usage_hints),
            trust_level=self.trust_level,
        )

    def to_json(self) -> dict[str, Any]:
        """Every field, camelCase, JSON-compatible (what ``get_skill`` shows the model)."""
        return self.model_dump(mode="json", by_alias=True)

    def to_meta(self) -> dict[str, Any]:
        """The camelCase ``meta.json`` dict: every field but ``code``."""
        return self.model_dump(mode="json", by_alias=True, exclude={"code"})

    @classmethod
    def from_meta(cls, meta: dict[str, Any], code: str) -> Skill:
        """A skill from a ``meta.json`` dict and the text of its ``code.ts``."""
        return cls.model_validate({**meta, "code": code})
