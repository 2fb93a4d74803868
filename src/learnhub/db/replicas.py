"""Read replicas: PostgreSQL streaming standbys that serve read-only units of work.

Routing is decided per unit of work. A writing one always uses the primary. A read-only one
(a GET or HEAD whose route takes no writing unit of work) asks the next replica in turn, in
one round trip on the connection it will read from, how far it has replayed and how far
behind it is; it reads there when

- the replica answers (one that does not is passed over for `retry_seconds`),
- it is a standby that lags no more than `max_lag_seconds`, and
- it has replayed the client's last write: `pg_last_wal_replay_lsn()` is at or past the WAL
  position the client was given after that write (read-your-writes),

and otherwise tries the next replica, and finally the primary. The check is made on every
read, not cached: a replica that stopped since the last read is noticed on the connection the
read would have used, and a client's position is compared with what the replica has replayed
now, so nothing depends on how old a measurement is.

Lag is `now - pg_last_xact_replay_timestamp()` while the replica has received WAL it has not
replayed yet, and 0 once it has replayed everything received. Every transaction committed
before `now - lag` is visible there, so with the bound far below how long a client keeps its
position (`POSITION_TTL_SECONDS`), a client whose position expired cannot miss its own write.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import structlog
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from learnhub.db.engine import (
    behind_transaction_pooler,
    create_engine,
    create_session_factory,
    start_read_only,
)
from learnhub.metrics import DB_READS_ROUTED, DB_REPLICA_FALLBACKS, DB_REPLICA_LAG

log = structlog.get_logger(__name__)

# How long a client keeps the WAL position of its last write (the cookie's Max-Age): far
# beyond the largest lag bound allowed (60 s, see config), so the bound covers what follows.
POSITION_TTL_SECONDS = 300
# A position beyond any WAL position: the client must read from the primary (its position
# could not be read or learnt).
PRIMARY_ONLY = 2**64 - 1
# Opening a connection to a replica that does not answer must not hold a reader for long.
REPLICA_CONNECT_TIMEOUT_SECONDS = 2.0

_LSN = re.compile(r"^([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})$")

# One round trip: what the replica has received and replayed, and when it last replayed a
# commit. Positions as byte offsets (numeric), NULL on a server that is not a standby.
_REPLICA_STATE = text(
    "SELECT pg_is_in_recovery(), "
    "pg_last_wal_replay_lsn() - '0/0'::pg_lsn, "
    "pg_last_wal_receive_lsn() - '0/0'::pg_lsn, "
    "EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())"
)
# The insert position, not pg_current_wal_lsn() (what has been written out): a commit that
# is not flushed at once (synchronous_commit=off, or a transaction that wrote no other WAL)
# may end beyond the written position, and a replica that replayed only that far would not
# show it yet.
_PRIMARY_POSITION = text("SELECT pg_current_wal_insert_lsn() - '0/0'::pg_lsn")


def format_lsn(position: int) -> str:
    """PostgreSQL's own notation (`16/B374D848`)."""
    return f"{position >> 32:X}/{position & 0xFFFFFFFF:X}"


def parse_lsn(value: str) -> int | None:
    """A position in PostgreSQL's notation, or None when `value` is not one."""
    match = _LSN.match(value.strip())
    if match is None:
        return None
    return (int(match.group(1), 16) << 32) | int(match.group(2), 16)


@dataclass
class Replica:
    name: str  # host:port, for metrics and logs (never the credentials)
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    down_until: float = field(default=0.0)


@dataclass(frozen=True)
class ReplicaState:
    in_recovery: bool
    replayed: int | None
    received: int | None
    since_last_replay: float | None

    @property
    def lag_seconds(self) -> float:
        if self.replayed is None:
            return math.inf
        if self.received is None or self.received <= self.replayed:
            return 0.0  # replayed all it has received
        if self.since_last_replay is None:
            return math.inf  # behind, and no commit replayed since it started
        return max(self.since_last_replay, 0.0)


