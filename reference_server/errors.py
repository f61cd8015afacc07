"""Errors the API answers with: status, stable type and code, and a message that says how to fix it."""

from __future__ import annotations

from typing import Any

from accounting_conformance.reference_server.faults import Fault, Faults


class ApiError(Exception):
    """An error response of the documented shape."""

    def __init__(self, status: int, error_type: str, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.error_code = error_code
        self.message = message

    def body(self, faults: Faults) -> dict[str, Any]:
        """The documented Error body (as the server's faults spell it)."""
        if Fault.ERROR_BODY_FLAT in faults:
            return {"error": self.message, "code": self.error_code}
        return {"error_type": self.error_type, "error_code": self.error_code, "error_message": self.message}


def invalid(code: str, message: str) -> ApiError:
    """400: the request is wrong; nothing was changed."""
    return ApiError(400, "INVALID_REQUEST", code, message)


def not_found(what: str, key: str) -> ApiError:
    """404: the object named does not exist."""
    return ApiError(404, "NOT_FOUND", "OBJECT_NOT_FOUND", f"No {what} has id {key!r}.")


def unauthorized() -> ApiError:
    """401: no connection for this access_token."""
    return ApiError(
        401,
        "CONNECTION_ERROR",
        "INVALID_CREDENTIALS",
        "The access_token query parameter is missing or does not name a connection.",
    )


def conflict() -> ApiError:
    """409: an Idempotency-Key reused with a different request."""
    return ApiError(
        409,
        "INVALID_REQUEST",
        "IDEMPOTENCY_KEY_REUSED",
        "This Idempotency-Key was already used with a different request; use a new key.",
    )


def too_large(limit: int) -> ApiError:
    """413: the body is over the limit."""
    return ApiError(413, "INVALID_REQUEST", "PAYLOAD_TOO_LARGE", f"The request body is larger than {limit} bytes.")


def internal() -> ApiError:
    """500: a fault of ours; the message leaks nothing."""
    return ApiError(
        500, "RUTTER_ERROR", "INTERNAL_ERROR", "An unexpected error occurred; the write may or may not have happened."
    )
