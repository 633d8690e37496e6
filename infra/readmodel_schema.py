"""The read models' tables, in SQL that SQLite and PostgreSQL both take.

Times are ISO strings in the business time zone (for display); order comes from global log
positions, never from those strings. Money is a Decimal string. Bump `SCHEMA_VERSION` whenever a
table or what a view computes changes: the views are derived data, so every install then drops
them and rebuilds them from the log on its next start.
"""

from __future__ import annotations

SCHEMA_VERSION = 7
TRACKING_TABLE = "proj_tracking"

METRICS = ("sales", "returns", "taxes", "collected")
_SIDES = ("moka", "jurnal")
_METRIC_COLUMNS = ", ".join(f"{side}_{m} TEXT NOT NULL" for side in _SIDES for m in METRICS)
# Kept per sale so that listing the sales behind a difference does no arithmetic.
_DIFFERENCE_COLUMNS = ", ".join(f"difference_{m} TEXT NOT NULL" for m in METRICS)

_TABLES = {
    "proj_runs": """
        run_id TEXT PRIMARY KEY,
        setting_id TEXT NOT NULL,
        seq BIGINT NOT NULL,
        kind TEXT NOT NULL,
        method TEXT NOT NULL,
        status TEXT,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        summary TEXT NOT NULL,
        error_count INTEGER NOT NULL,
        error TEXT,
        closed INTEGER NOT NULL,
        rolling INTEGER NOT NULL""",
    "proj_run_docs": """
        run_id TEXT NOT NULL,
        doc_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        posted INTEGER NOT NULL,
        position BIGINT NOT NULL,
        resolves BIGINT NOT NULL,
        moka_reference TEXT NOT NULL,
        custom_id TEXT,
        error_class TEXT,
        message TEXT,
        PRIMARY KEY (run_id, doc_key)""",
    "proj_live_pulled": """
        setting_id TEXT NOT NULL,
        position BIGINT NOT NULL,
        PRIMARY KEY (setting_id, position)""",
    "proj_open_errors": """
        setting_id TEXT NOT NULL,
        doc_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        error_class TEXT NOT NULL,
        cause TEXT NOT NULL,
        message TEXT NOT NULL,
        moka_reference TEXT NOT NULL,
        custom_id TEXT,
        retryable INTEGER NOT NULL,
        position BIGINT NOT NULL,
        resolves BIGINT NOT NULL,
        run_id TEXT,
        failed_at TEXT NOT NULL,
        PRIMARY KEY (setting_id, doc_key)""",
    "proj_settings": """
        setting_id TEXT PRIMARY KEY,
        company_id TEXT NOT NULL,
        name TEXT NOT NULL,
        tag TEXT,
        warehouse TEXT,
        payment_tags TEXT NOT NULL,
        deleted INTEGER NOT NULL,
        master_last_sync_at TEXT,
        master_last_status TEXT,
        master_last_success_at TEXT,
        tx_last_sync_at TEXT,
        tx_last_status TEXT,
        tx_last_success_at TEXT""",
    "proj_recon_positions": """
        setting_id TEXT NOT NULL,
        position BIGINT NOT NULL,
        sale_id TEXT NOT NULL,
        PRIMARY KEY (setting_id, position)""",
    "proj_recon_parts": """
        setting_id TEXT NOT NULL,
        side TEXT NOT NULL,
        part_key TEXT NOT NULL,
        source_key TEXT NOT NULL,
        sale_id TEXT NOT NULL,
        reference TEXT NOT NULL,
        business_date TEXT NOT NULL,
        sales TEXT NOT NULL,
        returns TEXT NOT NULL,
        taxes TEXT NOT NULL,
        collected TEXT NOT NULL,
        PRIMARY KEY (setting_id, side, part_key)""",
    "proj_recon_sales": f"""
        setting_id TEXT NOT NULL,
        sale_id TEXT NOT NULL,
        business_date TEXT NOT NULL,
        reference TEXT NOT NULL,
        {_METRIC_COLUMNS},
        {_DIFFERENCE_COLUMNS},
        differs INTEGER NOT NULL,
        PRIMARY KEY (setting_id, sale_id, business_date)""",
    # The sales whose two sides differ, each as its entry in the reconciliation answer (JSON
    # text), keyed in the order a day lists them: a month of differences is then read from a
    # few adjacent pages and joined, not gathered from across every sale's row and dumped.
    "proj_recon_listed": """
        setting_id TEXT NOT NULL,
        business_date TEXT NOT NULL,
        reference TEXT NOT NULL,
        sale_id TEXT NOT NULL,
        listing TEXT NOT NULL,
        PRIMARY KEY (setting_id, business_date, reference, sale_id)""",
    "proj_recon_modes": """
        setting_id TEXT PRIMARY KEY,
        first_mode TEXT NOT NULL,
        changes TEXT NOT NULL""",
    "proj_recon_days": f"""
        setting_id TEXT NOT NULL,
        business_date TEXT NOT NULL,
        {_METRIC_COLUMNS},
        differing INTEGER NOT NULL,
        PRIMARY KEY (setting_id, business_date)""",
}

_INDEXES = (
    "proj_runs_by_setting ON proj_runs (setting_id, seq)",
    "proj_run_docs_errors ON proj_run_docs (run_id, posted, position)",
    "proj_open_errors_by_cause ON proj_open_errors"
    " (setting_id, error_class, cause, kind, position)",
    "proj_recon_parts_by_source ON proj_recon_parts (setting_id, side, source_key)",
)

TABLES = tuple(_TABLES)


def create_statements() -> list[str]:
    # BIGINT has INTEGER affinity in SQLite; PostgreSQL's INTEGER would be too small.
    statements = [
        f"CREATE TABLE IF NOT EXISTS {TRACKING_TABLE} ("
        "name TEXT PRIMARY KEY, position BIGINT NOT NULL, version INTEGER NOT NULL)"
    ]
    statements += [f"CREATE TABLE IF NOT EXISTS {name} ({cols})" for name, cols in _TABLES.items()]
    statements += [f"CREATE INDEX IF NOT EXISTS {index}" for index in _INDEXES]
    return statements
