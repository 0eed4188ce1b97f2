"""The one error hierarchy. Services raise these; one handler renders them as the contract's body."""

from __future__ import annotations


class AppError(Exception):
    """An error a client caused or must know about; ``status`` is its HTTP status."""

    status: int = 500

    def __init__(self, message: str, *, headers: dict[str, str] | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}
        self.extra = extra or {}


class Invalid(AppError):
    status = 400


class Unauthorized(AppError):
    status = 401


class Forbidden(AppError):
    status = 403


class NotFound(AppError):
    status = 404


class Conflict(AppError):
    status = 409


class TooLarge(AppError):
    status = 413


class Unprocessable(AppError):
    status = 422


class RateLimited(AppError):
    status = 429


class Unavailable(AppError):
    status = 503
