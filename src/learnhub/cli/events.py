"""`learnhub events`: the outbox relay to NATS, the handler retrier, and a tail of the broker."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated

import typer

from learnhub.cli.common import command_engine, console, handler_bus
from learnhub.config import get_settings
from learnhub.db.engine import create_session_factory
from learnhub.db.uow import UnitOfWork
from learnhub.domain.context import acting_as

events_app = typer.Typer(help="Domain events and the outbox relay.", no_args_is_help=True)


@events_app.command("relay")
def events_relay(
    once: Annotated[bool, typer.Option(help="Relay what is waiting, then exit.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Publish committed outbox events to NATS JetStream (at least once, in order per
    aggregate); several relays may run at once."""
    from learnhub.events.transport import NatsTransport
    from learnhub.workers.relay import OutboxRelay

    settings = get_settings()

    async def main() -> int:
        engine = command_engine()
        transport = NatsTransport(settings.nats_url)
        relay = OutboxRelay(create_session_factory(engine), transport, batch_size)
        total = 0
        try:
            if once:
                while (result := await relay.run_once()).published and not result.failed:
                    total += result.published
                if result.failed:
                    raise typer.Exit(1)
            else:
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                import signal

                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                await relay.run(stop)
        finally:
            await transport.close()
            await engine.dispose()
        return total

    published = asyncio.run(main())
    if once:
        console.print(f"{published} events published")


@events_app.command("tail")
def events_tail(
    seconds: Annotated[float, typer.Option(help="Stop after this long (0: until Ctrl-C).")] = 0,
) -> None:
    """Print events from the broker as they arrive."""
    import nats

    settings = get_settings()

    async def main() -> None:
        nc = await nats.connect(settings.nats_url, connect_timeout=3)

        async def show(msg: object) -> None:
            console.print(getattr(msg, "subject", ""), getattr(msg, "data", b"").decode())

        await nc.subscribe("learnhub.events.>", cb=show)
        try:
            await asyncio.sleep(seconds if seconds > 0 else 10**9)
        finally:
            await nc.close()

    asyncio.run(main())


@events_app.command("handle")
def events_handle(
    once: Annotated[bool, typer.Option(help="One pass over what is waiting, then exit.")] = False,
    grace_seconds: Annotated[
        float,
        typer.Option(min=0, help="Leave younger events to the request still handling them."),
    ] = 30.0,
    interval: Annotated[float, typer.Option(min=0.1, help="Seconds between passes.")] = 5.0,
) -> None:
    """Run the in-process handlers again for outbox events they have not handled (a handler
    failed, or the process died first) and mark them handled. Handlers are idempotent."""
    from datetime import timedelta

    from learnhub.workers.handlers import HandlerRetrier, RetryResult

    async def main() -> RetryResult | None:
        engine = command_engine()
        factory = create_session_factory(engine)
        retrier = HandlerRetrier(
            lambda: UnitOfWork(factory),
            handler_bus(factory),
            grace=timedelta(seconds=grace_seconds),
        )
        try:
            with acting_as(None, request_id=f"cli:events-handle:{uuid.uuid4().hex[:8]}"):
                if once:
                    return await retrier.run_once()
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                import signal

                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.add_signal_handler(sig, stop.set)
                await retrier.run(stop, interval)
                return None
        finally:
            await engine.dispose()

    result = asyncio.run(main())
    if result is not None:
        console.print(f"{result.handled} events handled, {result.failed} failed")
        if result.failed:
            raise typer.Exit(1)
