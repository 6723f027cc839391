"""Sharing: a latent as a JSON file, and the page state (model, seed, sliders) as a URL query string."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

import numpy as np

from explorer.errors import LatentInputError
from explorer.latents import SLIDER_SPAN, check_latent
from trainer.models.latent_prior import valid_temperature

FORMAT = "anime-latent-explorer/latent@1"
MAX_JSON_BYTES = 1 << 20


def latent_to_json(latent: np.ndarray, model_name: str, note: str = "") -> str:
    return json.dumps({"format": FORMAT, "model": model_name, "latent_dim": int(latent.size),
                       "latent": [round(float(v), 6) for v in latent], "note": note}, indent=1)


def latent_from_json(text: str | bytes, latent_dim: int, model_name: str | None = None) -> np.ndarray:
    """Parse a latent JSON file; a malformed one, or one made for another model size, is a LatentInputError."""
    if isinstance(text, bytes):
        if len(text) > MAX_JSON_BYTES:
            raise LatentInputError("the latent file is larger than 1 MB; it is not a latent of this app")
        text = text.decode("utf-8", errors="replace")
    try:
        payload = json.loads(text)
    except (json.JSONDecodeError, TypeError):
        raise LatentInputError("the latent file is not valid JSON") from None
    if isinstance(payload, list):  # a bare list of numbers is accepted too
        payload = {"latent": payload}
    if not isinstance(payload, dict) or "latent" not in payload:
        raise LatentInputError("the latent file has no 'latent' list")
    if model_name and payload.get("model") not in (None, model_name):
        raise LatentInputError(f"this latent was saved from model '{payload['model']}', not '{model_name}'")
    return check_latent(payload["latent"], latent_dim)


@dataclass
class PageState:
    """What the URL carries: model, seed, temperature and slider offsets (in σ units)."""

    model: str
    seed: int = 0
    temperature: float = 1.0
    sliders: dict[str, float] = field(default_factory=dict)
    latent: list[float] | None = None  # an uploaded face's latent, when it is the base

    def to_query(self) -> str:
        payload = json.dumps({k: v for k, v in vars(self).items() if v not in (None, {})}, separators=(",", ":"))
        return "state=" + base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    @classmethod
    def from_query(cls, query: str) -> "PageState":
        value = dict(part.split("=", 1) for part in query.lstrip("?").split("&") if "=" in part).get("state")
        if not value:
            raise LatentInputError("the link carries no state")
        try:
            payload = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
            state = cls(model=str(payload["model"]), seed=int(payload.get("seed", 0)),
                        temperature=float(payload.get("temperature", 1.0)),
                        sliders={str(k): float(v) for k, v in payload.get("sliders", {}).items()},
                        latent=[float(v) for v in payload["latent"]] if payload.get("latent") else None)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise LatentInputError("the link's state is damaged") from None
        if not valid_temperature(state.temperature) or any(abs(v) > 10 for v in state.sliders.values()):
            raise LatentInputError("the link's state is out of range")
        return state


def latent_to_token(latent: np.ndarray) -> str:
    """A latent as URL-safe text (float32 little-endian, base64): exact, ≈ 5.3 characters per dimension."""
    return base64.urlsafe_b64encode(np.asarray(latent, "<f4").tobytes()).decode().rstrip("=")


def latent_from_token(token: str, latent_dim: int) -> np.ndarray:
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except (ValueError, TypeError):  # binascii.Error is a ValueError
        raise LatentInputError("the latent in the request is not base64") from None
    if len(raw) != 4 * latent_dim:
        raise LatentInputError(f"the latent in the request has {len(raw) // 4} values; this model needs {latent_dim}")
    return check_latent(np.frombuffer(raw, "<f4").astype(np.float32), latent_dim)


def offsets_from_text(text: str, count: int) -> list[float]:
    """'0.5,-1,0' → slider offsets (see ``check_offsets``)."""
    parts = [p for p in text.split(",") if p.strip()] if text else []
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise LatentInputError("slider values must be numbers") from None
    return check_offsets(values, count)


def check_offsets(values, count: int) -> list[float]:
    """Slider offsets from a request: at most ``count`` finite numbers within ±3σ (the sliders' range)."""
    if not isinstance(values, (list, tuple)):
        raise LatentInputError("slider values must be a list of numbers")
    if len(values) > count:
        raise LatentInputError(f"at most {count} slider values, got {len(values)}")
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise LatentInputError("slider values must be numbers") from None
    if not all(np.isfinite(v) and abs(v) <= SLIDER_SPAN for v in values):
        raise LatentInputError(f"slider values must lie within ±{SLIDER_SPAN:g}")
    return values
