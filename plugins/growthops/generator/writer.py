"""Write a simulated world as landing files (SPEC §2 layout) with DuckDB.

Rows are sorted by export day. For a batch of days, one DuckDB query formats every row into one
CSV line (ISO-8601 timestamps with offset, 2-decimal money, RFC 4180 quoting, ``\\n`` ended);
the result is an Arrow string column whose data buffer is exactly the concatenated lines, so a
day's file is the header plus one contiguous slice of that buffer — no per-row Python and no
per-file query. Files are written as ``<name>.part`` and renamed into place, so a reader never
sees a half-written ``.csv``. Days without rows get a header-only file: every source has a file
for every day of the range.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from growthops.contracts import CRM, FX, ORDERS, PlatformMapping, SourceContract
from growthops.generator import params as P
from growthops.generator.simulate import World
from growthops.generator.writer_ops import write_costs, write_messages
from growthops.sql import literal

TS_FORMAT = "%Y-%m-%dT%H:%M:%S"
BATCH_ROWS = 1_000_000  # rows formatted per DuckDB query (bounds memory at scale 1.0)
_MACROS = """
CREATE MACRO csvq(x) AS CASE
    WHEN contains(x, ',') OR contains(x, '"') OR contains(x, chr(10)) OR contains(x, chr(13))
    THEN '"' || replace(x, '"', '""') || '"' ELSE x END;
