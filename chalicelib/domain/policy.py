"""Policy packs: validated, frozen, versioned by content hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from chalicelib.domain.rules import BaseRule, Rule
from chalicelib.domain.zones import is_known_zone


class PolicyError(Exception):
    """A pack or policy set failed validation; nothing may be sent on it."""


class Source(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    citation: str = Field(min_length=1)
    url: str | None = None
    confidence: Literal["high", "medium", "low", "unverified"]


class AppliesTo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    countries: tuple[str, ...] = Field(min_length=1)  # ISO 3166-1 alpha-2, or "*" (house packs)
    subdivisions: tuple[str, ...] = ()  # "US-MA", or a locality such as "US-NY-NYC"; empty: the whole country
    debt_types: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()  # house packs: the tenants that adopted it ("*": all); jurisdiction packs: all


class Pack(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    id: str = Field(pattern=r"^[a-z0-9-]+$")
    kind: Literal["jurisdiction", "house"] = "jurisdiction"  # a house pack only ever adds restrictions
    title: str = Field(min_length=1)
    applies_to: AppliesTo
    holidays: dict[str, str] | None = None  # {"country": "US", "subdivision": "MA"}
    zones: tuple[str, ...] | None = None  # the clock the rules read, when the law names one (Beijing time)
    retention_years: int = Field(ge=0, le=100)  # kept this long after the last activity (0: says nothing)
    retention_source: Source | None = None  # where the period comes from, with its confidence
    sources: tuple[Source, ...] = Field(min_length=1)
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _rule_ids_belong_to_pack(self) -> Pack:
        seen: set[str] = set()
        for index, rule in enumerate(self.rules):
            if not rule.id.startswith(f"{self.id}/"):
                raise ValueError(f"rules.{index}.id: rule id {rule.id!r} must start with '{self.id}/'")
            if rule.id in seen:
                raise ValueError(f"rules.{index}.id: rule id {rule.id!r} appears twice")
            seen.add(rule.id)
        return self

    @model_validator(mode="after")
    def _retention_has_a_source(self) -> Pack:
        if self.retention_years and self.retention_source is None:
            raise ValueError("retention_source: required when retention_years is set")
        return self

    @model_validator(mode="after")
    def _zones_known(self) -> Pack:
        unknown = [z for z in self.zones or () if not is_known_zone(z)]
        if unknown:
            raise ValueError(f"unknown time zones {unknown}")
        return self

    def applies(self, countries: Iterable[str], subdivisions: Iterable[str], tenant: str | None = None) -> bool:
        tenants = self.applies_to.tenants
        if self.kind == "house" and "*" not in tenants and tenant not in tenants:
            return False
        if "*" not in self.applies_to.countries and not set(self.applies_to.countries) & set(countries):
            return False
        return not self.applies_to.subdivisions or bool(set(self.applies_to.subdivisions) & set(subdivisions))

    def active_rules(self) -> tuple[BaseRule, ...]:
        return tuple(rule for rule in self.rules if rule.enabled)


class PolicySet(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    packs: tuple[Pack, ...]
    version: str

    def pack(self, pack_id: str) -> Pack:
        for pack in self.packs:
            if pack.id == pack_id:
                return pack
        raise KeyError(pack_id)

    def applicable(
        self, countries: Iterable[str], subdivisions: Iterable[str], tenant: str | None = None
    ) -> tuple[Pack, ...]:
        countries, subdivisions = tuple(countries), tuple(subdivisions)
        return tuple(p for p in self.packs if p.applies(countries, subdivisions, tenant))

    def retention_days(self, pack_ids: Iterable[str]) -> int:
        """The longest retention of these packs, in days (leap years, so never short)."""
        years = [p.retention_years for p in self.packs if p.id in set(pack_ids)]
        return max(years, default=0) * 366

    @property
    def longest_window_days(self) -> int:
        days = [getattr(r, "days", 1) for p in self.packs for r in p.rules]
        months = any(getattr(r, "period", "") == "calendar_month" for p in self.packs for r in p.rules)
        return max([*days, 31 if months else 1, 1])


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def build_policy_set(documents: Mapping[str, Any]) -> PolicySet:
    """Validate raw pack documents (name -> parsed YAML) into a versioned policy set."""
    packs, errors = [], []
    files: dict[str, list[str]] = {}
    for name, document in sorted(documents.items()):
        try:
            packs.append(Pack.model_validate(document))
        except ValidationError as exc:
            for err in exc.errors():
                path = ".".join(str(p) for p in err["loc"])
                message = str(err["msg"]).removeprefix("Value error, ")
                errors.append(f"{name}: {path}: {message}" if path else f"{name}: {message}")
        else:
            files.setdefault(packs[-1].id, []).append(name)
    errors += [f"pack id {i!r} is used by more than one file: {', '.join(f)}" for i, f in files.items() if len(f) > 1]
    if errors:
        raise PolicyError("\n".join(errors))
    dumped = [p.model_dump(mode="json") for p in sorted(packs, key=lambda p: p.id)]
    version = hashlib.sha256(canonical_json(dumped).encode()).hexdigest()[:16]
    return PolicySet(packs=tuple(sorted(packs, key=lambda p: p.id)), version=f"ps-{version}")