class ReplicaSet:
    def __init__(
        self,
        primary: AsyncEngine,
        replicas: Sequence[Replica],
        *,
        max_lag_seconds: float,
        retry_seconds: float,
    ) -> None:
        self.primary = primary
        self.replicas = list(replicas)
        self.max_lag_seconds = max_lag_seconds
        self.retry_seconds = retry_seconds
        self._turn = itertools.count()

    @classmethod
    def create(
        cls,
        primary: AsyncEngine,
        urls: Sequence[str],
        *,
        max_lag_seconds: float,
        retry_seconds: float,
        pool_size: int,
        max_overflow: int,
        echo: bool,
        slow_query_ms: float,
        transaction_pooler: bool = False,
    ) -> ReplicaSet:
        replicas = []
        for url in urls:
            parsed = make_url(url)
            if parsed.get_backend_name() != "postgresql":
                raise ValueError("LEARNHUB_READ_REPLICA_URL: replicas are PostgreSQL URLs")
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=max_overflow,
                echo=echo,
                slow_query_ms=slow_query_ms,
                connect_timeout_seconds=REPLICA_CONNECT_TIMEOUT_SECONDS,
                # Replicas behind the same kind of pooler as the primary.
                transaction_pooler=transaction_pooler,
            )
            name = f"{parsed.host or 'localhost'}:{parsed.port or 5432}"
            replicas.append(Replica(name, engine, create_session_factory(engine)))
        return cls(primary, replicas, max_lag_seconds=max_lag_seconds, retry_seconds=retry_seconds)

    async def dispose(self) -> None:
        for replica in self.replicas:
            await replica.engine.dispose()

    async def read_session(self, client_position: int | None) -> AsyncSession | None:
        """A read-only session on a replica fit for this client, or None: read from the
        primary. Counted either way (reads routed per target, replicas passed over)."""
        start = next(self._turn)
        count = len(self.replicas)
        for replica in (self.replicas[(start + i) % count] for i in range(count)):
            session = await self._try(replica, client_position)
            if session is not None:
                DB_READS_ROUTED.labels(target=replica.name).inc()
                return session
        DB_READS_ROUTED.labels(target="primary").inc()
        return None

    def read_failed(self, session: AsyncSession) -> bool:
        """The replica `session` reads from failed in the middle of a read (it stopped, or
        the connection broke after the check): pass it over for `retry_seconds`, so the
        read, run again, goes elsewhere. False when `session` is not a replica's."""
        for replica in self.replicas:
            if session.bind is replica.engine:
                replica.down_until = time.monotonic() + self.retry_seconds
                DB_REPLICA_LAG.labels(replica=replica.name).set(math.nan)
                DB_REPLICA_FALLBACKS.labels(replica=replica.name, reason="failed").inc()
                log.warning("replica_failed_mid_read", replica=replica.name)
                return True
        return False

    async def _try(self, replica: Replica, client_position: int | None) -> AsyncSession | None:
        if replica.down_until > time.monotonic():
            DB_REPLICA_FALLBACKS.labels(replica=replica.name, reason="down").inc()
            return None
        session = replica.session_factory()
        try:
            await start_read_only(session)
            row = (await session.execute(_REPLICA_STATE)).one()
        except (SQLAlchemyError, OSError) as error:
            # Unreachable, shutting down, or the pooled connection died with the server.
            await _discard(session)
            replica.down_until = time.monotonic() + self.retry_seconds
            DB_REPLICA_LAG.labels(replica=replica.name).set(math.nan)
            DB_REPLICA_FALLBACKS.labels(replica=replica.name, reason="down").inc()
            log.warning("replica_unavailable", replica=replica.name, error=type(error).__name__)
            return None
        state = ReplicaState(
            in_recovery=bool(row[0]),
            replayed=None if row[1] is None else int(row[1]),
            received=None if row[2] is None else int(row[2]),
            since_last_replay=None if row[3] is None else float(row[3]),
        )
        reason = self._unfit(state, client_position)
        DB_REPLICA_LAG.labels(replica=replica.name).set(state.lag_seconds)
        if reason is not None:
            await _discard(session)
            DB_REPLICA_FALLBACKS.labels(replica=replica.name, reason=reason).inc()
            return None
        return session

    def _unfit(self, state: ReplicaState, client_position: int | None) -> str | None:
        if not state.in_recovery or state.replayed is None:
            return "not_standby"  # promoted: no longer follows the primary
        if state.lag_seconds > self.max_lag_seconds:
            return "lagging"
        if client_position is not None and state.replayed < client_position:
            return "behind_client"
        return None

    async def primary_position(self) -> int:
        """The primary's current WAL insert position, read after a commit: at or past the
        commit record's end, so a replica that replayed this far shows the committed work."""
        try:
            async with self.primary.connect() as connection:
                if behind_transaction_pooler(self.primary):
                    # In a transaction (rolled back on leaving): outside one, a transaction
                    # pooler may run the statement's prepare and its execution on different
                    # server connections, and every write would come back without a position.
                    return int((await connection.execute(_PRIMARY_POSITION)).scalar_one())
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                return int((await autocommit.execute(_PRIMARY_POSITION)).scalar_one())
        except (SQLAlchemyError, OSError) as error:
            # The work is committed; without its position the client reads from the primary
            # until the position expires, rather than risk missing its write.
            log.warning("commit_position_unknown", error=type(error).__name__)
            return PRIMARY_ONLY


async def _discard(session: AsyncSession) -> None:
    try:
        await session.close()
    except Exception:  # a dead connection: drop it instead
        with contextlib.suppress(Exception):
            await session.invalidate()