CREATE MACRO money(c) AS printf('%d.%02d', c // 100, c % 100);
CREATE MACRO money_thousands(c) AS format('{:,}', c // 100) || '.' || lpad((c % 100)::VARCHAR, 2, '0');
"""

# How each contract column is written: a VARCHAR SQL expression over the columns of the batch table
# (csvq/money: the _MACROS; iso_ts: seconds since the calendar start as ISO-8601 with its offset).
CRM_FIELDS = {
    "contact_id": "printf('C%08d', num)",
    "email": "csvq(email)",
    "created_at": "iso_ts(created, 0, '+00:00')",
    "updated_at": "iso_ts(updated, 0, '+00:00')",
    "lifecycle_stage": "stage::VARCHAR",
    "utm_source": "csvq(utm_source::VARCHAR)",
    "utm_medium": "csvq(utm_medium::VARCHAR)",
    "utm_campaign": "csvq(utm_campaign::VARCHAR)",
    "country": "country::VARCHAR",
    "is_deleted": "is_deleted::VARCHAR",
}

ORDERS_FIELDS = {
    "order_id": "printf('O%09d', num)",
    "contact_id": "printf('C%08d', contact)",
    "created_at": "iso_ts(created, off, off_text::VARCHAR)",
    "updated_at": "iso_ts(updated, off, off_text::VARCHAR)",
    "status": "status::VARCHAR",
    "currency": "currency::VARCHAR",
    "gross_amount": "money(gross)",
    "discount_amount": "money(discount)",
    "refund_amount": "money(refund)",
}

FX_FIELDS = {
    "date": "date::VARCHAR",
    "currency": "currency::VARCHAR",
    "usd_rate": "printf('%.8f', usd_rate)",
}


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _csv_field(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _line(exprs: list[str]) -> str:
    """SQL for one CSV line from VARCHAR expressions (NULL -> empty field)."""
    return " || ',' || ".join(f"coalesce({e}, '')" for e in exprs) + " || chr(10)"


class Writer:
    """Writes every file of every source; collects the exact data-row count per file."""

    def __init__(self, world: World, landing: Path, mappings: dict[str, PlatformMapping]) -> None:
        import pyarrow as pa

        self.pa = pa
        self.world = world
        self.landing = landing
        self.mappings = mappings
        self.epoch0 = int(datetime.combine(world.cal.start, datetime.min.time(), UTC).timestamp())
        self.con = duckdb.connect()
        self.con.execute("SET preserve_insertion_order = true")
        self.con.execute(_MACROS)
        self.con.execute(
            f"CREATE MACRO iso_ts(seconds, offset_seconds, offset_text) AS strftime(make_timestamp("
            f"(seconds + offset_seconds + {self.epoch0})::BIGINT * 1000000), '{TS_FORMAT}') || offset_text"
        )
        self.files: dict[str, int] = {}
        self.bytes_written = 0
        self.day_text = [world.cal.day(i).isoformat() for i in range(world.cal.n_days)]

    # -- helpers ------------------------------------------------------------------------------
    def dictionary(self, values: list[str], codes: np.ndarray) -> Any:
        """Codes (-1 = empty) as an Arrow dictionary column DuckDB reads as text."""
        pa = self.pa
        codes = np.asarray(codes)
        return pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32), mask=codes < 0), pa.array(values, pa.string())
        )

    def _emit(
        self,
        table: Any,
        fields: dict[str, str],
        export_day: np.ndarray,
        days: range,
        relpath: Callable[[str], str],
    ) -> None:
        """Format ``table`` (rows sorted by export day) and write one file per day in ``days``.

        ``fields``: the file's columns in order, header -> VARCHAR SQL expression over ``table``.
        """
        pa = self.pa
        exprs, header = list(fields.values()), list(fields)
        table = table.append_column("_row", pa.array(np.arange(len(table), dtype=np.int64)))
        self.con.register("batch", table)
        try:
            result = self.con.execute(
                f"SELECT {_line(exprs)} AS line FROM batch ORDER BY _row"
            ).fetch_arrow_table()
        finally:
            self.con.unregister("batch")
        column = result.column("line")
        lines = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
        offset_type = np.int64 if pa.types.is_large_string(lines.type) else np.int32
        buffers = lines.buffers()
        offsets = np.frombuffer(buffers[1], dtype=offset_type)[lines.offset : lines.offset + len(lines) + 1]
        data = memoryview(buffers[2]) if buffers[2] is not None else memoryview(b"")
        bounds = np.searchsorted(export_day, np.arange(days.start, days.stop + 1))
        head = (",".join(_csv_field(h) for h in header) + "\n").encode("utf-8")
        for i, day in enumerate(days):
            a, b = int(bounds[i]), int(bounds[i + 1])
            rel = relpath(self.day_text[day])
            path = self.landing / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            part = path.with_name(path.name + ".part")
            with open(part, "wb") as fh:
                fh.write(head)
                if b > a:
                    fh.write(data[int(offsets[a]) : int(offsets[b])])
            part.replace(path)
            self.files[rel] = b - a
            self.bytes_written += len(head) + (int(offsets[b]) - int(offsets[a]) if b > a else 0)

    def _day_batches(self, export_day: np.ndarray) -> Iterator[tuple[range, int, int]]:
        """Consecutive day ranges holding about BATCH_ROWS rows: (days, first row, end row)."""
        n = self.world.cal.n_days
        bounds = np.searchsorted(export_day, np.arange(n + 1))
        day = 0
        while day < n:
            stop = int(np.searchsorted(bounds, bounds[day] + BATCH_ROWS, side="right")) - 1
            stop = min(max(stop, day + 1), n)
            yield range(day, stop), int(bounds[day]), int(bounds[stop])
            day = stop

    def write_source(
        self,
        contract: SourceContract,
        expr: dict[str, str],
        export_day: np.ndarray,
        rows: Callable[[int, int], Any],
        relpath: Callable[[str], str],
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """Write the files of ``contract``'s source, about BATCH_ROWS rows per DuckDB query.

        ``export_day`` is sorted, ``rows(a, b)`` is the Arrow table of rows ``a:b`` and ``expr`` the
        SQL of each contract column. ``progress`` hears of every batch when there is more than one.
        """
        fields = {name: expr[name] for name in contract.names}
        total = len(export_day)
        for days, a, b in self._day_batches(export_day):
            self._emit(rows(a, b), fields, export_day[a:b], days, relpath)
            if progress and total > BATCH_ROWS:
                progress(
                    f"writing {contract.source}: {b:,}/{total:,} rows, through {self.day_text[days.stop - 1]}"
                )

    # -- sources ------------------------------------------------------------------------------
    def write_channel(self) -> None:
        pa = self.pa
        w = self.world
        camps = w.campaigns
        ch = w.channel
        id_rank = np.argsort(np.argsort(np.array(camps.ids)))
        campaign_ids = pa.array(camps.ids, pa.string())
        campaign_names = pa.array(camps.export_names, pa.string())
        for pi, platform in enumerate(P.PLATFORMS):
            mapping = self.mappings[platform.name]
            rows = np.nonzero(ch["platform"] == pi)[0]
            rows = rows[np.lexsort((id_rank[ch["campaign"][rows]], ch["day"][rows], ch["export_day"][rows]))]
            camp = ch["campaign"][rows]
            table = pa.table(
                {
                    "date": pa.array(w.cal.dates[ch["day"][rows]]),
                    "campaign_id": campaign_ids.take(pa.array(camp)),
                    "campaign_name": campaign_names.take(pa.array(camp)),
                    "impressions": pa.array(ch["impressions"][rows]),
                    "clicks": pa.array(ch["clicks"][rows]),
                    "spend": pa.array(ch["spend"][rows]),
                    "currency": self.dictionary(list(P.CURRENCIES), camps.currency[camp]),
                }
            )
            spend = "money_thousands(spend)" if platform.thousands_separator else "money(spend)"
            expr = {
                "date": f"strftime(date, {literal(mapping.date_format)})",
                "platform": literal(platform.name),
                "campaign_id": "csvq(campaign_id)",
                "campaign_name": "csvq(campaign_name)",
                "impressions": "impressions::VARCHAR",
                "clicks": "clicks::VARCHAR",
                "spend": f"csvq({spend})",
                "currency": "currency::VARCHAR",
            }
            self._emit(
                table,
                {native: expr[canonical] for native, canonical in mapping.columns.items()},
                ch["export_day"][rows],
                range(w.cal.n_days),
                lambda day, name=platform.name: f"channel/{day}/{name}.csv",
            )

    def write_crm(self) -> None:
        pa = self.pa
        import pyarrow.compute as pc

        w = self.world
        c = w.contacts
        r = w.crm_rows
        v = w.vocab
        # emails per contact (PII; a few capitalised the way people type them)
        domains = [d for d, _ in P.EMAIL_DOMAINS]

        def pick(values: list[str] | tuple[str, ...], codes: np.ndarray) -> Any:
            return pa.array(list(values)).take(pa.array(codes))

        cap = pa.array(c["email_capitalised"])
        first = pc.if_else(cap, pick([n.capitalize() for n in P.FIRST_NAMES], c["email_first"]),
                           pick(P.FIRST_NAMES, c["email_first"]))  # fmt: skip
        last = pc.if_else(cap, pick([n.capitalize() for n in P.LAST_NAMES], c["email_last"]),
                          pick(P.LAST_NAMES, c["email_last"]))  # fmt: skip
        domain = pc.if_else(cap, pick([d.capitalize() for d in domains], c["email_domain"]),
                            pick(domains, c["email_domain"]))  # fmt: skip
        local = pc.binary_join_element_wise(first, last, ".")
        local = pc.binary_join_element_wise(local, pc.cast(pa.array(c["email_suffix"]), pa.string()), "")
        emails = pc.binary_join_element_wise(local, domain, "@")

        def rows(a: int, b: int) -> Any:
            contact = r["contact"][a:b]
            deleted = r["is_deleted"][a:b]
            email = pc.if_else(
                pa.array(deleted), pa.scalar(None, pa.string()), emails.take(pa.array(contact))
            )
            return pa.table(
                {
                    "num": pa.array(c["num"][contact]),
                    "email": email,
                    "created": pa.array(c["created"][contact]),
                    "updated": pa.array(r["updated"][a:b]),
                    "stage": self.dictionary(v["stage"].values, r["stage"][a:b]),
                    "utm_source": self.dictionary(v["utm_source"].values, c["utm_source"][contact]),
                    "utm_medium": self.dictionary(v["utm_medium"].values, c["utm_medium"][contact]),
                    "utm_campaign": self.dictionary(v["utm_campaign"].values, c["utm_campaign"][contact]),
                    "country": self.dictionary(v["country"].values, c["country"][contact]),
                    "is_deleted": pa.array(deleted),
                }
            )

        self.write_source(CRM, CRM_FIELDS, r["export_day"], rows, lambda day: f"crm/{day}/contacts.csv")

    def write_orders(self, progress: Callable[[str], None]) -> None:
        pa = self.pa
        w = self.world
        r = w.order_rows
        o = w.orders
        offset_seconds = np.array([P.ORDER_OFFSET_MINUTES[cur] * 60 for cur in P.CURRENCIES], dtype=np.int64)
        offset_text = [_offset_text(P.ORDER_OFFSET_MINUTES[cur]) for cur in P.CURRENCIES]

        def rows(a: int, b: int) -> Any:
            order = r["order"][a:b]
            currency = o["currency"][order]
            contact = o["contact"][order]
            return pa.table(
                {
                    "num": pa.array(o["num"][order]),
                    "contact": pa.array(contact + 1, mask=contact < 0),
                    "created": pa.array(o["created"][order]),
                    "updated": pa.array(r["updated"][a:b].astype(np.int64)),
                    "off": pa.array(offset_seconds[currency]),
                    "off_text": self.dictionary(offset_text, currency),
                    "status": self.dictionary(w.vocab["status"].values, r["status"][a:b]),
                    "currency": self.dictionary(list(P.CURRENCIES), currency),
                    "gross": pa.array(o["gross"][order]),
                    "discount": pa.array(o["discount"][order]),
                    "refund": pa.array(r["refund"][a:b]),
                }
            )

        self.write_source(
            ORDERS, ORDERS_FIELDS, r["export_day"], rows, lambda day: f"orders/{day}/orders.csv", progress
        )

    def write_fx(self) -> None:
        pa = self.pa
        w = self.world
        order = np.argsort(np.array(P.CURRENCIES))
        n, k = w.cal.n_days, len(order)
        export_day = np.repeat(np.arange(n), k)
        table = pa.table(
            {
                "date": pa.array(w.cal.dates[export_day]),
                "currency": self.dictionary(list(P.CURRENCIES), np.tile(order, n)),
                "usd_rate": pa.array(w.fx[np.tile(order, n), export_day]),
            }
        )
        self.write_source(
            FX, FX_FIELDS, export_day, lambda a, b: table.slice(a, b - a), lambda day: f"fx/{day}/rates.csv"
        )

    def write_all(self, progress: Callable[[str], None]) -> dict[str, int]:
        self.write_channel()
        self.write_fx()
        progress(f"wrote channel and fx: {len(self.files):,} files")
        self.write_crm()
        progress(f"wrote crm: {len(self.files):,} files")
        self.write_orders(progress)
        write_messages(self)
        write_costs(self)
        progress(f"wrote orders: {len(self.files):,} files, {self.bytes_written / 1e6:,.1f} MB in total")
        self.con.close()
        return self.files
