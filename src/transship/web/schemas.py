"""The screening API's request and response models (POST /v1/screen; the OpenAPI schema)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Declaration(BaseModel):
    """One declaration (the file schema; extra fields are passed through)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "id": "TR-2024-000123",
                "date": "2024-11-05",
                "exporter_name": "Acme Elektronik Dış Ticaret Ltd. Şti.",
                "exporter_country": "TUR",
                "consignee_name": "ООО Ромашка",
                "consignee_country": "RUS",
                "origin_country": "USA",
                "destination_country": "RUS",
                "hs_code": "8542310010",
                "description": "microprocessors",
                "value": 12000,
                "currency": "USD",
                "quantity": 100,
            }
        },
    )

    id: str
    date: str
    origin_country: str
    destination_country: str
    hs_code: str
    exporter_name: str | None = None
    exporter_country: str | None = None
    consignee_name: str | None = None
    consignee_country: str | None = None
    description: str | None = None
    value: float | str | None = None
    currency: str | None = None
    quantity: float | str | None = None


class ScreenRequest(BaseModel):
    """One declaration or a batch; policy and lists default to the server's settings."""

    policy: str | None = Field(
        None,
        description="Policy id among GET /v1/policies (never a path); default "
        "TRANSSHIP_API_POLICY.",
    )
    lists: list[str] | None = Field(
        None,
        description="Sanctions lists among the server's (TRANSSHIP_SCREENING_LISTS, default "
        "every loaded list); leave out for all of them. An empty or unknown list is a 422.",
    )
    declaration: Declaration | None = None
    declarations: list[Declaration] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ScreenRequest:
        if (self.declaration is None) == (self.declarations is None):
            raise ValueError("give either 'declaration' or 'declarations'")
        return self


class HitOut(BaseModel):
    list: str
    entity_id: str
    caption: str
    alias: str
    score: float
    name_score: float
    country_match: bool | None
    level: str
    programs: str | None
    normalised: str | None = Field(
        None, description="What the party name was cleaned of before it matched, if anything."
    )
    role: str


class DecisionOut(BaseModel):
    id: str | None
    decision: str = Field(description="ALLOW, FLAG, BLOCK, or ERROR (declaration malformed)")
    rules: list[str]
    hits: list[HitOut]
    reasons: list[str]
    error: str | None


class ScreenResponse(BaseModel):
    policy: str
    lists: list[str]
    audit_seq: list[int] = Field(description="First and last audit record written")
    decisions: list[DecisionOut]
