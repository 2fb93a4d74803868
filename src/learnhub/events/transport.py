"""Where the outbox relay publishes: an interface, an in-memory transport for tests of the
relay logic, and NATS JetStream (the default broker)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Protocol


class TransportError(Exception):
    """The broker did not take the message; the relay retries later."""


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    data: bytes
    message_id: str  # the event id: the broker de-duplicates redeliveries by it


class Transport(Protocol):
    async def publish(self, message: Message) -> None: ...

    async def close(self) -> None: ...


@dataclass
class InMemoryTransport:
    """Records what was published; can be told to fail, to test retries and ordering."""

    published: list[Message] = field(default_factory=list)
    fail_after: int | None = None  # fail every publish once this many succeeded

    async def publish(self, message: Message) -> None:
        if self.fail_after is not None and len(self.published) >= self.fail_after:
            raise TransportError("broker unavailable (simulated)")
        self.published.append(message)

    async def close(self) -> None:
        return None


async def _ignore(_exc: Exception) -> None:
    return None


class NatsTransport:
    """NATS JetStream: one stream `LEARNHUB` over `learnhub.events.>`; the event id goes in
    the `Nats-Msg-Id` header, so JetStream drops a redelivered duplicate."""

    STREAM = "LEARNHUB"
    SUBJECTS = "learnhub.events.>"

    def __init__(self, url: str = "nats://127.0.0.1:4222") -> None:
        self.url = url
        self._nc: object | None = None
        self._js: object | None = None

    async def _connect(self) -> object:
        import nats
        from nats.js.errors import BadRequestError

        if self._js is None:
            try:
                # Fail fast: the relay owns retrying (with backoff), not the client. (The
                # client retries a refused first connection for as long as
                # max_reconnect_attempts allows, and 0 means forever: it used to sit out the
                # whole 5 s timeout, inside the relay's batch transaction, on every try.)
                self._nc = await asyncio.wait_for(
                    nats.connect(
                        self.url,
                        connect_timeout=3,
                        allow_reconnect=False,
                        max_reconnect_attempts=1,
                        reconnect_time_wait=0,
                        error_cb=_ignore,  # the relay logs the TransportError it gets
                    ),
                    timeout=5,
                )
            except Exception as exc:  # the client raises several kinds
                raise TransportError(f"cannot reach NATS at {self.url}: {exc}") from exc
            js = self._nc.jetstream()
            # An existing stream with another configuration is fine: publishing still works.
            with contextlib.suppress(BadRequestError):
                await js.add_stream(name=self.STREAM, subjects=[self.SUBJECTS])
            self._js = js
        return self._js

    async def publish(self, message: Message) -> None:
        js = await self._connect()
        try:
            await js.publish(  # type: ignore[attr-defined]
                message.subject,
                message.data,
                headers={"Nats-Msg-Id": message.message_id},
                timeout=5,
            )
        except Exception as exc:
            await self.close()
            raise TransportError(f"publish failed: {exc}") from exc

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        if nc is not None:
            try:
                await nc.close()  # type: ignore[attr-defined]
            except Exception:  # closing a broken connection may fail; nothing to do
                return
