"""The registry's REST API (``api.md``) over ``http.client``: one connection per request, bodies
streamed from disk, the error shape turned into plain words, 429 and 503 retried after the
``Retry-After`` the server asks for, a bounded number of times."""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import shutil
import ssl
import time
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from registry_client import __version__
from registry_client.errors import ApiError, ClientError, NetworkError, UsageError

API_PREFIX = "/api/v1/"
RETRY_STATUSES = (429, 503)
MAX_RETRIES = 5
MAX_RETRY_WAIT = 300.0
DOWNLOAD_CHUNK = 1 << 16

Notify = Callable[[str], None]


@dataclass(frozen=True)
class RequestBody:
    """A body sent in chunks with a length known in advance (so no chunked transfer encoding)."""

    content_type: str
    length: int
    chunks: Callable[[], Iterable[bytes]]  # called again for each attempt


def _ignore(_message: str) -> None:
    pass


class RegistryApi:
    """The calls the client makes, authenticated with an API key (``Authorization: Api-Key``)."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        timeout: float = 60.0,
        max_retries: int = MAX_RETRIES,
        notify: Notify = _ignore,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"The registry URL {url!r} is not an http:// or https:// address; set REGISTRY_URL (or --url) "
                "to the registry's site root, for example https://registry.example"
            )
        self.site = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
        self._scheme = parts.scheme
        self._host = parts.hostname
        try:
            self._port = parts.port
        except ValueError:
            raise UsageError(f"The registry URL {url!r} has an invalid port.") from None
        self._base_path = parts.path.rstrip("/") + API_PREFIX
        self._api_key = api_key
        self._timeout = timeout
        self._max_retries = max_retries
        self._notify = notify
        self._sleep = sleep or time.sleep

    # -- the calls ------------------------------------------------------------------------------
    def get_json(self, path: str, query: dict[str, str] | None = None) -> Any:
        return self.request_json("GET", path, query=query)[1]

    def request_json(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: RequestBody | None = None,
        headers: dict[str, str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[int, Any]:
        """The status and the decoded JSON of a successful answer; an ``ApiError`` otherwise."""
        connection, response = self._exchange(method, path, query=query, body=body, headers=headers, progress=progress)
        try:
            payload = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise self._network_error(exc) from None
        finally:
            connection.close()
        if not 200 <= response.status < 300:
            raise self._api_error(response, payload)
        try:
            return response.status, json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ClientError(
                f"The server at {self.site} answered {path} with something that is not JSON. "
                "Is REGISTRY_URL (or --url) the registry's site root?"
            ) from None

    def download(self, path: str, destination: Path) -> int:
        """Save a successful answer's body to ``destination`` (via a temporary file beside it)."""
        connection, response = self._exchange("GET", path, accept="text/csv, application/json")
        partial = destination.with_name(destination.name + ".part")
        try:
            if not 200 <= response.status < 300:
                raise self._api_error(response, response.read())
            with open(partial, "wb") as out:
                shutil.copyfileobj(response, out, DOWNLOAD_CHUNK)
                size = out.tell()
            os.replace(partial, destination)
            return size
        except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
            raise self._network_error(exc) from None
        finally:
            connection.close()
            if partial.exists():
                partial.unlink()

    # -- the exchange ---------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        if self._scheme == "https":
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout, context=ssl.create_default_context()
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout)

    def _exchange(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: RequestBody | None = None,
        headers: dict[str, str] | None = None,
        accept: str = "application/json",
        progress: Callable[[int, int], None] | None = None,
    ) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        target = self._base_path + path.lstrip("/")
        if query:
            target += "?" + urllib.parse.urlencode(query)
        attempt = 0
        while True:
            connection = self._connection()
            try:
                response = self._send(connection, method, target, body, headers or {}, accept, progress)
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                raise self._network_error(exc) from None
            except BaseException:
                connection.close()
                raise
            if response.status in RETRY_STATUSES and attempt < self._max_retries:
                wait = retry_after(response.getheader("Retry-After"), attempt)
                try:
                    response.read()
                except (OSError, http.client.HTTPException):
                    pass
                connection.close()
                attempt += 1
                reason = "is throttling this key" if response.status == 429 else "is unavailable for a moment"
                self._notify(
                    f"The registry {reason} (HTTP {response.status}); trying again in {wait:g} s "
                    f"(attempt {attempt + 1} of {self._max_retries + 1})."
                )
                self._sleep(wait)
                continue
            return connection, response

    def _send(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        target: str,
        body: RequestBody | None,
        headers: dict[str, str],
        accept: str,
        progress: Callable[[int, int], None] | None,
    ) -> http.client.HTTPResponse:
        connection.putrequest(method, target, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Api-Key {self._api_key}")
        connection.putheader("Accept", accept)
        connection.putheader("User-Agent", f"registry-client/{__version__}")
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Type", body.content_type)
            connection.putheader("Content-Length", str(body.length))
        connection.endheaders()
        if body is not None:
            sent = 0
            try:
                for chunk in body.chunks():
                    connection.send(chunk)
                    sent += len(chunk)
                    if progress:
                        progress(sent, body.length)
            except (BrokenPipeError, ConnectionResetError):
                # The server may have answered before reading everything (413: the body is over
                # the limit) and closed the connection: its answer is still worth reading.
                pass
            if sent != body.length:
                # Either the connection broke (the answer says why, if there is one) or the file
                # changed while it was being sent.
                try:
                    return connection.getresponse()
                except (OSError, http.client.HTTPException):
                    raise ConnectionResetError("the connection closed while the file was being sent") from None
        return connection.getresponse()

    # -- errors ---------------------------------------------------------------------------------
    def _network_error(self, exc: BaseException) -> NetworkError:
        if isinstance(exc, ssl.SSLError):
            what = f"a TLS error ({exc.reason or exc})"
        elif isinstance(exc, TimeoutError):
            what = f"no answer within {self._timeout:g} s"
        elif isinstance(exc, ConnectionRefusedError):
            what = "the connection was refused"
        elif isinstance(exc, OSError) and exc.strerror:
            what = exc.strerror
        else:
            what = str(exc) or type(exc).__name__
        return NetworkError(
            f"Cannot reach the registry at {self.site}: {what}. "
            "Check REGISTRY_URL (or --url), the network and any proxy or firewall in between."
        )

    def _api_error(self, response: http.client.HTTPResponse, payload: bytes) -> ApiError:
        status = response.status
        error: Any = None
        try:
            error = json.loads(payload.decode("utf-8")).get("error")
        except (UnicodeDecodeError, ValueError, AttributeError):
            pass
        hint = _hint(status)
        if isinstance(error, dict) and "code" in error:
            return ApiError(
                status, str(error["code"]), str(error.get("message", "")), error.get("details") or {}, hint=hint
            )
        if 300 <= status < 400:
            location = response.getheader("Location", "")
            return ApiError(
                status,
                "redirect",
                f"the server redirects to {location or 'another address'}",
                hint="Set REGISTRY_URL (or --url) to the registry's site root as it is served now (https?).",
            )
        return ApiError(
            status,
            "unexpected_answer",
            f"{response.reason or 'error'} from {self.site}, not in the registry's error shape",
            hint=hint or "Is REGISTRY_URL (or --url) the registry's site root?",
        )


def _hint(status: int) -> str:
    return {
        401: "Check the API key: REGISTRY_API_KEY (or --api-key).",
        403: "The API key lacks the scope this needs (hash keys need lookup or upload; uploads need upload).",
        413: "The file is over the region's upload size limit.",
        429: "The key is throttled; try again later.",
        503: "The registry is unavailable for now; try again later.",
    }.get(status, "")


def retry_after(value: str | None, attempt: int) -> float:
    """Seconds to wait before retrying: the server's ``Retry-After`` (seconds or an HTTP date),
    else 1, 2, 4, … seconds; never more than ``MAX_RETRY_WAIT``."""
    wait: float | None = None
    if value:
        value = value.strip()
        if value.isdigit():
            wait = float(value)
        else:
            try:
                when = email.utils.parsedate_to_datetime(value)
                wait = when.timestamp() - time.time()
            except (TypeError, ValueError, IndexError, OverflowError):
                wait = None
    if wait is None:
        wait = float(2**attempt)
    return min(max(wait, 0.0), MAX_RETRY_WAIT)
